"""``interpersonal backup FILE``: a consistent copy of the configured database (see ``operations.backup``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from interpersonal.web.operations import backup
from interpersonal.web.operations.files import private_files


class Command(BaseCommand):
    help = "Back up the database to FILE: SQLite's online backup API (safe while the server runs) or pg_dump (custom format)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="where to write the backup; refused if it exists unless --force")
        parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
        parser.add_argument("--database", default="default", help="the database alias (default: default)")

    @private_files()
    def handle(self, *args: Any, **options: Any) -> None:
        report = backup.backup(options["file"], force=options["force"], alias=options["database"])
        self.stdout.write("\n".join(report.lines("Backed up")))
