"""``manage.py research_export --out DIR [--max-shift-days N]``: the pseudonymised research
export (interpersonal.web.privacy.export; docs/privacy.md). Needs INTERPERSONAL_PSEUDONYM_KEY.
Audited as ``research.exported``."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from interpersonal.web.operations.files import private_files
from interpersonal.web.privacy.export import DEFAULT_MAX_SHIFT_DAYS, export


class Command(BaseCommand):
    help = "Write the pseudonymised research export (identifiers hashed, dates shifted, free text dropped)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, type=Path, help="Directory to write (created if missing).")
        parser.add_argument("--max-shift-days", type=int, default=DEFAULT_MAX_SHIFT_DAYS,
                            help="Dates move by a per-patient offset of 1..N days either way (default 30).")

    @private_files()
    def handle(self, *args, out: Path, max_shift_days: int, **options) -> None:
        key = getattr(settings, "INTERPERSONAL_PSEUDONYM_KEY", "")
        if not key:
            raise CommandError("INTERPERSONAL_PSEUDONYM_KEY is not set: the export needs a secret key "
                               "(e.g. python -c 'import secrets; print(secrets.token_hex(32))'), kept apart from the data.")
        if max_shift_days < 1:
            raise CommandError("--max-shift-days must be at least 1")
        counts = export(out, key=key, max_shift_days=max_shift_days)
        self.stdout.write(f"Wrote {', '.join(f'{n} {name}' for name, n in counts.items())} to {out}")
