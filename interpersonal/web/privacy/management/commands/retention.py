"""``interpersonal retention report [--limit N] [--today YYYY-MM-DD]`` lists the patients whose
retention period has lapsed; ``interpersonal retention apply --by USERNAME [--yes] [--limit N]``
erases each of them (reason ``retention_expired``, reference ``retention <date>``), one
transaction per patient, then purges operational data (interpersonal.web.privacy.retention;
docs/privacy.md "Erasure and retention"). ``apply`` exits non-zero, naming each patient it
could not erase."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from interpersonal.web.privacy import retention
from interpersonal.web.privacy.erasure import ErasureRefused, Reason, erase_patient
from interpersonal.web.privacy.lookup import records_officer
from interpersonal.web.privacy.management.commands.erase_patient import _os_user, confirm


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


class Command(BaseCommand):
    help = "Report the records past their retention period, or erase them and purge operational data."
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        report = actions.add_parser("report", help="List the patients whose retention has lapsed.")
        report.add_argument("--limit", type=_positive, help="At most N patients (oldest id first).")
        report.add_argument("--today", type=_day, help="As of this date (YYYY-MM-DD) instead of today, to plan ahead.")
        apply = actions.add_parser("apply", help="Erase those patients, then purge operational data.")
        apply.add_argument("--by", required=True, help="The username of the records officer.")
        apply.add_argument("--yes", action="store_true", help="Erase without asking.")
        apply.add_argument("--limit", type=_positive, help="Erase at most N patients in this run.")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "report":
            self.report(options.get("today") or timezone.localdate(), options.get("limit"))
        else:
            self.apply(options["by"], yes=options["yes"], limit=options.get("limit"),
                       stdin=options.get("stdin", sys.stdin))

    def _list(self, rows: list[retention.DueRecord]) -> None:
        for row in rows:
            self.stdout.write(f"  {row.local_id:<12} id {row.patient_id:<8} last contact {row.last_contact}  "
                              f"retention lapsed {row.due_on}")

    def report(self, today: dt.date, limit: int | None) -> None:
        rows = retention.due(today, limit=limit)
        self._list(rows)
        self.stdout.write(f"{len(rows)} patient{'s' if len(rows) != 1 else ''} past the retention period of "
                          f"{retention.retention_years()} years after the last contact, as of {today}.")

    def apply(self, username: str, *, yes: bool, limit: int | None, stdin: Any) -> None:
        user = records_officer(username)
        today = timezone.localdate()
        rows = retention.due(today, limit=limit)
        self._list(rows)
        if rows and not yes and not confirm(stdin, self.stdout, f"Erase these {len(rows)} records?"):
            raise CommandError("Nothing erased: confirm on a terminal, or run again with --yes.")
        erased, refused = 0, []
        for row in rows:
            try:
                erase_patient(row.patient_id, by=user, reason=Reason.RETENTION_EXPIRED, reference=f"retention {today}",
                              today=today, via="cli", os_user=_os_user())
                erased += 1
            except (ErasureRefused, PermissionDenied) as exc:
                refused.append(f"{row.local_id} (id {row.patient_id}): {exc}")
        purged = retention.purge_operational(timezone.now(), by=user)
        self.stdout.write(f"Erased {erased} of {len(rows)} records past retention. "
                          f"Purged {retention.summary(purged.items())}.")
        if refused:
            raise CommandError(f"{len(refused)} record{'s' if len(refused) > 1 else ''} not erased:\n  "
                               + "\n  ".join(refused))
