"""The only writers of referrals (atomic, validated, audited).

A referral's status follows its pathway (docs/adr/0009-the-referral-is-the-spine-of-care.md):
received → awaiting triage; triaged to a step and therapy → waiting; its first course starts →
in treatment; stepped up → still in treatment (a new course of the same referral); ended for a
reason with an NHS end code → discharged. Courses call :func:`course_started` and
:func:`course_ended` inside their own transactions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from interpersonal.core.codes import EndReason
from interpersonal.web import bounds
from interpersonal.web.audit import log
from interpersonal.web.outcomes import summaries as outcome_summaries
from interpersonal.web.referrals.models import Referral, ReferralSource

RECEIVED_FIELDS = ("source", "received_on", "referrer", "presenting_problem", "problem_descriptor")


def clean_received(fields: dict[str, Any], *, date_of_birth: dt.date | None = None) -> dict[str, Any]:
    """Validate the details a referral is received with; a ValidationError names each field."""
    errors: dict[str, str] = {}
    out = {k: v for k, v in fields.items() if k in RECEIVED_FIELDS}
    today = timezone.localdate()
    received = out.get("received_on")
    if not isinstance(received, dt.date) or received > today:
        errors["received_on"] = "Give the date the referral was received (not in the future)."
    elif bounds.outside(bounds.PAST_CLINICAL, received):
        errors["received_on"] = bounds.PAST_CLINICAL.message
    elif date_of_birth is not None and received < date_of_birth:
        errors["received_on"] = "The referral date is before the date of birth."
    if out.get("source") not in ReferralSource.values:
        errors["source"] = f"Choose one of: {', '.join(ReferralSource.labels)}."
    for name, limit in (("referrer", 200), ("problem_descriptor", 8)):
        out[name] = (out.get(name) or "").strip()
        if len(out[name]) > limit:
            errors[name] = f"At most {limit} characters."
    out["problem_descriptor"] = out["problem_descriptor"].upper()
    out["presenting_problem"] = (out.get("presenting_problem") or "").strip()
    if len(out["presenting_problem"]) > bounds.NOTE:
        errors["presenting_problem"] = f"At most {bounds.NOTE} characters."
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def receive_referral(*, patient: Any, by: Any, therapist: Any = None, **fields: Any) -> Referral:
    """Record a referral received for ``patient``: it awaits screening and triage. A patient has
    at most one open referral (a second one received while one is open is refused: add to it)."""
    unknown = set(fields) - set(RECEIVED_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}")
    cleaned = clean_received(fields, date_of_birth=patient.date_of_birth)
    if Referral.objects.filter(patient=patient).exclude(status=Referral.Status.DISCHARGED).exists():
        raise ValidationError("This patient already has an open referral; record this one in it, or end it first.")
    try:
        with transaction.atomic():
            referral = Referral.objects.create(patient=patient, therapist=therapist, **cleaned)
    except IntegrityError:  # a second request for the same patient won the race
        raise ValidationError("This patient already has an open referral; record this one in it, or end it first.") from None
    log.record("referral.received", actor=by, target=referral, patient_id=patient.pk, source=referral.source)
    outcome_summaries.refresh(referral.pk)
    return referral


def open_referral_of(patient: Any) -> Referral | None:
    """The patient's open referral, if any (at most one: a database constraint)."""
    return Referral.objects.filter(patient=patient).exclude(status=Referral.Status.DISCHARGED).first()


def course_started(course: Any, *, by: Any) -> None:
    """A course of ``course.referral`` started: the referral is in treatment (called by
    courses.actions.start_course in its transaction)."""
    referral = Referral.objects.select_for_update().get(pk=course.referral_id)
    if not referral.is_open:
        raise ValidationError("This referral was discharged; a new course needs a new referral.")
    if referral.status == Referral.Status.IN_TREATMENT:
        return
    changes: dict[str, Any] = {"status": Referral.Status.IN_TREATMENT}
    if not referral.therapy:
        changes.update(therapy=course.protocol, step=course.definition.step)
    Referral.objects.filter(pk=referral.pk).update(version=referral.version + 1, updated_at=timezone.now(), **changes)
    log.record("referral.in_treatment", actor=by, target=referral, patient_id=referral.patient_id, course_id=course.pk)


def course_ended(course: Any, *, by: Any) -> None:
    """A course of the referral ended. Stepping up or down continues the referral (its next
    course follows); any other reason discharges it with the course's end reason and date,
    the NHS end code of the whole pathway."""
    reason = EndReason(course.end_reason)
    if not reason.ends_referral:
        return
    referral = Referral.objects.select_for_update().get(pk=course.referral_id)
    if not referral.is_open:
        return
    _discharge(referral, reason=reason, ended_on=course.ended_on, by=by, course_id=course.pk)


def _discharge(referral: Referral, *, reason: EndReason, ended_on: dt.date, by: Any, **audit: Any) -> None:
    Referral.objects.filter(pk=referral.pk).update(
        status=Referral.Status.DISCHARGED, ended_on=ended_on, end_reason=reason.value,
        version=referral.version + 1, updated_at=timezone.now(),
    )
    log.record("referral.discharged", actor=by, target=referral, patient_id=referral.patient_id,
               reason=reason.value, nhs_end_code=reason.nhs_code, **audit)
    outcome_summaries.refresh(referral.pk)


@transaction.atomic
def end_referral(*, referral: Referral, reason: str, by: Any, ended_on: dt.date | None = None,
                 expected_version: int | None = None) -> Referral:
    """Discharge an open referral that has no active course (before treatment, or after its last
    course ended for a step change that was not followed). A referral in an active course ends
    with that course (courses.actions.end_course)."""
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if not locked.is_open:
        raise ValidationError(f"This referral was already discharged on {locked.ended_on:%d %b %Y}.")
    if expected_version is not None and locked.version != expected_version:
        raise ValidationError("Someone else changed this referral after you opened it. Reload to see their changes.")
    try:
        end_reason = EndReason(reason)
        if not end_reason.ends_referral:
            raise ValueError(reason)
    except ValueError:
        raise ValidationError({"reason": "Choose an end reason: "
                                         f"{', '.join(r.label for r in EndReason if r.ends_referral)}."}) from None
    if locked.courses.filter(status="active").exists():
        raise ValidationError("This referral has an active course: end the course, and the referral ends with it.")
    ended_on = ended_on or timezone.localdate()
    if ended_on < locked.received_on or ended_on > timezone.localdate():
        raise ValidationError({"ended_on": "The end date must be between the referral date and today."})
    _discharge(locked, reason=end_reason, ended_on=ended_on, by=by)
    locked.refresh_from_db()
    return locked
