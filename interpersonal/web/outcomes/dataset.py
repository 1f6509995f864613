"""The database as an outcomes :class:`Dataset`, one row per REFERRAL: pseudonymous, no per-row queries.

- **referrals**: one row per referral. ``referral_id`` "R{referral.pk}", ``patient_id`` "P{patient.pk}"
  (pseudonymous: never a name, NHS number, date of birth or local id), ``provider`` (the team of
  the therapist of its last course, or the service's name), ``therapist_id`` "T{pk}" of its last
  course, ``therapy`` placed by :func:`interpersonal.web.outcomes.summaries.placed` (the therapy of
  its last course with at least 2 attended treatment contacts, else of its last course; empty before
  any course), ``referral_date`` (received), ``end_date`` and ``end_code`` (the NHS end code of the
  whole pathway: stepping up continues the referral, so a stepped-up course does not end it).
  With the patient's NHS Talking Therapies data set characteristics as recorded now (empty: not
  recorded): ``gender_identity``, ``ethnic_category``, ``preferred_language``,
  ``interpreter_required``, ``disability_codes`` (``;``-joined) and ``employment_status``.
- **courses** (the core data set's optional table): ``course_id`` "C{pk}", ``referral_id``,
  ``therapy``, ``step``, ``start_date``, ``end_date``, ``end_code`` (None for a step up or down).
- **contacts**: every contact with an attendance code, ``course_id`` (None for an assessment or
  screening contact), ``contact_date`` in the service's time zone, ``is_treatment`` =
  ``TherapySession.treatment``.
- **scores**: every measurement with a total, screening scores (no course) included;
  ``course_id``; ``score_date`` (recorded_at) as local time.

``since``/``until`` only narrow what is loaded (referrals that may fall in the period: not ended
before ``since``, not received after ``until``); the precise period rules are the core's
(``service.report(..., since=, until=)``), so the CLI, an export and the dashboard agree.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections import defaultdict
from typing import Any

import polars as pl
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from interpersonal.core import protocols
from interpersonal.core.codes import EndReason
from interpersonal.core.outcomes.dataset import Dataset
from interpersonal.web.assessments.models import Measurement
from interpersonal.web.courses.models import Course, TherapySession
from interpersonal.web.outcomes import summaries
from interpersonal.web.referrals.models import Referral

REFERRALS_SCHEMA = {
    "referral_id": pl.String, "patient_id": pl.String, "provider": pl.String, "therapist_id": pl.String,
    "therapy": pl.String, "referral_date": pl.Date, "end_date": pl.Date, "end_code": pl.Int64,
    # The patient's data set characteristics as recorded now (patients.models; core.demographics).
    "gender_identity": pl.String, "ethnic_category": pl.String, "preferred_language": pl.String,
    "interpreter_required": pl.Boolean, "disability_codes": pl.String, "employment_status": pl.String,
}
PERSON = ("gender_identity", "ethnic_category", "preferred_language", "interpreter_required", "disabilities",
          "employment_status")
COURSES_SCHEMA = {"course_id": pl.String, "referral_id": pl.String, "therapy": pl.String, "step": pl.Int64,
                  "start_date": pl.Date, "end_date": pl.Date, "end_code": pl.Int64}
CONTACTS_SCHEMA = {"referral_id": pl.String, "course_id": pl.String, "contact_date": pl.Date,
                   "attendance_code": pl.Int64, "is_treatment": pl.Boolean}
SCORES_SCHEMA = {"referral_id": pl.String, "course_id": pl.String, "measure": pl.String,
                 "score_date": pl.Datetime("us"), "score": pl.Float64}


def _end_code(reason: str) -> int | None:
    return EndReason(reason).nhs_code if reason else None


def _step(protocol: str) -> int | None:
    try:
        return protocols.get(protocol).step
    except protocols.UnknownProtocol:  # an id no longer shipped, in old data
        return None


def _local_time(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment).replace(tzinfo=None)


def _id(prefix: str, pk: int | None) -> str | None:
    return None if pk is None else f"{prefix}{pk}"


def _dataset(**frames: pl.DataFrame) -> Dataset:
    """The core's Dataset; with its ``courses`` table once the core reads one (issue 13, part 1).
    Until then the core reads one placed therapy per referral, which the referrals table carries."""
    if "courses" in inspect.signature(Dataset.from_frames).parameters:
        return Dataset.from_frames(**frames)
    frames.pop("courses")
    return Dataset.from_frames(**frames)


def from_database(*, since: dt.date | None = None, until: dt.date | None = None) -> Dataset:
    """Every referral (narrowed to those that may fall in ``since``–``until``) as a Dataset."""
    referrals = Referral.objects.all()
    if since is not None:
        referrals = referrals.filter(Q(ended_on__isnull=True) | Q(ended_on__gte=since))
    if until is not None:
        referrals = referrals.filter(received_on__lte=until)
    ids = referrals.values("pk")

    course_rows = list(Course.objects.filter(referral__in=ids).order_by("referral_id", "started_on", "pk").values_list(
        "referral_id", "pk", "protocol", "therapist_id", "therapist__team__name", "started_on", "ended_on", "end_reason"))
    contact_rows = list(TherapySession.objects.filter(referral__in=ids, attendance__isnull=False)
                        .order_by("referral_id", "scheduled_at", "pk")
                        .values_list("referral_id", "course_id", "scheduled_at", "attendance", "treatment"))
    attended: dict[int, int] = defaultdict(int)
    for _referral, course, _at, code, treatment in contact_rows:
        if treatment and course is not None and code in summaries.ATTENDED_CODES:
            attended[course] += 1
    by_referral: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in course_rows:
        by_referral[row[0]].append(row)

    service_name = settings.INTERPERSONAL_SERVICE_NAME
    referral_rows = []
    for pk, patient, received, ended, reason, *person in referrals.order_by("pk").values_list(
            "pk", "patient_id", "received_on", "ended_on", "end_reason", *(f"patient__{f}" for f in PERSON)):
        courses = by_referral[pk]
        therapy, therapist = summaries.placed([(c[1], c[2], c[3]) for c in courses], attended)
        team = courses[-1][4] if courses else None
        gender, ethnic, language, interpreter, disabilities, employment = person
        referral_rows.append((f"R{pk}", f"P{patient}", team or service_name, _id("T", therapist), therapy or None,
                              received, ended, _end_code(reason), gender or None, ethnic or None, language or None,
                              interpreter, ";".join(disabilities or []) or None, employment or None))

    measurements = (Measurement.objects.filter(referral__in=ids, total__isnull=False)
                    .order_by("referral_id", "recorded_at", "pk")
                    .values_list("referral_id", "course_id", "instrument", "recorded_at", "total"))
    return _dataset(
        referrals=pl.DataFrame(referral_rows, schema=REFERRALS_SCHEMA, orient="row"),
        courses=pl.DataFrame(
            [(f"C{pk}", f"R{referral}", protocol, _step(protocol), started, ended, _end_code(reason))
             for referral, pk, protocol, _t, _team, started, ended, reason in course_rows],
            schema=COURSES_SCHEMA, orient="row"),
        contacts=pl.DataFrame(
            [(f"R{referral}", _id("C", course), timezone.localdate(at), code, treatment)
             for referral, course, at, code, treatment in contact_rows],
            schema=CONTACTS_SCHEMA, orient="row"),
        scores=pl.DataFrame(
            [(f"R{referral}", _id("C", course), instrument, _local_time(at), float(total))
             for referral, course, instrument, at, total in measurements],
            schema=SCORES_SCHEMA, orient="row"),
    )


def providers() -> list[str]:
    """The provider names a referral can carry (for the dashboard's filter): every team, and the
    service's name for referrals whose therapist has none."""
    from interpersonal.web.accounts.models import Team

    return sorted({*Team.objects.values_list("name", flat=True), settings.INTERPERSONAL_SERVICE_NAME})


def therapists() -> list[str]:
    """Pseudonymous ids of every therapist a referral is counted under, in id order."""

    return [f"T{pk}" for pk, *_ in therapist_rows()]


def therapist_rows() -> list[tuple[int, str, str, str]]:
    """(pk, first name, last name, username) of every therapist a referral is counted under, in id
    order: one semi-join from the staff table (an index probe per member of staff) rather than a
    DISTINCT over every referral's summary."""
    from django.contrib.auth import get_user_model
    from django.db.models import Exists, OuterRef

    from interpersonal.web.outcomes.models import ReferralSummary

    return list(get_user_model().objects.filter(Exists(ReferralSummary.objects.filter(therapist_id=OuterRef("pk"))))
                .order_by("pk").values_list("pk", "first_name", "last_name", "username"))
