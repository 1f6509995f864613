"""The only writers of the diary: bookings, their changes, follow-ups and the calendar feed.

Keyword-only, ``by=`` the actor, atomic, validated (``ValidationError`` with field names), audited.
Concurrent edits never silently overwrite: each change of a booking names the time the clinician
saw (``expected_at``) and is refused if the booking was moved or recorded meanwhile.

Attendance codes (NHS Talking Therapies data set; DOMAIN.md §4, interpersonal.core.codes): 2
cancelled by, or on behalf of, the patient; 4 cancelled or postponed by the provider; 3 did not
attend; 5 attended on time; 6 arrived late but seen; 7 arrived late and could not be seen.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from interpersonal.core.codes import Attendance, Medium
from interpersonal.web import bounds
from interpersonal.web.audit import log
from interpersonal.web.courses import actions as course_actions
from interpersonal.web.courses.models import ROOM_MAX, Course, DiaryFeed, FollowUp, TherapySession
from interpersonal.web.outcomes import summaries as outcome_summaries
from interpersonal.web.questionnaires.tokens import hash_token, new_token

SERIES_MAX = 52
"""At most a year of weekly appointments in one series."""
INTERVAL_DAYS = (1, 28)
"""From daily to four-weekly (maintenance IPT is monthly: book it one at a time or every 28 days)."""
DEFAULT_MINUTES = 50
"""An appointment's length when none is given (a therapy hour)."""
CANCELLED = (Attendance.CANCELLED_BY_PATIENT.value, Attendance.CANCELLED_BY_PROVIDER.value)
"""A cancelled appointment frees its slot."""
NOT_HELD = (*CANCELLED, Attendance.DID_NOT_ATTEND.value, Attendance.ARRIVED_LATE_NOT_SEEN.value)
"""Appointments at which no session took place (they do not take a session number)."""
MARKS = (Attendance.ATTENDED_ON_TIME.value, Attendance.ATTENDED_LATE.value, Attendance.DID_NOT_ATTEND.value,
         Attendance.ARRIVED_LATE_NOT_SEEN.value)
"""What the diary marks on a booked appointment that has happened."""
FOLLOW_UP_REASON = {Attendance.DID_NOT_ATTEND.value: FollowUp.Reason.DID_NOT_ATTEND,
                    Attendance.ARRIVED_LATE_NOT_SEEN.value: FollowUp.Reason.LATE_NOT_SEEN}
CHANGED = ("This appointment was changed while you were on this page (moved, cancelled or recorded). "
           "Nothing was saved: reload the diary and try again.")


def local_time(day: dt.date, at: dt.time) -> dt.datetime:
    """``day`` at wall-clock ``at`` in the service's time zone; ValidationError if that time does
    not exist that day (the clocks go forward), never a silently shifted appointment."""
    zone = timezone.get_current_timezone()
    aware = timezone.make_aware(dt.datetime.combine(day, at), zone)
    back = aware.astimezone(dt.UTC).astimezone(zone)  # through UTC: astimezone to its own zone is a no-op
    if (back.date(), back.time()) != (day, at):
        raise ValidationError({"time": f"{at:%H:%M} does not exist on {day:%d %b %Y} (the clocks go forward): "
                                       "choose another time."})
    return aware


def series_times(first_day: dt.date, at: dt.time, *, count: int, every_days: int) -> list[dt.datetime]:
    """The start of each appointment of a series at the same wall-clock time (across a change of
    the clocks); refuses, rather than skips, a time that does not exist on one of the days."""
    if not 1 <= count <= SERIES_MAX:
        raise ValidationError({"count": f"Book between 1 and {SERIES_MAX} appointments at once."})
    if not INTERVAL_DAYS[0] <= every_days <= INTERVAL_DAYS[1]:
        raise ValidationError({"every_days": f"Give an interval of {INTERVAL_DAYS[0]} to {INTERVAL_DAYS[1]} days."})
    return [local_time(first_day + dt.timedelta(days=every_days * i), at) for i in range(count)]


def _end(session: TherapySession) -> dt.datetime:
    return session.scheduled_at + dt.timedelta(minutes=session.duration_minutes or DEFAULT_MINUTES)


