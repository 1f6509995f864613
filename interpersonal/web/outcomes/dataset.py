"""The database as an outcomes :class:`Dataset`: pseudonymous, three frames, no per-row queries.

- **referrals**: one row per course. ``referral_id`` "C{course.pk}", ``patient_id``
  "P{patient.pk}" (pseudonymous: never a name, NHS number, date of birth or local id),
  ``provider`` (the therapist's team, or the service's name), ``therapist_id`` "T{pk}",
  ``therapy`` (protocol id), ``referral_date``, ``end_date`` and ``end_code`` (the NHS end
  code). Stepping up or down has no end code (the referral continues on another step), so
  such courses have ``end_code`` None; so do active courses.
- **contacts**: every session with an attendance code; ``contact_date`` in the service's
  time zone; every session of a course is a treatment contact.
- **scores**: every measurement with a total; ``score_date`` (recorded_at) as local time.

``since``/``until`` only narrow what is loaded (courses that may fall in the period: not
ended before ``since``, not started after ``until``); the precise period rules are the
core's (``service.report(..., since=, until=)``), so the CLI and the dashboard agree.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from interpersonal.core.codes import EndReason
from interpersonal.core.outcomes.dataset import Dataset
from interpersonal.web.assessments.models import Measurement
from interpersonal.web.courses.models import Course, TherapySession

REFERRALS_SCHEMA = {
    "referral_id": pl.String, "patient_id": pl.String, "provider": pl.String, "therapist_id": pl.String,
    "therapy": pl.String, "referral_date": pl.Date, "end_date": pl.Date, "end_code": pl.Int64,
}
CONTACTS_SCHEMA = {"referral_id": pl.String, "contact_date": pl.Date, "attendance_code": pl.Int64, "is_treatment": pl.Boolean}
SCORES_SCHEMA = {"referral_id": pl.String, "measure": pl.String, "score_date": pl.Datetime("us"), "score": pl.Float64}


def _end_code(reason: str) -> int | None:
    return EndReason(reason).nhs_code if reason else None


def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def _local_time(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment).replace(tzinfo=None)


def from_database(*, since: dt.date | None = None, until: dt.date | None = None) -> Dataset:
    """Every course (narrowed to those that may fall in ``since``–``until``) as a Dataset."""
    courses = Course.objects.all()
    if since is not None:
        courses = courses.filter(Q(ended_on__isnull=True) | Q(ended_on__gte=since))
    if until is not None:
        courses = courses.filter(started_on__lte=until)
    service_name = settings.INTERPERSONAL_SERVICE_NAME
    rows = courses.order_by("pk").values_list(
        "pk", "patient_id", "therapist__team__name", "therapist_id", "protocol", "referral__received_on",
        "ended_on", "end_reason",
    )
    referrals = pl.DataFrame(
        [(f"C{pk}", f"P{patient}", team or service_name, f"T{therapist}", protocol, referred, ended, _end_code(reason))
         for pk, patient, team, therapist, protocol, referred, ended, reason in rows],
        schema=REFERRALS_SCHEMA, orient="row",
    )
    sessions = (TherapySession.objects.filter(course__in=courses, attendance__isnull=False)
                .order_by("course_id", "scheduled_at", "pk").values_list("course_id", "scheduled_at", "attendance"))
    contacts = pl.DataFrame(
        [(f"C{course}", _local_date(at), code, True) for course, at, code in sessions],
        schema=CONTACTS_SCHEMA, orient="row",
    )
    measurements = (Measurement.objects.filter(course__in=courses, total__isnull=False)
                    .order_by("course_id", "recorded_at", "pk").values_list("course_id", "instrument", "recorded_at", "total"))
    scores = pl.DataFrame(
        [(f"C{course}", instrument, _local_time(at), float(total)) for course, instrument, at, total in measurements],
        schema=SCORES_SCHEMA, orient="row",
    )
    return Dataset.from_frames(referrals=referrals, contacts=contacts, scores=scores)


def providers() -> list[str]:
    """The provider names a referral can carry (for the dashboard's filter)."""
    teams = Course.objects.exclude(therapist__team__isnull=True).values_list("therapist__team__name", flat=True)
    return sorted({*teams, settings.INTERPERSONAL_SERVICE_NAME})


def therapists() -> list[str]:
    """Pseudonymous ids of every therapist with a course, in id order."""
    return [f"T{pk}" for pk in Course.objects.order_by("therapist_id").values_list("therapist_id", flat=True).distinct()]
