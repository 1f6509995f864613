"""Read models of the diary: the week view (per therapist or per room) and the feed's events.

One function builds each; the page and the feed render them. Appointments are read only among
the courses the user may see (courses.access.courses_visible_to): a therapist's own, and a
supervisor's supervisees'.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone

from interpersonal.core.codes import Attendance
from interpersonal.web.courses.access import courses_visible_to
from interpersonal.web.courses.diary.actions import CANCELLED, DEFAULT_MINUTES, NOT_HELD
from interpersonal.web.courses.diary.ical import Event
from interpersonal.web.courses.models import FollowUp, TherapySession

FEED_PAST = dt.timedelta(days=31)
"""How far back the calendar feed reaches (it reaches forward as far as bookings may)."""


@dataclass(frozen=True, slots=True)
class Slot:
    session: TherapySession
    number: int | None
    """The course's session number this appointment is (None for one that did not take place)."""
    own: bool
    """The user's own appointment (they may change it)."""
    follow_up: FollowUp | None = None

    @property
    def state(self) -> str:
        if self.session.attendance is None:
            return "Booked"
        return f"{self.session.attendance} · {Attendance(self.session.attendance).short}"

    @property
    def state_in_full(self) -> str:
        """The NHS data dictionary's label of the attendance code (empty while booked)."""
        return "" if self.session.attendance is None else Attendance(self.session.attendance).label

    @property
    def booked(self) -> bool:
        return self.session.attendance is None

    @property
    def past(self) -> bool:
        return self.session.scheduled_at <= timezone.now()

    @property
    def cancelled(self) -> bool:
        return self.session.attendance in CANCELLED


@dataclass(frozen=True, slots=True)
class Day:
    date: dt.date
    slots: list[Slot] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Week:
    monday: dt.date
    days: list[Day]
    therapist_id: int | None
    room: str

    @property
    def previous(self) -> dt.date:
        return self.monday - dt.timedelta(days=7)

    @property
    def next(self) -> dt.date:
        return self.monday + dt.timedelta(days=7)

    @property
    def sessions(self) -> list[TherapySession]:
        return [s.session for d in self.days for s in d.slots]


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())


def session_numbers(course_ids: Iterable[int]) -> dict[int, int]:
    """Each appointment's session number in its course: its place among the course's appointments
    that took place or are still booked (cancelled, missed and not-seen ones take no number)."""
    numbers: dict[int, int] = {}
    counters: dict[int, int] = defaultdict(int)
    rows = (TherapySession.objects.filter(course_id__in=list(course_ids)).exclude(attendance__in=NOT_HELD)
            .order_by("course_id", "scheduled_at", "id").values_list("pk", "course_id"))
    for pk, course_id in rows:
        counters[course_id] += 1
        numbers[pk] = counters[course_id]
    return numbers


def week(user: Any, *, monday: dt.date, therapist_id: int | None = None, room: str = "") -> Week:
    """The week from ``monday``: the appointments of ``therapist_id`` (default the user), or of
    every visible course in ``room``."""
    start = _midnight(monday)
    end = _midnight(monday + dt.timedelta(days=7))
    rule = Q(room__iexact=room) if room else Q(course__therapist_id=therapist_id or user.pk)
    sessions = list(TherapySession.objects.filter(rule, course__in=courses_visible_to(user),
                                                  scheduled_at__gte=start, scheduled_at__lt=end)
                    .select_related("course__patient", "course__therapist").order_by("scheduled_at", "id"))
    numbers = session_numbers({s.course_id for s in sessions if s.course_id})
    follow_ups = {f.session_id: f for f in FollowUp.objects.filter(session__in=sessions)}
    by_day: dict[dt.date, list[Slot]] = defaultdict(list)
    for s in sessions:
        by_day[timezone.localdate(s.scheduled_at)].append(
            Slot(s, numbers.get(s.pk), own=s.course is not None and s.course.therapist_id == user.pk,
                 follow_up=follow_ups.get(s.pk)))
    days = [Day(d, by_day.get(d, [])) for d in (monday + dt.timedelta(days=i) for i in range(7))]
    return Week(monday, days, None if room else (therapist_id or user.pk), room)


def open_follow_ups(user: Any) -> list[FollowUp]:
    """The user's follow-ups after missed appointments, not yet done (oldest first)."""
    return list(FollowUp.objects.filter(therapist=user, done_at__isnull=True)
                .select_related("course__patient", "session").order_by("created_at", "id"))


def feed_events(therapist: Any, *, now: dt.datetime | None = None) -> list[Event]:
    """The therapist's appointments for the feed, from a month ago on; cancelled ones left out.
    Nothing that identifies the patient: the therapy and the session number only."""
    now = now or timezone.now()
    sessions = list(TherapySession.objects.filter(course__therapist=therapist, scheduled_at__gte=now - FEED_PAST)
                    .exclude(attendance__in=CANCELLED).select_related("course").order_by("scheduled_at", "id"))
    numbers = session_numbers({s.course_id for s in sessions if s.course_id})
    events = []
    for s in sessions:
        therapy = s.course.definition.therapy.upper() if s.course is not None else "assessment"
        number = numbers.get(s.pk)
        what = f"{therapy} session {number}" if number else f"{therapy}, not seen"
        events.append(Event(uid=f"appointment-{s.pk}@interpersonal", start=s.scheduled_at,
                            minutes=s.duration_minutes or DEFAULT_MINUTES, summary=f"Appointment ({what})",
                            location=s.room))
    return events
