"""The diary (issue 14): booking a series, moving, cancelling and marking appointments with the
NHS Talking Therapies attendance codes, follow-up after a missed one, the week view, the private
calendar feed, and recording a booked session completing that booking.

Attendance codes: NHS England, NHS Talking Therapies for anxiety and depression data set
(DOMAIN.md §4): 2 cancelled by the patient, 3 did not attend, 4 cancelled by the provider, 5/6
attended, 7 arrived late and not seen. iCalendar: RFC 5545 §3.1 (content lines, folding at 75
octets, CRLF) and §3.6.1 (VEVENT: UID and DTSTAMP required).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.courses import actions as course_actions
from interpersonal.web.courses.diary import actions
from interpersonal.web.courses.diary.actions import series_times
from interpersonal.web.courses.diary.ical import Event, calendar
from interpersonal.web.courses.diary.week import feed_events
from interpersonal.web.courses.models import FollowUp, TherapySession
from interpersonal.web.courses.summary import summarise
from interpersonal.web.questionnaires.actions import issue_link, submit

LONDON = ZoneInfo("Europe/London")
TEN = dt.time(10, 0)

SPRING_FORWARD = dt.date(2027, 3, 28)
"""UK clocks go forward at 01:00 GMT on the last Sunday of March (Summer Time Order 2002): 01:00–01:59
does not exist that day."""


def next_weekday(weekday: int, after: dt.date | None = None) -> dt.date:
    day = (after or timezone.localdate()) + dt.timedelta(days=1)
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def rows(course) -> list[TherapySession]:
    return list(TherapySession.objects.filter(course=course).order_by("scheduled_at", "id"))


# --- booking a series ---------------------------------------------------------------------------

def test_sixteen_weekly_appointments_keep_their_wall_clock_time_across_the_clock_change(dit_course, therapist,
                                                                                        audit_trail):
    first = next_weekday(0)  # a Monday: 16 weeks from December cross the end of March
    booked = actions.book_series(course=dit_course, by=therapist, first_day=first, at=TEN, count=16, room="Room 3")

    assert len(booked) == 16
    local = [timezone.localtime(s.scheduled_at, LONDON) for s in booked]
    assert [t.date() for t in local] == [first + dt.timedelta(weeks=i) for i in range(16)]
    assert {t.time() for t in local} == {TEN}
    assert {s.attendance for s in booked} == {None}
    assert {s.room for s in booked} == {"Room 3"}
    event = [e for e in audit_trail.new() if e.type == "diary.series_booked"]
    assert len(event) == 1
    assert event[0].data["count"] == 16
    assert "Example" not in str(event[0].data)


def test_a_series_that_clashes_names_the_date_and_books_nothing(dit_course, ipt_course, therapist):
    first = next_weekday(2)
    actions.book_series(course=ipt_course, by=therapist, first_day=first + dt.timedelta(weeks=2),
                        at=dt.time(10, 30), count=1)

    with pytest.raises(ValidationError) as exc:
        actions.book_series(course=dit_course, by=therapist, first_day=first, at=TEN, count=4)

    assert f"{first + dt.timedelta(weeks=2):%d %b %Y} 10:00 clashes" in " ".join(exc.value.messages)
    assert rows(dit_course) == []


def test_a_series_through_a_time_the_clocks_skip_is_refused_not_shifted():
    with pytest.raises(ValidationError) as exc:
        series_times(SPRING_FORWARD - dt.timedelta(weeks=1), dt.time(1, 30), count=2, every_days=7)
    assert "01:30 does not exist on 28 Mar 2027" in " ".join(exc.value.messages)


def test_a_series_across_the_clock_change_keeps_its_time():
    starts = series_times(SPRING_FORWARD - dt.timedelta(days=6), TEN, count=2, every_days=7)
    assert [s.astimezone(dt.UTC).hour for s in starts] == [10, 9]  # 10:00 GMT, then 10:00 BST


@pytest.mark.parametrize("count", [0, 53])
def test_a_series_outside_its_bounds_is_refused(dit_course, therapist, count):
    with pytest.raises(ValidationError):
        actions.book_series(course=dit_course, by=therapist, first_day=next_weekday(0), at=TEN, count=count)
    assert rows(dit_course) == []


def test_only_the_courses_therapist_books(dit_course, unrelated_therapist):
    with pytest.raises(ValidationError):
        actions.book_series(course=dit_course, by=unrelated_therapist, first_day=next_weekday(0), at=TEN, count=2)
    assert rows(dit_course) == []


# --- moving, cancelling, marking --------------------------------------------------------------

@pytest.fixture
def booked(dit_course, therapist) -> TherapySession:
    return actions.book_series(course=dit_course, by=therapist, first_day=next_weekday(1), at=TEN, count=1)[0]


@pytest.fixture
def booked_yesterday(dit_course, therapist) -> TherapySession:
    """A booking that has passed (booked when it was ahead; here through the course's booking action)."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    at = timezone.make_aware(dt.datetime.combine(yesterday, TEN), LONDON)
    return course_actions.record_session(course=dit_course, by=therapist, scheduled_at=at, attendance=None)


def test_rescheduling_moves_the_booking(booked, therapist, audit_trail):
    to = booked.scheduled_at + dt.timedelta(days=2, hours=3)
    moved = actions.reschedule(session=booked, by=therapist, to=to, expected_at=booked.scheduled_at, room="Room 1")
    assert (moved.pk, moved.scheduled_at, moved.room, moved.attendance) == (booked.pk, to, "Room 1", None)
    assert "diary.rescheduled" in audit_trail.new_types()


def test_a_change_to_a_booking_moved_meanwhile_is_refused(booked, therapist):
    seen = booked.scheduled_at
    actions.reschedule(session=booked, by=therapist, to=seen + dt.timedelta(hours=2), expected_at=seen)

    with pytest.raises(ValidationError, match="changed while you were on this page"):
        actions.cancel(session=booked, by=therapist, code=2, expected_at=seen)
    booked.refresh_from_db()
    assert (booked.scheduled_at, booked.attendance) == (seen + dt.timedelta(hours=2), None)


@pytest.mark.parametrize("code", [2, 4])
def test_cancelling_records_who_cancelled_with_the_nhs_code(booked, therapist, code):
    cancelled = actions.cancel(session=booked, by=therapist, code=code, expected_at=booked.scheduled_at)
    assert cancelled.attendance == code
    assert TherapySession.objects.filter(course=booked.course).count() == 1  # kept, as the data set counts it


def test_a_cancelled_slot_can_be_booked_again(booked, therapist):
    actions.cancel(session=booked, by=therapist, code=4, expected_at=booked.scheduled_at)
    local = timezone.localtime(booked.scheduled_at)
    again = actions.book_series(course=booked.course, by=therapist, first_day=local.date(), at=local.time(), count=1)
    assert again[0].scheduled_at == booked.scheduled_at


def test_cancelling_with_an_attendance_code_is_refused(booked, therapist):
    with pytest.raises(ValidationError):
        actions.cancel(session=booked, by=therapist, code=3, expected_at=booked.scheduled_at)
    booked.refresh_from_db()
    assert booked.attendance is None


def test_a_future_booking_cannot_be_marked_attended(booked, therapist):
    with pytest.raises(ValidationError, match="has happened"):
        actions.mark(session=booked, by=therapist, code=5, expected_at=booked.scheduled_at)


def test_marking_attended_counts_the_session(booked_yesterday, therapist):
    marked = actions.mark(session=booked_yesterday, by=therapist, code=6, expected_at=booked_yesterday.scheduled_at)
    assert marked.attendance == 6
    assert marked.duration_minutes is None
    assert summarise(marked.course).attended == 1
    assert not FollowUp.objects.exists()


@pytest.mark.parametrize(("code", "reason"), [(3, FollowUp.Reason.DID_NOT_ATTEND), (7, FollowUp.Reason.LATE_NOT_SEEN)])
def test_a_missed_appointment_opens_a_follow_up_for_the_therapist(booked_yesterday, therapist, code, reason,
                                                                   audit_trail):
    actions.mark(session=booked_yesterday, by=therapist, code=code, expected_at=booked_yesterday.scheduled_at)

    follow_up = FollowUp.objects.get()
    assert (follow_up.session_id, follow_up.therapist_id, follow_up.reason, follow_up.open) == (
        booked_yesterday.pk, therapist.pk, reason, True)
    assert "diary.follow_up_opened" in audit_trail.new_types()
    actions.complete_follow_up(follow_up=follow_up, by=therapist)
    follow_up.refresh_from_db()
    assert not follow_up.open
    assert follow_up.done_by == therapist


# --- recording a booked session completes it ------------------------------------------------------

def test_recording_a_booked_session_completes_that_booking_never_a_second_row(booked_yesterday, therapist):
    at = booked_yesterday.scheduled_at + dt.timedelta(minutes=10)
    session = course_actions.record_session(course=booked_yesterday.course, by=therapist, scheduled_at=at,
                                            attendance=5, duration_minutes=50, notes="Agreed the focus.")
    assert session.pk == booked_yesterday.pk
    assert [(s.pk, s.attendance, s.scheduled_at, s.notes) for s in rows(booked_yesterday.course)] == [
        (booked_yesterday.pk, 5, at, "Agreed the focus.")]


def test_recording_on_a_day_without_a_booking_adds_the_session(booked_yesterday, therapist):
    other_day = booked_yesterday.scheduled_at - dt.timedelta(days=3)
    course_actions.record_session(course=booked_yesterday.course, by=therapist, scheduled_at=other_day, attendance=5)
    assert [s.attendance for s in rows(booked_yesterday.course)] == [5, None]


def test_the_record_session_page_completes_the_booking_it_was_opened_for(booked_yesterday, therapist, client_for):
    client = client_for(therapist)
    url = reverse("courses:record_session", args=[booked_yesterday.course_id])
    page = client.get(f"{url}?booking={booked_yesterday.pk}")
    local = timezone.localtime(booked_yesterday.scheduled_at)
    assert f'value="{local:%Y-%m-%d}"' in page.text
    assert f'value="{local:%H:%M}"' in page.text

    response = client.post(url, {"date": f"{local:%Y-%m-%d}", "time": f"{local:%H:%M}", "attendance": "5",
                                 "duration_minutes": "50", "medium": "face_to_face", "notes": "", "home_practice": ""})
    assert response.status_code == 302
    assert [(s.pk, s.attendance) for s in rows(booked_yesterday.course)] == [(booked_yesterday.pk, 5)]


# --- a questionnaire answered before a session belongs to it ---------------------------------

def test_a_questionnaire_answered_before_a_session_belongs_to_that_session(attended_session, booked, therapist):
    course = booked.course
    _, token = issue_link(course=course, instruments=["phq9"], by=None, session=booked, scheduled=True)
    submit(token, client="203.0.113.7", answers={"phq9": {str(i): 1 for i in range(1, 10)}})

    (series,) = [s for s in summarise(course).series if s.instrument.id == "phq9"]
    # One session attended (a week ago); the answers are for the next one, booked: session 2, never 1.
    assert [p.x for p in series.points] == [2]


# --- week view ------------------------------------------------------------------------------

def test_the_week_view_lists_the_therapists_appointments_and_is_audited(booked, therapist, client_for, audit_trail):
    page = client_for(therapist).get(reverse("courses:diary"), {"week": booked.scheduled_at.date().isoformat()})
    assert page.status_code == 200
    assert "Pat Example" in page.text
    assert "DIT session 1" in page.text
    viewed = [e for e in audit_trail.new() if e.type == "diary.viewed"]
    assert viewed
    assert viewed[-1].data["course_ids"] == [booked.course_id]


def test_the_room_view_shows_the_rooms_bookings(dit_course, therapist, client_for):
    day = next_weekday(3)
    actions.book_series(course=dit_course, by=therapist, first_day=day, at=TEN, count=1, room="Elm 2")
    page = client_for(therapist).get(reverse("courses:diary"), {"week": day.isoformat(), "room": "elm 2"})
    assert page.status_code == 200
    assert "Pat Example" in page.text
    empty = client_for(therapist).get(reverse("courses:diary"), {"week": day.isoformat(), "room": "Oak 1"})
    assert "Pat Example" not in empty.text
    assert "No appointments this week." in empty.text


def test_another_therapists_diary_is_not_found(booked, unrelated_therapist, therapist, client_for):
    response = client_for(unrelated_therapist).get(reverse("courses:diary"), {"therapist": therapist.pk})
    assert response.status_code == 404


def test_marking_did_not_attend_from_the_diary_shows_the_follow_up(booked_yesterday, therapist, client_for):
    client = client_for(therapist)
    url = reverse("courses:appointment", args=[booked_yesterday.course_id, booked_yesterday.pk])
    response = client.post(url, {"op": "mark", "code": "3", "expected": booked_yesterday.scheduled_at.isoformat()})
    assert response.status_code == 302
    booked_yesterday.refresh_from_db()
    assert booked_yesterday.attendance == 3
    week = client.get(response["Location"])
    assert "Follow up missed appointments" in week.text
    assert "Did not attend (code 3)" in week.text
    assert 'title="Did not attend, no advance warning given">3 · Did not attend</span>' in week.text
    assert "1 missed appointment to follow up" in client.get(reverse("courses:caseload")).text


def test_a_stale_form_changes_nothing_and_says_so(booked, therapist, client_for):
    url = reverse("courses:appointment", args=[booked.course_id, booked.pk])
    stale = (booked.scheduled_at - dt.timedelta(hours=1)).isoformat()
    response = client_for(therapist).post(url, {"op": "cancel", "code": "2", "expected": stale})
    assert response.status_code == 400
    assert "changed while you were on this page" in response.text
    booked.refresh_from_db()
    assert booked.attendance is None


def test_another_therapist_cannot_change_an_appointment(booked, unrelated_therapist, client_for):
    url = reverse("courses:appointment", args=[booked.course_id, booked.pk])
    response = client_for(unrelated_therapist).post(url, {"op": "cancel", "code": "2",
                                                          "expected": booked.scheduled_at.isoformat()})
    assert response.status_code == 404
    booked.refresh_from_db()
    assert booked.attendance is None


# --- calendar feed ----------------------------------------------------------------------------

def unfold(text: str) -> list[str]:
    """RFC 5545 §3.1: content lines end in CRLF; a line starting with a space continues the one before."""
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    physical = text[:-2].split("\r\n")
    assert all(len(line.encode("utf-8")) <= 75 for line in physical)
    logical: list[str] = []
    for line in physical:
        if line.startswith(" "):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    return logical


def parse(text: str) -> list[dict[str, str]]:
    """The VEVENTs of a calendar, each as {name: value}; checks BEGIN/END nesting."""
    stack, events = [], []
    for line in unfold(text):
        name, _, value = line.partition(":")
        assert re.fullmatch(r"[A-Z-]+", name), line
        if name == "BEGIN":
            stack.append(value)
            if value == "VEVENT":
                events.append({})
        elif name == "END":
            assert stack.pop() == value
        elif stack[-1] == "VEVENT":
            events[-1][name] = value
    assert stack == []
    return events


def test_the_calendar_text_is_valid_rfc5545_with_folding_and_escaping():
    start = dt.datetime(2027, 1, 4, 10, 0, tzinfo=dt.UTC)
    long_room = "Room 12, Elm House; second floor, the far end of the corridor past the lifts — ask at reception"
    text = calendar([Event(uid="appointment-1@interpersonal", start=start, minutes=50,
                           summary="Appointment (DIT session 4)", location=long_room)],
                    name="Appointments", now=start)
    (event,) = parse(text)
    assert event["DTSTART"] == "20270104T100000Z"
    assert event["DTEND"] == "20270104T105000Z"
    assert event["SUMMARY"] == "Appointment (DIT session 4)"
    assert event["LOCATION"] == long_room.replace(",", "\\,").replace(";", "\\;")
    assert {"UID", "DTSTAMP"} <= set(event)


def test_the_feed_names_no_patient(booked, attended_session, therapist, dit_course):
    events = feed_events(therapist)
    text = calendar(events, name="Appointments", now=timezone.now())
    patient = dit_course.patient
    for identifier in (patient.given_name, patient.family_name, str(patient.local_id), "9434765919", "943 476 5919"):
        assert identifier not in text
    assert [e["SUMMARY"] for e in parse(text)] == ["Appointment (DIT session 1)", "Appointment (DIT session 2)"]


def test_the_feed_url_is_private_and_revocable(booked, therapist, client_for, client):
    page = client_for(therapist).post(reverse("courses:diary_feed_settings"), {"op": "new"})
    url = re.search(r'value="(http[^"]+/diary/feed/[^"]+)"', page.text).group(1)
    client.logout()
    feed = client.get(url)
    assert feed.status_code == 200
    assert feed["Content-Type"].startswith("text/calendar")
    assert "Appointment (DIT session 1)" in feed.content.decode()

    client_for(therapist).post(reverse("courses:diary_feed_settings"), {"op": "new"})  # a new key
    client.logout()
    assert client.get(url).status_code == 404
    client_for(therapist).post(reverse("courses:diary_feed_settings"), {"op": "revoke"})
    client.logout()
    assert client.get(reverse("courses:diary_feed", args=["x" * 43])).status_code == 404


def test_the_feed_key_never_reaches_a_log():
    from interpersonal.web.logging import redact

    assert redact("GET /diary/feed/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd/ 200") == "GET /diary/feed/[redacted]/ 200"
