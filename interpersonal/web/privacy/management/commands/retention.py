"""Retention (interpersonal.web.privacy.retention; docs/privacy.md "Erasure and retention").

* ``interpersonal retention report --by USERNAME [--limit N] [--today YYYY-MM-DD] [--csv FILE]`` lists the
  records whose minimum retention period has lapsed, and writes them to FILE for appraisal.
* ``interpersonal retention apply --approved FILE --by USERNAME [--yes] [--limit N]`` erases the
  records the appraisal approved for destruction — those listed in FILE (a ``patient_id`` column,
  as ``report --csv`` writes it) that are still due today — with the reason ``retention_expired``
  and the reference ``retention <date>``, one transaction per record, then purges operational
  data. A due record left out of FILE is kept (the appraisal chose to keep it). It exits non-zero,
  naming each listed record it could not erase.
* ``interpersonal retention purge`` only purges operational data (safe to run from a scheduler).

The Code of Practice's periods are minimums followed by appraisal (its section 5): nothing is
destroyed just because its date has passed."""

from __future__ import annotations

import csv
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from interpersonal.web.audit import log
from interpersonal.web.operations.files import private_files
from interpersonal.web.privacy import retention
from interpersonal.web.privacy.erasure import ErasureRefused, Reason, erase_patient
from interpersonal.web.privacy.lookup import confirm, os_user, records_officer


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def _approved(path: Path) -> set[int]:
    """The patient ids of an appraised list: a CSV with a ``patient_id`` column."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "patient_id" not in reader.fieldnames:
                raise CommandError(f"{path}: no patient_id column (write the list with `retention report --csv`).")
            ids = set()
            for line, row in enumerate(reader, start=2):
                try:
                    ids.add(int(row["patient_id"]))
                except (TypeError, ValueError):
                    raise CommandError(f"{path}, line {line}: patient_id {row['patient_id']!r} is not a number.") from None
    except OSError as error:
        raise CommandError(f"{path}: {error.strerror}") from None
    return ids


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


class Command(BaseCommand):
    help = ("Report the records past their retention period (for appraisal), erase the appraised ones, "
            "or purge operational data.")
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        report = actions.add_parser("report", help="List the patients whose retention has lapsed.")
        report.add_argument("--limit", type=_positive, help="At most N patients (oldest id first).")
        report.add_argument("--today", type=_day, help="As of this date (YYYY-MM-DD) instead of today, to plan ahead.")
        report.add_argument("--csv", type=Path, help="Also write the list to this CSV file, for appraisal.")
        report.add_argument("--by", required=True, help="The username of the records officer (the list is audited).")
        apply = actions.add_parser("apply", help="Erase the appraised records, then purge operational data.")
        apply.add_argument("--approved", type=Path, required=True,
                           help="CSV with a patient_id column (from report --csv): the records approved for erasure.")
        apply.add_argument("--by", required=True, help="The username of the records officer.")
        apply.add_argument("--yes", action="store_true", help="Erase without asking.")
        apply.add_argument("--limit", type=_positive, help="Erase at most N patients in this run.")
        actions.add_parser("purge", help="Purge operational data only (no clinical record is touched).")

    @private_files()
    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "report":
            self.report(options["by"], options.get("today") or timezone.localdate(), options.get("limit"),
                        options.get("csv"))
        elif action == "purge":
            purged = retention.purge_operational(timezone.now())
            self.stdout.write(f"Purged {retention.summary(purged.items())}.")
        else:
            self.apply(options["by"], _approved(options["approved"]), yes=options["yes"], limit=options.get("limit"),
                       stdin=options.get("stdin", sys.stdin))

    def _list(self, rows: list[retention.DueRecord]) -> None:
        for row in rows:
            self.stdout.write(f"  {row.local_id:<12} id {row.patient_id:<8} last contact {row.last_contact}  "
                              f"retention lapsed {row.due_on}")

    def report(self, username: str, today: dt.date, limit: int | None, out: Path | None) -> None:
        user = records_officer(username)
        rows = retention.due(today, limit=limit)
        # The list names patients: audited like the web page's, so each patient's copy shows it.
        log.record(retention.LISTED_EVENT, actor=user, target=("user", user.pk), shown=len(rows),
                   patient_ids=[r.patient_id for r in rows], via="cli", csv=out is not None)
        self._list(rows)
        if out is not None:
            with out.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["patient_id", "local_id", "last_contact", "due_on"])
                writer.writerows([r.patient_id, r.local_id, r.last_contact, r.due_on] for r in rows)
            self.stdout.write(f"Wrote {out}: appraise it, delete the rows to keep, and pass it to "
                              "`retention apply --approved`.")
        self.stdout.write(f"{len(rows)} patient{'s' if len(rows) != 1 else ''} past the retention period of "
                          f"{retention.retention_years()} years after the last contact, as of {today}.")

    def apply(self, username: str, approved: set[int], *, yes: bool, limit: int | None, stdin: Any) -> None:
        user = records_officer(username)
        today = timezone.localdate()
        due = {r.patient_id: r for r in retention.due(today)}
        rows = [due[pk] for pk in sorted(approved) if pk in due][:limit]
        not_due = sorted(pk for pk in approved if pk not in due)
        self._list(rows)
        if rows and not yes and not confirm(stdin, self.stdout, f"Erase these {len(rows)} records?"):
            raise CommandError("Nothing erased: confirm on a terminal, or run again with --yes.")
        erased, refused = 0, [f"id {pk}: not past its retention period today (or already erased)" for pk in not_due]
        for row in rows:
            try:
                erase_patient(row.patient_id, by=user, reason=Reason.RETENTION_EXPIRED, reference=f"retention {today}",
                              today=today, via="cli", os_user=os_user())
                erased += 1
            except (ErasureRefused, PermissionDenied) as exc:
                refused.append(f"{row.local_id} (id {row.patient_id}): {exc}")
        purged = retention.purge_operational(timezone.now(), by=user)
        kept = len(due) - len(approved & set(due))
        self.stdout.write(f"Erased {erased} of {len(rows)} approved records past retention "
                          f"({kept} due but kept by the appraisal). Purged {retention.summary(purged.items())}.")
        if refused:
            raise CommandError(f"{len(refused)} record{'s' if len(refused) > 1 else ''} not erased:\n  "
                               + "\n  ".join(refused))
