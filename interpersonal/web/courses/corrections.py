"""The only writers of corrections to a course's sessions (atomic, validated, audited).

A recorded session can be corrected (its date and time, attendance code, medium, duration,
notes) or deleted as entered in error, by the course's therapist only, always with a reason.
The values before each correction are kept (:class:`~interpersonal.web.courses.models.SessionCorrection`)
and shown on the course page; a deleted session keeps its row (``entered_in_error_at``), out of
every count (the default manager, the caseload's and the summaries' SQL leave it out). Each
correction is checked against the version the clinician saw: a stale one is refused, never
silently overwrites. Whether each session is treatment, and the referral's outcome summary,
follow the correction (``set_treatment``, ``outcomes.summaries.refresh``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from interpersonal.core.codes import Attendance, Medium
from interpersonal.web import bounds
from interpersonal.web.audit import log
from interpersonal.web.courses.actions import _check_session_time, _require_clinician, set_treatment
from interpersonal.web.courses.models import ATTENDED, Course, SessionCorrection, TherapySession
from interpersonal.web.outcomes import summaries as outcome_summaries

SESSION_FIELDS = ("scheduled_at", "attendance", "duration_minutes", "medium", "notes", "home_practice")
"""What a correction of a session may change (and what its history keeps)."""

STALE = ("This {what} was changed (or deleted) after you opened it: nothing was saved. "
         "Reload the course page to see the record as it is now, then correct it again if it is still wrong.")


def clean_reason(reason: Any) -> str:
    """The reason for a correction: required, at most :data:`bounds.REASON` characters."""
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise ValidationError({"reason": "Say why the record is being corrected (a reason is required)."})
    if len(reason) > bounds.REASON:
        raise ValidationError({"reason": f"Keep the reason under {bounds.REASON} characters."})
    if "\x00" in reason:  # as Django's form fields refuse it: PostgreSQL cannot store it
        raise ValidationError({"reason": "Null characters are not allowed."})
    return reason


def as_json(value: Any) -> Any:
    """A field's value as the history keeps it (JSON): times in ISO 8601, UTC."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _values(session: TherapySession) -> dict[str, Any]:
    return {f: getattr(session, f) for f in SESSION_FIELDS}


def _locked(session: TherapySession, by: Any, expected_version: int) -> tuple[TherapySession, Course]:
    course = session.course
    if course is None:
        raise ValidationError("This is an assessment contact of the referral, not a session of a course.")
    _require_clinician(by, course)
    locked = TherapySession.all_rows.select_for_update().get(pk=session.pk)
    if locked.entered_in_error_at is not None or locked.version != expected_version:
        raise ValidationError(STALE.format(what="session"))
    return locked, course


def _has_measures(session: TherapySession) -> bool:
    from interpersonal.web.assessments.models import Measurement

    return Measurement.objects.filter(session=session).exists()


@transaction.atomic
def correct_session(
    *, session: TherapySession, by: Any, expected_version: int, reason: str,
    scheduled_at: dt.datetime, attendance: int | None, duration_minutes: int | None, medium: str,
    notes: str = "", home_practice: str = "",
) -> TherapySession:
    """Correct a recorded session; the earlier values are kept with who, when and why."""
    locked, course = _locked(session, by, expected_version)
    reason = clean_reason(reason)
    if attendance is not None and attendance not in {a.value for a in Attendance}:
        raise ValidationError({"attendance": "Choose an NHS Talking Therapies attendance code."})
    if medium not in {m.value for m in Medium}:
        raise ValidationError({"medium": "Choose face to face, telephone or video."})
    low, high = bounds.SESSION_MINUTES
    if duration_minutes is not None and not low <= duration_minutes <= high:
        raise ValidationError({"duration_minutes": f"Give a duration between {low} and {high} minutes."})
    for name, text in (("notes", notes), ("home_practice", home_practice)):
        if len(text or "") > bounds.NOTE:
            raise ValidationError({name: f"Keep it under {bounds.NOTE} characters."})
        if "\x00" in (text or ""):
            raise ValidationError({name: "Null characters are not allowed."})
    _check_session_time(course, scheduled_at, attendance)
    if course.ended_on is not None and timezone.localdate(scheduled_at) > course.ended_on:
        raise ValidationError({"scheduled_at": f"The course ended on {course.ended_on:%d %b %Y}; a session of it "
                                               "cannot be later."})
    if attendance not in ATTENDED and _has_measures(locked):
        raise ValidationError({"attendance": "Measures were recorded at this session, so the patient attended it. "
                                             "Correct or delete those measures first, or choose code 5 or 6."})
    before = _values(locked)
    after = {"scheduled_at": scheduled_at, "attendance": attendance, "duration_minutes": duration_minutes,
             "medium": medium, "notes": (notes or "").strip(), "home_practice": (home_practice or "").strip()}
    changed = [f for f in SESSION_FIELDS if after[f] != before[f]]
    if not changed:
        raise ValidationError("Nothing was changed: correct a value, or cancel.")
    now = timezone.now()
    SessionCorrection.objects.create(
        session=locked, kind=SessionCorrection.Kind.CORRECTED, previous={f: as_json(before[f]) for f in SESSION_FIELDS},
        reason=reason, version=locked.version, by=by, at=now,
    )
    TherapySession.all_rows.filter(pk=locked.pk).update(version=locked.version + 1, **{f: after[f] for f in changed})
    set_treatment(course)
    log.record("session.corrected", actor=by, target=locked, patient_id=course.patient_id, course_id=course.pk,
               changed=changed, version=locked.version + 1)
    outcome_summaries.refresh(locked.referral_id)
    session.refresh_from_db()
    return session


@transaction.atomic
def delete_session(*, session: TherapySession, by: Any, expected_version: int, reason: str) -> TherapySession:
    """Delete a session as entered in error: it leaves every count and stays in the history.
    Refused while measures recorded at it stand (delete or move those first: a risk answer must
    never disappear with its session)."""
    locked, course = _locked(session, by, expected_version)
    reason = clean_reason(reason)
    if _has_measures(locked):
        raise ValidationError("Measures were recorded at this session: correct or delete them first, then delete "
                              "the session.")
    now = timezone.now()
    SessionCorrection.objects.create(
        session=locked, kind=SessionCorrection.Kind.ENTERED_IN_ERROR,
        previous={f: as_json(v) for f, v in _values(locked).items()}, reason=reason, version=locked.version,
        by=by, at=now,
    )
    TherapySession.all_rows.filter(pk=locked.pk).update(version=locked.version + 1, entered_in_error_at=now)
    set_treatment(course)
    log.record("session.deleted", actor=by, target=locked, patient_id=course.patient_id, course_id=course.pk,
               version=locked.version + 1)
    outcome_summaries.refresh(locked.referral_id)
    session.refresh_from_db()
    return session
