"""``interpersonal export --out DIR [--format parquet|csv] [--since DATE] [--until DATE]``.

Writes the pseudonymous outcomes data set, one row per referral (referrals, contacts, scores; see
``interpersonal.web.outcomes.dataset``) for the core's reports: ``interpersonal`` CLI and
notebooks read it back with ``interpersonal.core.outcomes.dataset.read``. No names, NHS
numbers or dates of birth leave the database this way. Audited as ``outcomes.exported``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from interpersonal.core.outcomes import dataset as core_dataset
from interpersonal.web.audit import log
from interpersonal.web.operations.files import private_files
from interpersonal.web.outcomes.dataset import from_database


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Export the pseudonymous outcomes data set (referrals, contacts, scores) to a directory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, type=Path, help="Directory to write (created if missing).")
        parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
        parser.add_argument("--since", type=_date, help="Only referrals not ended before this date.")
        parser.add_argument("--until", type=_date, help="Only referrals received by this date.")

    @private_files()
    def handle(self, *args, out: Path, format: str, since: dt.date | None, until: dt.date | None, **options) -> None:
        data = from_database(since=since, until=until)
        out.mkdir(parents=True, exist_ok=True)
        core_dataset.write(data, out, format=format)
        referrals, contacts, scores = data.collect()
        counts = {"referrals": referrals.height, "contacts": contacts.height, "scores": scores.height}
        log.record("outcomes.exported", actor=None, target=("dataset", out.name or str(out)), format=format,
                   since=since.isoformat() if since else None, until=until.isoformat() if until else None, **counts)
        self.stdout.write(f"Wrote {counts['referrals']} referrals, {counts['contacts']} contacts and "
                          f"{counts['scores']} scores ({format}) to {out}")