def clashes(*, therapist: Any, starts: list[dt.datetime], minutes: int, room: str = "",
            exclude: int | None = None) -> list[tuple[dt.datetime, str]]:
    """The wanted starts that overlap an appointment the therapist already holds, or one in the
    same room (any therapist), with what they clash with. Cancelled appointments free their slot."""
    if not starts:
        return []
    span = dt.timedelta(minutes=bounds.SESSION_MINUTES[1])
    near = Q(course__therapist=therapist)
    if room:
        near |= Q(room__iexact=room)
    existing = list(TherapySession.objects.filter(near, scheduled_at__gt=min(starts) - span,
                                                  scheduled_at__lt=max(starts) + span)
                    .exclude(attendance__in=CANCELLED).exclude(pk=exclude)
                    .select_related("course").order_by("scheduled_at"))
    found = []
    for start in starts:
        end = start + dt.timedelta(minutes=minutes)
        for s in existing:
            if s.scheduled_at < end and start < _end(s):
                mine = s.course is not None and s.course.therapist_id == getattr(therapist, "pk", None)
                what = "another of your appointments" if mine else f"a booking of {s.room}"
                found.append((start, f"{timezone.localtime(start):%a %d %b %Y %H:%M} clashes with {what} at "
                                     f"{timezone.localtime(s.scheduled_at):%H:%M}"))
                break
    return found


def _clean_room(room: str) -> str:
    room = " ".join((room or "").split())
    if len(room) > ROOM_MAX:
        raise ValidationError({"room": f"Give the room in at most {ROOM_MAX} characters."})
    return room


def _check_minutes(minutes: int | None) -> int:
    minutes = DEFAULT_MINUTES if minutes is None else minutes
    low, high = bounds.SESSION_MINUTES
    if not low <= minutes <= high:
        raise ValidationError({"duration_minutes": f"Give a duration between {low} and {high} minutes."})
    return minutes


@transaction.atomic
def book_series(
    *, course: Course, by: Any, first_day: dt.date, at: dt.time, count: int, every_days: int = 7,
    duration_minutes: int | None = None, medium: str = Medium.FACE_TO_FACE.value, room: str = "",
) -> list[TherapySession]:
    """Book ``count`` appointments of ``course``, every ``every_days`` days from ``first_day`` at
    ``at`` (service time). All or nothing: if any one is outside the course's dates, more than a
    year ahead, at a time the clocks skip, or clashes with the therapist's diary or the room's,
    nothing is booked and the error names every such date."""
    course_actions._require_clinician(by, course)
    locked = Course.objects.select_for_update().get(pk=course.pk)
    course_actions._require_active(locked)
    minutes = _check_minutes(duration_minutes)
    room = _clean_room(room)
    if medium not in {m.value for m in Medium}:
        raise ValidationError({"medium": "Choose face to face, telephone or video."})
    starts = series_times(first_day, at, count=count, every_days=every_days)
    if starts[0] < timezone.now():
        raise ValidationError({"first_day": "The first appointment must be in the future."})
    for start in starts:
        course_actions._check_session_time(locked, start, None)
    found = clashes(therapist=locked.therapist, starts=starts, minutes=minutes, room=room)
    if found:
        raise ValidationError({"first_day": [msg for _, msg in found]
                               + ["Nothing was booked: change the day, time or room, or book fewer appointments."]})
    created = TherapySession.objects.bulk_create([
        TherapySession(referral_id=locked.referral_id, course=locked, scheduled_at=start, attendance=None,
                       duration_minutes=minutes, medium=medium, room=room, recorded_by=by)
        for start in starts
    ])
    course_actions.set_treatment(locked)
    ids = list(TherapySession.objects.filter(course=locked, scheduled_at__in=starts, attendance__isnull=True)
               .order_by("scheduled_at").values_list("pk", flat=True))
    log.record("diary.series_booked", actor=by, target=locked, patient_id=locked.patient_id, course_id=locked.pk,
               session_ids=ids, count=len(created), every_days=every_days)
    outcome_summaries.refresh(locked.referral_id)
    return list(TherapySession.objects.filter(pk__in=ids).order_by("scheduled_at"))


def _lock_booking(session: TherapySession, by: Any, expected_at: dt.datetime) -> tuple[TherapySession, Course]:
    """The booked appointment, locked, as the clinician saw it; ValidationError otherwise."""
    if session.course_id is None:
        raise ValidationError("This is an assessment contact of the referral, not an appointment of a course.")
    # The course first, then the row: the order courses.actions.record_session locks them in.
    course = Course.objects.select_for_update().select_related("therapist").get(pk=session.course_id)
    course_actions._require_clinician(by, course)
    course_actions._require_active(course)
    locked = TherapySession.objects.select_for_update().get(pk=session.pk)
    if locked.course_id != course.pk or locked.attendance is not None or locked.scheduled_at != expected_at:
        raise ValidationError(CHANGED)
    return locked, course


