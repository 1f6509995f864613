"""``interpersonal restore FILE --yes``: replace the configured database with a backup (see
``operations.backup``), then erase again the records erased since the backup was taken (the
erasure register, ``privacy.register``; docs/privacy.md "Backups")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.operations import backup
from interpersonal.web.operations.files import private_files
from interpersonal.web.privacy import erasure, register
from interpersonal.web.privacy.management.commands.reapply_erasures import reapply_and_report


class Command(BaseCommand):
    help = (
        "Restore the database from FILE made by `backup`, replacing everything in it. Stop the server first. "
        "The file's kind (SQLite or pg_dump) must match DATABASE_URL. Records erased since the backup was taken "
        "(the erasure register, INTERPERSONAL_ERASURE_REGISTER) are erased again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="a backup made by `interpersonal backup`")
        parser.add_argument("--yes", action="store_true", help="confirm: the current database contents are replaced")
        parser.add_argument("--database", default="default", help="the database alias (default: default)")
        parser.add_argument("--current-database-unreadable", action="store_true",
                            help="restore even though the database being replaced cannot be read (lost or corrupt): "
                                 "erasures recorded only in its audit trail cannot then be carried over")

    @private_files()
    def handle(self, *args: Any, **options: Any) -> None:
        if not options["yes"]:
            raise CommandError(
                f"restore replaces everything in the configured database with {options['file']}; "
                "stop the server, take a backup of the current state if you may need it, then re-run with --yes"
            )
        alias = options["database"]
        if alias != "default":
            raise CommandError("restore erases again from the default database only; use --database default")
        self._keep_erasures_of_the_database_being_replaced(options["current_database_unreadable"])
        report = backup.restore(options["file"], alias=alias)
        self.stdout.write("\n".join(report.lines("Restored")))
        executor = MigrationExecutor(connections[alias])
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError(
                "Restored, but the backup predates this version of interpersonal, so the records erased since it "
                "was taken are NOT yet erased again. Run `interpersonal migrate`, then "
                "`interpersonal reapply_erasures` (the erasure register is "
                f"{register.location()}). Keep the server stopped until then."
            )
        reapply_and_report(self, restored_from=report.sha256)

    def _keep_erasures_of_the_database_being_replaced(self, unreadable_ok: bool) -> None:
        """Carry the erasures of the trail about to be replaced into the register (sync_register)."""
        try:
            try:
                tables = connections["default"].introspection.table_names()
                if AuditEvent._meta.db_table not in tables:
                    self.stdout.write("  The database being replaced has no audit trail (a new database): the "
                                      "erasure register alone says which records to erase again.")
                    return
                added = erasure.sync_register()
            except DatabaseError as exc:
                if not unreadable_ok:
                    raise CommandError(
                        f"Nothing was restored: the database being replaced could not be read ({exc}), so the "
                        "erasures recorded in its audit trail but missing from the erasure register could not be "
                        "carried over. If it is lost or corrupt, run again with --current-database-unreadable to "
                        "restore with the erasure register alone."
                    ) from None
                self.stderr.write(f"  The database being replaced could not be read ({exc.__class__.__name__}): the "
                                  "erasure register alone says which records to erase again.")
                return
        finally:
            connections.close_all()
        if added:
            self.stdout.write(f"  {added} erasure(s) found in the audit trail of the database being replaced were "
                              f"missing from the erasure register {register.location()}: added")
