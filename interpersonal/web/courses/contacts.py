"""The only writers of a course's non-session contacts (atomic, validated, audited).

A phone call, letter, e-mail or message, liaison with another professional, or another contact
(:class:`~interpersonal.web.courses.models.Contact`) is recorded from the course by its
therapist, corrected with a reason (the earlier values kept, a stale copy refused), or deleted
as entered in error (the row stays, out of the notes). No contact is an appointment: none
touches the sessions, their treatment flags or the outcome summaries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from interpersonal.web import bounds
from interpersonal.web.audit import log
from interpersonal.web.courses.actions import CLOCK_SKEW, _require_active, _require_clinician
from interpersonal.web.courses.corrections import STALE, as_json, clean_reason
from interpersonal.web.courses.models import CONTACT_WITH_MAX, Contact, ContactCorrection, Course

CONTACT_FIELDS = ("kind", "at", "duration_minutes", "with_whom", "note")
"""What a correction of a contact may change (and what its history keeps)."""


def _clean(course: Course, *, kind: Any, at: Any, duration_minutes: Any, with_whom: Any, note: Any) -> dict[str, Any]:
    """The contact's values, checked; a ValidationError naming the field otherwise."""
    if kind not in Contact.Kind.values:
        raise ValidationError({"kind": "Choose the kind of contact: phone call, letter, e-mail or message, liaison "
                                       "or other."})
    if not isinstance(at, dt.datetime) or timezone.is_naive(at):
        raise ValidationError({"at": "Give a date and time with a time zone."})
    if bounds.outside(bounds.PAST_CLINICAL, at) or at > timezone.now() + CLOCK_SKEW:
        raise ValidationError({"at": "A contact is recorded once it has happened: give a date from 1 January 2000 "
                                     "up to now."})
    if timezone.localdate(at) < course.started_on:
        raise ValidationError({"at": f"The course started on {course.started_on:%d %b %Y}; a contact of it cannot "
                                     "be earlier."})
    if course.ended_on is not None and timezone.localdate(at) > course.ended_on:
        raise ValidationError({"at": f"The course ended on {course.ended_on:%d %b %Y}; a contact of it cannot be "
                                     "later."})
    low, high = bounds.SESSION_MINUTES
    if duration_minutes is not None and (isinstance(duration_minutes, bool) or not isinstance(duration_minutes, int)
                                         or not low <= duration_minutes <= high):
        raise ValidationError({"duration_minutes": f"Give a duration between {low} and {high} minutes, or leave it "
                                                   "blank."})
    with_whom = (with_whom or "").strip()
    note = (note or "").strip()
    if len(with_whom) > CONTACT_WITH_MAX:
        raise ValidationError({"with_whom": f"Keep it under {CONTACT_WITH_MAX} characters."})
    if not note:
        raise ValidationError({"note": "Write what was said or done."})
    if len(note) > bounds.NOTE:
        raise ValidationError({"note": f"Keep it under {bounds.NOTE} characters."})
    for name, text in (("with_whom", with_whom), ("note", note)):
        if "\x00" in text:  # as Django's form fields refuse it: PostgreSQL cannot store it
            raise ValidationError({name: "Null characters are not allowed."})
    if kind == Contact.Kind.LIAISON and not with_whom:
        raise ValidationError({"with_whom": "Say who the liaison was with: their role and organisation (for "
                                            "example “GP, Elm Surgery” or “social worker, CMHT”)."})
    return {"kind": kind, "at": at, "duration_minutes": duration_minutes, "with_whom": with_whom, "note": note}


@transaction.atomic
def record_contact(
    *, course: Course, by: Any, kind: str, at: dt.datetime, note: str, duration_minutes: int | None = None,
    with_whom: str = "",
) -> Contact:
    """Record a non-session contact of an active course, by its therapist."""
    _require_clinician(by, course)
    locked = Course.objects.select_for_update().get(pk=course.pk)
    _require_active(locked)
    values = _clean(locked, kind=kind, at=at, duration_minutes=duration_minutes, with_whom=with_whom, note=note)
    contact = Contact.objects.create(course=locked, recorded_by=by, **values)
    log.record("contact.recorded", actor=by, target=contact, patient_id=locked.patient_id, course_id=locked.pk,
               kind=contact.kind)
    return contact


def _locked(contact: Contact, by: Any, expected_version: int) -> tuple[Contact, Course]:
    course = contact.course
    _require_clinician(by, course)
    locked = Contact.all_rows.select_for_update().get(pk=contact.pk)
    if locked.entered_in_error_at is not None or locked.version != expected_version:
        raise ValidationError(STALE.format(what="contact"))
    return locked, course


def _values(contact: Contact) -> dict[str, Any]:
    return {f: getattr(contact, f) for f in CONTACT_FIELDS}


@transaction.atomic
def correct_contact(
    *, contact: Contact, by: Any, expected_version: int, reason: str, kind: str, at: dt.datetime, note: str,
    duration_minutes: int | None = None, with_whom: str = "",
) -> Contact:
    """Correct a contact (its therapist, whether or not the course has ended: a record stays
    correctable); the earlier values are kept with who, when and why."""
    locked, course = _locked(contact, by, expected_version)
    reason = clean_reason(reason)
    after = _clean(course, kind=kind, at=at, duration_minutes=duration_minutes, with_whom=with_whom, note=note)
    before = _values(locked)
    changed = [f for f in CONTACT_FIELDS if after[f] != before[f]]
    if not changed:
        raise ValidationError("Nothing was changed: correct a value, or cancel.")
    ContactCorrection.objects.create(
        contact=locked, kind=ContactCorrection.Kind.CORRECTED, previous={f: as_json(v) for f, v in before.items()},
        reason=reason, version=locked.version, by=by, at=timezone.now(),
    )
    Contact.all_rows.filter(pk=locked.pk).update(version=locked.version + 1, **{f: after[f] for f in changed})
    log.record("contact.corrected", actor=by, target=locked, patient_id=course.patient_id, course_id=course.pk,
               changed=changed, version=locked.version + 1)
    contact.refresh_from_db()
    return contact


@transaction.atomic
def delete_contact(*, contact: Contact, by: Any, expected_version: int, reason: str) -> Contact:
    """Delete a contact as entered in error: it leaves the notes and stays in the history."""
    locked, course = _locked(contact, by, expected_version)
    reason = clean_reason(reason)
    now = timezone.now()
    ContactCorrection.objects.create(
        contact=locked, kind=ContactCorrection.Kind.ENTERED_IN_ERROR,
        previous={f: as_json(v) for f, v in _values(locked).items()}, reason=reason, version=locked.version,
        by=by, at=now,
    )
    Contact.all_rows.filter(pk=locked.pk).update(version=locked.version + 1, entered_in_error_at=now)
    log.record("contact.deleted", actor=by, target=locked, patient_id=course.patient_id, course_id=course.pk,
               version=locked.version + 1)
    contact.refresh_from_db()
    return contact
