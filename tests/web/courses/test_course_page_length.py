"""The course page short before its detail (issue 14), without a browser: the latest ten sessions
with "show all", the one-line summaries of the closed sections, and a correction still listed
in the history (read only when something was corrected)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from interpersonal.web.assessments.actions import record_measurement
from interpersonal.web.courses import corrections
from interpersonal.web.courses.actions import record_session
from interpersonal.web.courses.views import SESSIONS_SHOWN


def sessions(course, therapist, count: int) -> list:
    start = timezone.make_aware(dt.datetime.combine(course.started_on, dt.time(9)))
    return [record_session(course=course, by=therapist, attendance=3 if n == count - 1 else 5, duration_minutes=50,
                           scheduled_at=start + dt.timedelta(days=n)) for n in range(count)]


def test_the_latest_sessions_are_listed_and_show_all_lists_every_one(client_for, therapist, dit_course):
    sessions(dit_course, therapist, SESSIONS_SHOWN + 2)
    client = client_for(therapist)
    page = client.get(reverse("courses:detail", args=[dit_course.pk]))
    html = page.content.decode()
    assert page.context["sessions_shown"] == SESSIONS_SHOWN
    assert html.count('data-label="Attendance"') == SESSIONS_SHOWN
    assert f'<a href="?sessions=all#sessions">Show all {SESSIONS_SHOWN + 2} sessions</a>' in html
    assert f"{SESSIONS_SHOWN + 2} sessions — last " in page.context["sessions_line"]
    assert page.context["sessions_line"].endswith(", did not attend")
    assert '<details class="course-detail">' in html  # closed by default

    everything = client.get(reverse("courses:detail", args=[dit_course.pk]) + "?sessions=all")
    assert everything.content.decode().count('data-label="Attendance"') == SESSIONS_SHOWN + 2
    assert '<details class="course-detail" open>' in everything.content.decode()


def test_section_summaries_say_what_is_inside(client_for, therapist, dit_course):
    (first,) = sessions(dit_course, therapist, 2)[:1]  # the second: did not attend
    second = record_session(course=dit_course, by=therapist, attendance=5,
                            scheduled_at=first.scheduled_at + dt.timedelta(days=7))
    for s, value in ((first, 2), (second, 1)):
        record_measurement(course=dit_course, instrument="phq9", session=s, by=therapist, recorded_at=s.scheduled_at,
                           answers={str(i): value for i in range(1, 10)} | {"9": 0})
    page = client_for(therapist).get(reverse("courses:detail", args=[dit_course.pk]))
    # a single PHQ-9 per session: 16 then 8, a reliable improvement (criterion 6)
    assert page.context["outcome_line"].startswith("PHQ-9 16 → 8 (▼ reliable improvement)")
    assert "recovery needs a first and a later PHQ-9 and GAD-7" in page.context["outcome_line"]
    assert page.context["tasks_line"].startswith("Initial phase (now): 0 of ")
    assert "PHQ-9 scores (2)" in page.content.decode()


def test_a_corrected_session_stays_in_the_history(client_for, therapist, dit_course):
    (session,) = sessions(dit_course, therapist, 1)
    corrections.correct_session(session=session, by=therapist, expected_version=1, reason="Wrong length",
                                scheduled_at=session.scheduled_at, attendance=5, duration_minutes=30,
                                medium=session.medium)
    page = client_for(therapist).get(reverse("courses:detail", args=[dit_course.pk]))
    assert [c.reason for c in page.context["corrections"]] == ["Wrong length"]
