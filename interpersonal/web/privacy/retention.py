"""Retention (issue 7; docs/privacy.md "Erasure and retention").

Clinical records are kept for ``INTERPERSONAL_RETENTION_YEARS`` (default 20) after the patient's
last contact — the NHS England Records Management Code of Practice (2021, updated 2023),
retention schedule, mental health records: 20 years after the end of treatment (counted here
from the last contact), or 10 years after death (8 before the 2021 Code). This service does not
record deaths, so the 20-year rule is the only one applied; keeping a record longer than the
death rule would is the safe side. The periods are minimums followed by appraisal (the Code's
section 5): ``retention apply`` erases only the records an appraisal approved.

* :func:`last_contact` — the latest of the referral dates (received and ended), course end dates, *attended* session
  dates, measurement dates, questionnaire submissions, letters finalised and risk alerts
  acknowledged (a GP letter or a risk follow-up can come after the course ended; datetimes as
  dates in the service time zone). A booked session that has not happened, or was missed, is not a contact: counting it
  would put a future date on the record and keep it longer for an appointment never kept.
* :func:`due` — the patients whose retention has lapsed and who have no active course or open referral, computed
  in the database in one query (``NOT EXISTS`` per kind of contact, then the latest contact of the
  rows returned as correlated aggregates), so it works with millions of patients.
* :func:`purge_operational` — removes data kept only to run the service (guessing counters,
  unsent answers of dead links, sign-in logs, finished background-task results, expired
  sessions), each after its own setting; audited once as ``retention.purged``.

Erasing the due patients is :func:`interpersonal.web.privacy.erasure.erase_patient` with the
reason ``retention_expired`` (``interpersonal retention apply``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import DateField, DateTimeField, Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from interpersonal.web.assessments.models import Measurement, RiskAlert
from interpersonal.web.audit import log
from interpersonal.web.courses.models import ATTENDED, Contact, Course, TherapySession
from interpersonal.web.letters.models import Letter
from interpersonal.web.patients.models import Patient
from interpersonal.web.questionnaires.models import QuestionnaireLink, TokenAttempt
from interpersonal.web.referrals.models import Referral

DEFAULT_RETENTION_YEARS = 20
LISTED_EVENT = "records.retention_listed"
"""The audit event of every list of due records shown (web page or ``retention report``)."""


def retention_years() -> int:
    """The period in whole years. Shorter than the NHS code's 20 only when the service also sets
    ``INTERPERSONAL_RETENTION_SHORTER_THAN_NHS_CODE`` — so a typo ("2") cannot destroy records."""
    years = int(getattr(settings, "INTERPERSONAL_RETENTION_YEARS", DEFAULT_RETENTION_YEARS))
    if years < 1:
        raise ImproperlyConfigured(f"INTERPERSONAL_RETENTION_YEARS must be at least 1, not {years} "
                                   "(the NHS code of practice keeps mental health records 20 years).")
    if years < DEFAULT_RETENTION_YEARS and not getattr(settings, "INTERPERSONAL_RETENTION_SHORTER_THAN_NHS_CODE", False):
        raise ImproperlyConfigured(
            f"INTERPERSONAL_RETENTION_YEARS is {years}, shorter than the {DEFAULT_RETENTION_YEARS} years of the NHS "
            "Records Management Code for mental health records: if your service's schedule really is shorter, "
            "also set INTERPERSONAL_RETENTION_SHORTER_THAN_NHS_CODE=1.")
    return years


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` moved by whole years; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def retention_date(last: dt.date, years: int | None = None) -> dt.date:
    """The first day on which a record whose last contact was ``last`` may be erased."""
    return add_years(last, retention_years() if years is None else years)


def cutoff(today: dt.date, years: int | None = None) -> dt.date:
    """The latest last-contact date whose retention has lapsed by ``today`` (the inverse of
    :func:`retention_date`, including 29 February mapping onto 28 February)."""
    years = retention_years() if years is None else years
    latest = add_years(today, -years)
    following = latest + dt.timedelta(days=1)
    if following.month == 2 and following.day == 29 and retention_date(following, years) <= today:
        return following
    return latest


@dataclass(frozen=True, slots=True)
class DueRecord:
    patient_id: int
    local_id: str
    last_contact: dt.date
    due_on: dt.date


# The contacts, each as (model, lookup to the patient's id, date or datetime field, which rows).
CONTACTS: tuple[tuple[type[Any], str, str, Q], ...] = (
    (Referral, "patient_id", "received_on", Q()),
    (Referral, "patient_id", "ended_on", Q()),
    (Course, "patient_id", "ended_on", Q()),
    (TherapySession, "referral__patient_id", "scheduled_at", Q(attendance__in=ATTENDED)),
    (Contact, "course__patient_id", "at", Q()),  # a call, letter or liaison outside sessions
    (Measurement, "referral__patient_id", "recorded_at", Q()),
    (QuestionnaireLink, "patient_id", "submitted_at", Q()),
    (Letter, "course__patient_id", "finalised_at", Q()),
    (RiskAlert, "referral__patient_id", "acknowledged_at", Q()),
)


def _start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _as_date(value: dt.date | dt.datetime | None) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return timezone.localdate(value)
    return value


def _latest(model: type[Any], path: str, field: str, which: Q) -> Subquery:
    rows = (model.objects.filter(which, **{path: OuterRef("pk")}).order_by().values(path)
            .annotate(latest=Max(field)).values("latest"))
    output = DateTimeField() if isinstance(model._meta.get_field(field), DateTimeField) else DateField()
    return Subquery(rows, output_field=output)


def _with_contacts(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    return patients.annotate(**{f"latest_{i}": _latest(*c) for i, c in enumerate(CONTACTS)})


def _last_of(row: Any) -> dt.date:
    days = [_as_date(getattr(row, f"latest_{i}")) for i in range(len(CONTACTS))]
    return max(d for d in days if d is not None)


def last_contact(patient: Patient) -> dt.date:
    row = _with_contacts(Patient.objects.filter(pk=patient.pk)).get()
    return _last_of(row)


def due(today: dt.date, *, limit: int | None = None) -> list[DueRecord]:
    """Patients whose last contact is at least the retention period before ``today`` and who
    have no active course, oldest id first; one query whatever the number of patients."""
    if limit is not None and limit < 1:
        raise ValueError("limit must be at least 1")
    last_day = cutoff(today)
    after = _start_of_day(last_day + dt.timedelta(days=1))
    later = [
        Exists(model.objects.filter(which, **{path: OuterRef("pk")}).filter(
            **{f"{field}__gte": after if isinstance(model._meta.get_field(field), DateTimeField)
               else last_day + dt.timedelta(days=1)}))
        for model, path, field, which in CONTACTS
    ]
    active = Exists(Course.objects.filter(patient_id=OuterRef("pk"), status=Course.Status.ACTIVE)) | Exists(
        Referral.objects.filter(patient_id=OuterRef("pk")).exclude(status=Referral.Status.DISCHARGED))
    query = Exists(Referral.objects.filter(patient_id=OuterRef("pk"))) & ~active
    for exists in later:
        query &= ~exists
    rows = _with_contacts(Patient.objects.filter(query)).order_by("pk").only("pk", "local_id")
    if limit is not None:
        rows = rows[:limit]
    out = []
    for row in rows:
        last = _last_of(row)
        out.append(DueRecord(patient_id=row.pk, local_id=row.local_id, last_contact=last, due_on=retention_date(last)))
    return out


# --- Operational data ---------------------------------------------------------------------


def _delete(rows: QuerySet[Any]) -> int:
    return rows.delete()[1].get(rows.model._meta.label, 0)


def _days(name: str, default: int) -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, name, default)))


def purge_operational(now: dt.datetime, *, by: Any = None) -> dict[str, int]:
    """Delete what is kept only to run the service; the count per kind, audited once as
    ``retention.purged``. Each kind's age limit:

    ``token_attempts``   unknown-token requests older than the guessing window
                         (INTERPERSONAL_LINK_ATTEMPT_WINDOW_MINUTES): they no longer count.
    ``link_drafts``      unsent answers of links that expired or were withdrawn without being
                         submitted, INTERPERSONAL_RETENTION_LINK_DRAFT_DAYS (default 0) after
                         closing; the link row stays (its risk alerts and audit refer to it).
    ``login_attempts``, ``login_failures``, ``login_logs``  django-axes records older than
                         INTERPERSONAL_RETENTION_LOGIN_LOG_DAYS (default 90).
    ``task_results``     finished background-task results older than
                         INTERPERSONAL_RETENTION_TASK_RESULT_DAYS (default 30).
    ``sessions``         staff sessions past their expiry (INTERPERSONAL_SESSION_IDLE_MINUTES).
    """
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.sessions.models import Session
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    window = dt.timedelta(minutes=settings.INTERPERSONAL_LINK_ATTEMPT_WINDOW_MINUTES)
    closed_before = now - _days("INTERPERSONAL_RETENTION_LINK_DRAFT_DAYS", 0)
    logins_before = now - _days("INTERPERSONAL_RETENTION_LOGIN_LOG_DAYS", 90)
    tasks_before = now - _days("INTERPERSONAL_RETENTION_TASK_RESULT_DAYS", 30)
    with transaction.atomic():
        counts = {
            "token_attempts": _delete(TokenAttempt.objects.filter(at__lt=now - window)),
            "link_drafts": (
                QuestionnaireLink.objects.filter(submitted_at__isnull=True)
                .filter(Q(expires_at__lte=closed_before) | Q(withdrawn_at__lte=closed_before))
                .exclude(draft={}).update(draft={})
            ),
            "login_attempts": _delete(AccessAttempt.objects.filter(attempt_time__lt=logins_before)),
            "login_failures": _delete(AccessFailureLog.objects.filter(attempt_time__lt=logins_before)),
            "login_logs": _delete(AccessLog.objects.filter(attempt_time__lt=logins_before)),
            "task_results": _delete(DBTaskResult.objects.filter(
                status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED], finished_at__lt=tasks_before)),
            "sessions": _delete(Session.objects.filter(expire_date__lt=now)),
        }
        log.record("retention.purged", actor=by, target=("retention", now.date().isoformat()), **counts)
    return counts


def summary(counts: Iterable[tuple[str, int]]) -> str:
    return ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts)
