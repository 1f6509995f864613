"""A supervisor's caseload grouped by supervisee and filtered to one (courses.supervisees): the
filter only narrows what courses.access already lets the supervisor read."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.courses.actions import start_course
from interpersonal.web.patients.actions import register_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_supervisee(make_user, supervisor):
    """Another of ``supervisor``'s therapists, with an active course of her own."""
    vera = make_user("vera.second", "therapist", first_name="Vera", last_name="Second", supervisor=supervisor)
    patient = register_patient(by=vera, given_name="Quill", family_name="Vantage", date_of_birth=dt.date(1970, 2, 3),
                               received_on=timezone.localdate() - dt.timedelta(days=30), source="gp")
    start_course(patient=patient, protocol="ipt", therapist=vera, by=vera,
                 started_on=timezone.localdate() - dt.timedelta(days=10))
    return vera


def groups_of(response):
    return [(g.therapist.display_name if g.therapist else None, [r.family_name for r in g.rows])
            for g in response.context["groups"]]


def test_the_supervisor_sees_each_supervisees_cases_under_their_name(
        client_for, supervisor, therapist, dit_course, risk_alert, second_supervisee, other_patient):
    response = client_for(supervisor).get(reverse("courses:caseload"))

    assert response.status_code == 200
    assert groups_of(response) == [("Vera Second", ["Vantage"]), ("Tess Therapist", ["Example"])]
    html = response.content.decode()
    assert html.count("Supervisees’ cases") == 1
    assert html.count("<h3 id=\"supervisee-") == 2
    assert "Risk: 1 open alert" in html  # the group's header carries its open alerts
    assert "Otherton" not in html  # another supervisor's supervisee's patient


def test_filtering_to_one_supervisee_shows_only_their_cases(
        client_for, supervisor, therapist, dit_course, second_supervisee):
    response = client_for(supervisor).get(reverse("courses:caseload"), {"supervisee": therapist.pk})

    assert groups_of(response) == [("Tess Therapist", ["Example"])]
    assert "Vantage" not in response.content.decode()
    assert response.context["supervisee"] == therapist


@pytest.mark.parametrize("value", ["not-a-number", "999999", ""])
def test_a_filter_that_is_not_a_supervisee_shows_them_all(client_for, supervisor, dit_course, second_supervisee, value):
    response = client_for(supervisor).get(reverse("courses:caseload"), {"supervisee": value})
    assert response.status_code == 200
    assert len(response.context["groups"]) == 2


def test_someone_elses_therapist_cannot_be_filtered_to(client_for, supervisor, dit_course, unrelated_therapist, other_patient):
    response = client_for(supervisor).get(reverse("courses:caseload"), {"supervisee": unrelated_therapist.pk})
    assert response.context["supervisee"] is None
    assert "Otherton" not in response.content.decode()


def test_a_therapist_has_no_supervisee_section(client_for, therapist, dit_course):
    response = client_for(therapist).get(reverse("courses:caseload"))
    assert response.context["groups"] == []
    assert "Supervisees’ cases" not in response.content.decode()
