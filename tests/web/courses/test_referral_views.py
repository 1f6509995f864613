"""The clinical pages read the referral: the caseload shows the referral of each course and the
patients allocated but in no course; starting a course defaults to the triaged therapy."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.assessments.models import RiskAlert
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.courses.actions import end_course, start_course
from interpersonal.web.patients.actions import register_patient
from interpersonal.web.referrals.actions import end_referral
from interpersonal.web.referrals.models import Referral

pytestmark = pytest.mark.django_db


def _register(therapist, n: int, days_ago: int = 30):
    return register_patient(by=therapist, given_name=f"Wait{n:02d}", family_name=f"Listed{n:02d}",
                            date_of_birth=dt.date(1980, 1, 1), source="gp",
                            received_on=timezone.localdate() - dt.timedelta(days=days_ago))


def _triage(referral, by, *, therapy: str, step: int) -> None:
    """What the triage step records (its action belongs to the referrals app)."""
    Referral.objects.filter(pk=referral.pk).update(therapy=therapy, step=step, status=Referral.Status.WAITING,
                                                   triaged_by=by, triaged_at=timezone.now())


# -- the caseload ------------------------------------------------------------------------------------

def test_the_caseload_lists_patients_allocated_but_not_in_a_course(client_for, therapist, patient, audit_trail):
    waiting = _register(therapist, 1, days_ago=29)
    _triage(waiting.referrals.get(), therapist, therapy="dit", step=3)

    response = client_for(therapist).get(reverse("courses:caseload"))
    page = response.content.decode()

    assert "Allocated to you, not in a course" in page
    assert "Awaiting screening and triage" in page
    assert "Waiting for treatment" in page
    assert "Step 3: Dynamic Interpersonal Therapy (DIT)" in page
    assert "4 weeks ago" in page
    assert f'{reverse("patients:detail", args=[waiting.pk])}#referral-{waiting.referrals.get().pk}' in page
    event = AuditEvent.objects.get(type="caseload.viewed")
    assert sorted(event.data["referral_ids"]) == sorted(
        [patient.referrals.get().pk, waiting.referrals.get().pk])


def test_a_patient_in_a_course_is_not_listed_as_waiting_and_the_row_shows_the_referral(client_for, therapist, dit_course):
    page = client_for(therapist).get(reverse("courses:caseload")).content.decode()

    assert "Allocated to you, not in a course" not in page
    assert "Step 3 · referral in treatment" in page


def test_a_referral_between_steps_is_listed(client_for, therapist, patient):
    lit = start_course(patient=patient, protocol="lit", therapist=therapist, by=therapist,
                       started_on=timezone.localdate() - dt.timedelta(days=30))
    end_course(course=lit, reason="stepped_up", by=therapist)

    page = client_for(therapist).get(reverse("courses:caseload")).content.decode()

    assert "between steps: no active course" in page


def test_a_discharged_referral_leaves_the_caseload(client_for, therapist, patient):
    end_referral(referral=patient.referrals.get(), reason="not_suitable", by=therapist)

    page = client_for(therapist).get(reverse("courses:caseload")).content.decode()

    assert "Allocated to you, not in a course" not in page


def test_an_open_alert_of_a_waiting_referral_puts_it_first_with_a_risk_badge(client_for, therapist, patient):
    flagged = _register(therapist, 2, days_ago=5)
    RiskAlert.objects.create(referral=flagged.referrals.get(), instrument="phq9", items=["9"], raised_at=timezone.now())

    rows = client_for(therapist).get(reverse("courses:caseload")).context["allocated"]

    assert [r.referral.patient_id for r in rows] == [flagged.pk, patient.pk]
    assert (rows[0].open_alerts, rows[1].open_alerts) == (1, 0)


def test_the_supervisor_sees_supervisees_waiting_patients_read_only(client_for, therapist, supervisor, patient):
    page = client_for(supervisor).get(reverse("courses:caseload")).content.decode()

    assert "Supervisees’ cases" in page  # grouped by supervisee (courses.supervisees)
    assert "1 referral not in a course" in page
    assert "Example, Pat" in page


def test_an_unrelated_therapist_does_not_see_them(client_for, unrelated_therapist, patient):
    page = client_for(unrelated_therapist).get(reverse("courses:caseload")).content.decode()

    assert "Example, Pat" not in page


def test_allocated_rows_cost_the_same_queries_for_5_as_for_20(client_for, therapist):
    client = client_for(therapist)
    for n in range(5):
        _register(therapist, n)
    client.get(reverse("courses:caseload"))
    with CaptureQueriesContext(connection) as five:
        assert len(client.get(reverse("courses:caseload")).context["allocated"]) == 5
    for n in range(5, 20):
        _register(therapist, n)
    with CaptureQueriesContext(connection) as twenty:
        assert len(client.get(reverse("courses:caseload")).context["allocated"]) == 20

    assert len(twenty.captured_queries) == len(five.captured_queries)


# -- starting a course from the referral --------------------------------------------------------------

def test_starting_a_course_defaults_to_the_triaged_therapy_and_says_so(client_for, therapist, patient):
    _triage(patient.referrals.get(), therapist, therapy="ipt", step=3)

    page = client_for(therapist).get(reverse("courses:new", args=[patient.pk])).content.decode()

    assert '<option value="ipt" selected>' in page
    assert "the one this referral was triaged to: Interpersonal Psychotherapy (IPT) (step 3)" in page


def test_without_triage_the_protocol_is_chosen_never_preselected(client_for, therapist, patient):
    client = client_for(therapist)

    page = client.get(reverse("courses:new", args=[patient.pk])).content.decode()
    response = client.post(reverse("courses:new", args=[patient.pk]), {"protocol": ""})

    assert '<option value="" selected>Choose…</option>' in page
    assert "Not yet triaged" in page
    assert response.status_code == 400
    assert "Choose the course&#x27;s protocol." in response.content.decode()
    assert not patient.courses.exists()


def test_a_patient_with_no_open_referral_is_asked_for_one_first(client_for, therapist, patient):
    end_referral(referral=patient.referrals.get(), reason="not_assessed", by=therapist)
    client = client_for(therapist)

    page = client.get(reverse("courses:new", args=[patient.pk])).content.decode()
    response = client.post(reverse("courses:new", args=[patient.pk]), {"protocol": "dit"})

    assert "has no open referral" in page
    assert reverse("patients:new_referral", args=[patient.pk]) in page
    assert response.status_code == 400
    assert not patient.courses.exists()


def test_the_course_starts_in_the_open_referral(client_for, therapist, patient):
    referral = patient.referrals.get()

    client_for(therapist).post(reverse("courses:new", args=[patient.pk]), {"protocol": "dit"})

    course = patient.courses.get()
    referral.refresh_from_db()
    assert course.referral_id == referral.pk
    assert referral.status == Referral.Status.IN_TREATMENT


def test_the_step_up_page_says_it_stays_in_the_same_referral(client_for, therapist, patient):
    lit = start_course(patient=patient, protocol="lit", therapist=therapist, by=therapist,
                       started_on=timezone.localdate() - dt.timedelta(days=30))
    client = client_for(therapist)

    course_page = client.get(reverse("courses:detail", args=[lit.pk])).content.decode()
    step_up_page = client.get(reverse("courses:step_up", args=[lit.pk])).content.decode()

    assert "Step 2 → step 3 in the same referral" in course_page
    assert "Step 2 → step 3 in the same referral" in step_up_page


def test_after_a_step_up_the_next_course_is_not_defaulted_back_to_the_first_step(client_for, therapist, patient):
    _triage(patient.referrals.get(), therapist, therapy="lit", step=2)
    lit = start_course(patient=patient, protocol="lit", therapist=therapist, by=therapist,
                       started_on=timezone.localdate() - dt.timedelta(days=30))
    end_course(course=lit, reason="stepped_up", by=therapist)

    page = client_for(therapist).get(reverse("courses:new", args=[patient.pk])).content.decode()

    assert '<option value="" selected>Choose…</option>' in page
    assert "Earlier steps" in page
