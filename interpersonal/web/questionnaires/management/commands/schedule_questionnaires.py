"""``interpersonal schedule_questionnaires [--loop] [--interval 60]``: enqueue due sessions' links.

Once (for cron or a systemd timer), or in a loop beside ``interpersonal db_worker`` (``make run``).
Safe to run several at once: sending is idempotent per session (docs/adr/0006-background-work.md).

Each round also runs the audit trail's sealer (``audit.log.seal_pending``), so an event whose seal
after commit was lost — a crash, a locked database — joins the chain within a round, long before
the sealing delay runs out (docs/adr/0004-audit-events.md); and deletes generated documents past
their expiry and files no document names (``documents.actions.housekeeping``), so a subject access
copy lasts its day at a quiet service too; and deletes session recordings' media past their retention
(``fidelity.retention.expire_due``, docs/fidelity-recordings.md); and deletes expired sign-in sessions (Django's
``clearsessions``), with any letter text kept in one after an idle timeout (letters/kept.py), so no
patient's words outlive the session that kept them. A failure of one step does not stop the others.
"""

from __future__ import annotations

import signal
import threading
from importlib import import_module
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections
from django.db.utils import DatabaseError
from django.utils import timezone

from interpersonal.web.audit.log import seal_pending
from interpersonal.web.documents.actions import housekeeping
from interpersonal.web.fidelity import retention as recordings_retention
from interpersonal.web.questionnaires.schedule import Scheduler, lead_time


class Command(BaseCommand):
    help = (
        "Enqueue the questionnaire link of every booked session whose send time has come "
        "(INTERPERSONAL_REMINDER_HOURS_BEFORE before it); the db_worker sends them. "
        "Each round also seals the audit events waiting to join the hash chain, and deletes expired "
        "generated documents (letters' PDFs, subject access copies) and expired sign-in sessions. "
        "Runs once, or with --loop every --interval seconds until stopped (SIGINT/SIGTERM)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="keep running, checking every --interval seconds")
        parser.add_argument("--interval", type=int, default=60, help="seconds between checks with --loop (default %(default)s)")

    def handle(self, *args: Any, **options: Any) -> None:
        interval = options["interval"]
        if interval < 1:
            raise CommandError("--interval must be at least 1 second")
        try:
            lead = lead_time()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        scheduler = Scheduler()
        if not options["loop"]:
            if not self._round(scheduler):
                raise CommandError("schedule_questionnaires: the round did not finish; the next run tries again")
            return
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        hours = int(lead.total_seconds() // 3600)
        self.stdout.write(f"Questionnaire scheduler: sends {hours} h before each session, checks every {interval} s.")
        while not stop.is_set():
            close_old_connections()
            if not self._round(scheduler):
                self.stderr.write(f"schedule_questionnaires: retrying in {interval} s")
            stop.wait(interval)
        self.stdout.write("Questionnaire scheduler stopped.")

    def _round(self, scheduler: Scheduler) -> bool:
        """Enqueue due links, then seal waiting audit events; True when both ran. A locked or
        restarting database fails one step, which the next round tries again."""
        ok = True
        try:
            self._report(scheduler.run_once())
        except DatabaseError as exc:
            self.stderr.write(f"schedule_questionnaires: {type(exc).__name__}: {exc}")
            ok = False
        try:
            sealed = seal_pending()
        except DatabaseError as exc:
            self.stderr.write(f"schedule_questionnaires: sealing the audit trail: {type(exc).__name__}: {exc}")
            return False
        if sealed:
            self.stdout.write(f"Sealed {sealed} audit event(s) waiting to join the chain.")
        try:
            expired, orphans = housekeeping()
        except (DatabaseError, OSError) as exc:
            self.stderr.write(f"schedule_questionnaires: deleting expired documents: {type(exc).__name__}: {exc}")
            return False
        if expired or orphans:
            self.stdout.write(f"Deleted {expired} expired document(s) and {orphans} left-over file(s).")
        try:
            expired_recordings = recordings_retention.expire_due(timezone.now())
            recordings_retention.sweep_orphans()
        except (DatabaseError, OSError) as exc:
            self.stderr.write(f"schedule_questionnaires: deleting recordings past retention: {type(exc).__name__}: {exc}")
            return False
        if expired_recordings:
            self.stdout.write(f"Deleted the media of {sum(expired_recordings.values())} recording(s) past retention.")
        try:
            import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
        except DatabaseError as exc:
            self.stderr.write(f"schedule_questionnaires: deleting expired sessions: {type(exc).__name__}: {exc}")
            return False
        return ok

    def _report(self, enqueued: list[int]) -> None:
        if enqueued:
            self.stdout.write(f"Enqueued questionnaire links for {len(enqueued)} session(s).")
