"""The supervisor's dashboard (issue 15): per supervisee, open cases flagged, hours this month."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from interpersonal.web.supervision import dashboard
from interpersonal.web.supervision.actions import CaseEntry, log_session


def _card(supervisor, therapist):
    return next(c for c in dashboard.build(supervisor) if c.person == therapist)


def test_an_open_risk_alert_is_flagged(supervisor, therapist, risk_alert, dit_course):
    case = _card(supervisor, therapist).cases[0]
    assert case.course_id == dit_course.pk
    assert case.open_alerts == 1
    assert case.flagged


def test_a_case_never_supervised_for_longer_than_the_gap_is_flagged_and_logging_clears_it(
        supervisor, therapist, dit_course, settings):
    settings.INTERPERSONAL_SUPERVISION_GAP_WEEKS = 4  # dit_course started 30 days ago
    assert _card(supervisor, therapist).cases[0].unsupervised
    log_session(by=supervisor, date=timezone.localdate(), minutes=60, format="individual", supervisees=[therapist],
                cases=[CaseEntry(course=dit_course, minutes=30)])
    card = _card(supervisor, therapist)
    assert not card.cases[0].unsupervised
    assert card.minutes_this_month == 60


def test_reliable_deterioration_on_a_measure_is_flagged(supervisor, therapist, dit_course):
    """PHQ-9 reliable change is 6 points (NHS Talking Therapies Manual, 2024; the catalogue's
    definition): 5 -> 14 is a reliable deterioration."""
    from interpersonal.web.assessments.actions import record_measurement

    for total_answers, days in (([1, 1, 1, 1, 1, 0, 0, 0, 0], 20), ([2, 2, 2, 2, 2, 2, 1, 1, 0], 5)):
        record_measurement(course=dit_course, instrument="phq9", by=therapist,
                           answers={str(i + 1): v for i, v in enumerate(total_answers)},
                           recorded_at=timezone.now() - dt.timedelta(days=days))
    assert _card(supervisor, therapist).cases[0].deteriorated == ("phq9",)


def test_the_dashboard_page_queries_do_not_grow_with_cases(client_for, supervisor, therapist, dit_course,
                                                          django_assert_max_num_queries, make_user):
    client = client_for(supervisor)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("supervision:dashboard"))
    assert response.status_code == 200
    assert dit_course.patient.local_id in response.content.decode()
    assert "Fidelity below the pass mark" not in response.content.decode()  # an empty slot is not rendered


def test_slots_render_only_with_content(supervisor, therapist, dit_course):
    cards = dashboard.build(supervisor, slots={"accreditation_progress": {therapist.pk: ["2 of 4 cases"]}})
    card = next(c for c in cards if c.person == therapist)
    assert card.slots == {"accreditation_progress": ["2 of 4 cases"]}


def test_the_dashboard_is_refused_to_a_therapist(client_for, therapist):
    assert client_for(therapist).get(reverse("supervision:dashboard")).status_code == 403
