"""``interpersonal restore FILE --yes``: replace the configured database with a backup (see ``operations.backup``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from interpersonal.web.operations import backup
from interpersonal.web.operations.files import private_files


class Command(BaseCommand):
    help = (
        "Restore the database from FILE made by `backup`, replacing everything in it. Stop the server first. "
        "The file's kind (SQLite or pg_dump) must match DATABASE_URL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="a backup made by `interpersonal backup`")
        parser.add_argument("--yes", action="store_true", help="confirm: the current database contents are replaced")
        parser.add_argument("--database", default="default", help="the database alias (default: default)")

    @private_files()
    def handle(self, *args: Any, **options: Any) -> None:
        if not options["yes"]:
            raise CommandError(
                f"restore replaces everything in the configured database with {options['file']}; "
                "stop the server, take a backup of the current state if you may need it, then re-run with --yes"
            )
        report = backup.restore(options["file"], alias=options["database"])
        self.stdout.write("\n".join(report.lines("Restored")))
        self.stdout.write(
            "  django_migrations table present; run `interpersonal migrate` if this backup predates the code"
        )
