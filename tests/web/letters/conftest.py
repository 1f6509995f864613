"""Case material for letters: a DIT course with an agreed IPAF, four attended sessions and
PHQ-9 / GAD-7 from the first and the last (synthetic)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

PHQ9_FIRST = {"1": 3, "2": 3, "3": 2, "4": 2, "5": 2, "6": 2, "7": 2, "8": 2, "9": 0}  # 18
PHQ9_LAST = {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1, "6": 1, "7": 0, "8": 0, "9": 0}  # 6
GAD7_FIRST = {"1": 2, "2": 2, "3": 2, "4": 2, "5": 2, "6": 2, "7": 2}  # 14
GAD7_LAST = {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1, "6": 0, "7": 0}  # 5

IPAF = {
    "self_representation": "not good enough and easily dismissed",
    "other_representation": "critical and hard to please",
    "affect": "ashamed, then quietly angry",
    "defensive_function": "you withdrew and kept your needs to yourself",
    "link_to_depression": "withdrawing left you alone with the shame, and your mood sank",
}


@pytest.fixture
def ended_dit_course(dit_course, therapist):
    """``dit_course`` with an agreed IPAF, 4 attended sessions, first and last PHQ-9/GAD-7."""
    from interpersonal.web.assessments.actions import record_measurement
    from interpersonal.web.courses.actions import record_session
    from interpersonal.web.formulation.models import IpafRevision

    # The formulation's own actions are tested in tests/web/formulation; a stored revision suffices here.
    IpafRevision.objects.create(course=dit_course, number=1, agreed_with_patient=True,
                                agreed_on=timezone.localdate() - dt.timedelta(days=20), created_by=therapist, **IPAF)
    sessions = [record_session(course=dit_course, by=therapist, attendance=5, duration_minutes=50,
                               scheduled_at=timezone.now() - dt.timedelta(days=days)) for days in (28, 21, 14, 7)]
    for session, phq, gad in ((sessions[0], PHQ9_FIRST, GAD7_FIRST), (sessions[-1], PHQ9_LAST, GAD7_LAST)):
        record_measurement(course=dit_course, instrument="phq9", answers=phq, by=therapist, session=session,
                           recorded_at=session.scheduled_at)
        record_measurement(course=dit_course, instrument="gad7", answers=gad, by=therapist, session=session,
                           recorded_at=session.scheduled_at)
    dit_course.patient.gp_practice = "Example Street Surgery\nExampletown"
    dit_course.patient.save(update_fields=["gp_practice"])
    return dit_course



THERAPIST_WORDS = "I hope you keep talking to your sister every week."


@pytest.fixture
def complete(therapist):
    """Replace every [[prompt]] left by the first draft with the therapist's own words, as a
    therapist does before finalising; returns the saved letter."""
    from interpersonal.web.letters import actions

    def fill(letter, by=None):
        body = actions.PLACEHOLDER.sub(THERAPIST_WORDS, letter.body)
        return actions.edit_letter(letter=letter, by=by or therapist, expected_version=letter.version, body=body)

    return fill
