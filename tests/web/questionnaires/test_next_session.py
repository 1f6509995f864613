"""Issue 14: a questionnaire answered before a session belongs to that session, never the previous
one — also when the link was sent "for the next session" before that session was booked."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from interpersonal.web.courses.actions import record_session
from interpersonal.web.courses.summary import summarise
from interpersonal.web.questionnaires.actions import issue_link, submit
from tests.conftest import GAD7_ANSWERS

PHQ9_MILD = {str(i): 1 for i in range(1, 9)} | {"9": 0}


def attended(course, therapist, days_ago: int):
    return record_session(course=course, by=therapist, attendance=5, duration_minutes=50,
                          scheduled_at=timezone.now() - dt.timedelta(days=days_ago))


def test_a_link_sent_with_nothing_booked_is_answered_for_the_session_booked_since(dit_course, therapist):
    attended(dit_course, therapist, days_ago=7)
    link, token = issue_link(course=dit_course, instruments=["phq9", "gad7"], by=therapist)
    assert link.session is None  # nothing was booked when it was sent
    booked = record_session(course=dit_course, by=therapist, attendance=None, duration_minutes=50,
                            scheduled_at=timezone.now() + dt.timedelta(days=1))

    done = submit(token, client="test", answers={"phq9": PHQ9_MILD, "gad7": GAD7_ANSWERS})

    assert {m.session_id for m in done.measurements} == {booked.pk}
    assert done.link.session_id == booked.pk
    (series,) = [s for s in summarise(dit_course).series if s.instrument.id == "phq9"]
    assert [p.x for p in series.points] == [2]  # the coming session, the second


def test_answers_with_nothing_booked_count_towards_the_next_session_not_the_last(dit_course, therapist):
    attended(dit_course, therapist, days_ago=14)
    attended(dit_course, therapist, days_ago=7)
    _, token = issue_link(course=dit_course, instruments=["phq9"], by=therapist)

    done = submit(token, client="test", answers={"phq9": PHQ9_MILD})

    assert done.measurements[0].session_id is None
    (series,) = summarise(dit_course).series
    assert [p.x for p in series.points] == [3]  # after sessions 1 and 2: the third, never the second