@transaction.atomic
def reschedule(*, session: TherapySession, by: Any, to: dt.datetime, expected_at: dt.datetime,
               room: str | None = None) -> TherapySession:
    """Move a booked appointment to ``to`` (and, if given, another room). Any questionnaire link
    already sent for it stays with it: the answers belong to this appointment, wherever it moves."""
    locked, course = _lock_booking(session, by, expected_at)
    new_room = locked.room if room is None else _clean_room(room)
    if to < timezone.now():
        raise ValidationError({"scheduled_at": "Move an appointment to a time ahead, or record what happened."})
    course_actions._check_session_time(course, to, None)
    found = clashes(therapist=course.therapist, starts=[to], minutes=locked.duration_minutes or DEFAULT_MINUTES,
                    room=new_room, exclude=locked.pk)
    if found:
        raise ValidationError({"scheduled_at": [msg for _, msg in found]})
    TherapySession.objects.filter(pk=locked.pk).update(scheduled_at=to, room=new_room, version=F("version") + 1)
    course_actions.set_treatment(course)
    locked.refresh_from_db()
    log.record("diary.rescheduled", actor=by, target=locked, patient_id=course.patient_id, course_id=course.pk,
               old=expected_at.isoformat(), new=to.isoformat(), room_changed=new_room != session.room)
    outcome_summaries.refresh(locked.referral_id)
    return locked


@transaction.atomic
def cancel(*, session: TherapySession, by: Any, code: int, expected_at: dt.datetime) -> TherapySession:
    """Cancel a booked appointment: code 2 (by, or on behalf of, the patient) or 4 (by the
    service). The row stays, with its code, as the data set counts it; the slot is freed."""
    if code not in CANCELLED:
        raise ValidationError({"code": "Choose who cancelled: the patient (code 2) or the service (code 4)."})
    locked, course = _lock_booking(session, by, expected_at)
    TherapySession.objects.filter(pk=locked.pk).update(attendance=code, recorded_by=by, version=F("version") + 1)
    course_actions.set_treatment(course)
    locked.refresh_from_db()
    log.record("diary.cancelled", actor=by, target=locked, patient_id=course.patient_id, course_id=course.pk,
               attendance=code)
    outcome_summaries.refresh(locked.referral_id)
    return locked


@transaction.atomic
def mark(*, session: TherapySession, by: Any, code: int, expected_at: dt.datetime,
         duration_minutes: int | None = None) -> TherapySession:
    """Mark what happened at a booked appointment that has passed: 5 or 6 (seen), 3 (did not
    attend) or 7 (late, not seen). A 3 or 7 opens a follow-up task for the therapist."""
    if code not in MARKS:
        raise ValidationError({"code": "Choose attended (5 or 6), did not attend (3) or late and not seen (7)."})
    locked, course = _lock_booking(session, by, expected_at)
    if code in FOLLOW_UP_REASON:
        duration_minutes = None  # no session took place
    elif duration_minutes is None:
        duration_minutes = locked.duration_minutes  # as booked
    else:
        _check_minutes(duration_minutes)
    marked = course_actions.record_attendance(session=locked, attendance=code, by=by,
                                              duration_minutes=duration_minutes)
    if code in FOLLOW_UP_REASON:
        follow_up = FollowUp.objects.create(course=course, session=marked, therapist=course.therapist,
                                            reason=FOLLOW_UP_REASON[code])
        log.record("diary.follow_up_opened", actor=by, target=follow_up, patient_id=course.patient_id,
                   course_id=course.pk, session_id=marked.pk, reason=follow_up.reason)
    return marked


@transaction.atomic
def complete_follow_up(*, follow_up: FollowUp, by: Any) -> FollowUp:
    """The therapist has followed up the missed appointment (contacted the patient, rebooked or
    decided the next step; what was said goes in a note, not here)."""
    locked = FollowUp.objects.select_for_update(of=("self",)).select_related("course").get(pk=follow_up.pk)
    course_actions._require_clinician(by, locked.course)
    if locked.done_at is not None:
        raise ValidationError("This follow-up was already marked done.")
    FollowUp.objects.filter(pk=locked.pk).update(done_at=timezone.now(), done_by=by)
    locked.refresh_from_db()
    log.record("diary.follow_up_done", actor=by, target=locked, patient_id=locked.course.patient_id,
               course_id=locked.course_id, session_id=locked.session_id)
    return locked


@transaction.atomic
def new_feed_key(*, by: Any) -> str:
    """A new private key for ``by``'s calendar feed (the old one stops working). The key is
    returned once, to show in the URL; only its hash is kept."""
    course_actions._require_clinician(by)
    key = new_token()
    DiaryFeed.objects.filter(therapist=by).delete()
    feed = DiaryFeed.objects.create(therapist=by, key_hash=hash_token(key))
    log.record("diary.feed_key_issued", actor=by, target=feed)
    return key


@transaction.atomic
def revoke_feed(*, by: Any) -> bool:
    """Stop ``by``'s calendar feed; whether there was one."""
    deleted = DiaryFeed.objects.filter(therapist=by).delete()[0] > 0
    if deleted:
        log.record("diary.feed_revoked", actor=by, target=("user", by.pk))
    return deleted
