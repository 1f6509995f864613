"""The patient page reads each referral as a pathway (DOMAIN.md §6: one referral, one pathway,
possibly several steps); a re-referred patient gets a new referral; a referral with no active
course is ended from the patient page with its NHS end code."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.assessments.actions import record_measurement
from interpersonal.web.assessments.models import Measurement, RiskAlert
from interpersonal.web.courses.actions import end_course, record_session, start_course, step_up
from interpersonal.web.courses.models import TherapySession
from interpersonal.web.patients.actions import register_patient
from interpersonal.web.referrals.actions import end_referral, receive_referral
from interpersonal.web.referrals.models import Referral
from tests.conftest import PHQ9_ITEM9_ONE

pytestmark = pytest.mark.django_db

REFERRAL = {"received_on": "", "source": "gp", "referrer": "Dr Synthetic, Example Surgery", "presenting_problem": "",
            "problem_descriptor": "F32"}


def _page(client, patient) -> str:
    response = client.get(reverse("patients:detail", args=[patient.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


def _triage(referral: Referral, by, *, therapy: str, step: int) -> None:
    """What the triage step records (its action belongs to the referrals app)."""
    Referral.objects.filter(pk=referral.pk).update(therapy=therapy, step=step, status=Referral.Status.WAITING,
                                                   triaged_by=by, triaged_at=timezone.now(),
                                                   triage_reason="Moderate depression; prefers talking therapy.")


# -- the pathway -----------------------------------------------------------------------------------

def test_a_new_referral_awaits_triage_and_offers_a_course_and_an_ending(client_for, therapist, patient):
    page = _page(client_for(therapist), patient)
    referral = patient.referrals.get()

    assert f'id="referral-{referral.pk}"' in page
    assert "Awaiting screening and triage" in page
    assert "Not yet triaged" in page
    assert "Referral received (GP)" in page
    assert reverse("courses:new", args=[patient.pk]) in page
    assert reverse("patients:end_referral", args=[patient.pk, referral.pk]) in page
    assert reverse("patients:new_referral", args=[patient.pk]) not in page  # one open referral at a time


def test_stepped_care_shows_both_steps_in_the_same_referral(client_for, therapist, patient):
    lit = start_course(patient=patient, protocol="lit", therapist=therapist, by=therapist, started_on=_days_ago(40))
    dit = step_up(course=lit, protocol="dit", therapist=therapist, by=therapist)
    client = client_for(therapist)

    page = _page(client, patient)
    course_page = client.get(reverse("courses:detail", args=[dit.pk])).content.decode()

    assert "Step 2 → step 3 in the same referral" in page
    assert page.index("Step 2: Low-intensity guided self-help (LIT)") < page.index("Step 3: Dynamic Interpersonal Therapy (DIT)")
    assert "stepped up to a higher-intensity step" in page
    assert page.count("In treatment") == 1
    assert f'href="{reverse("courses:detail", args=[lit.pk])}"' in page
    assert "Step 2 → step 3 in the same referral" in course_page
    assert f'#referral-{dit.referral_id}"' in course_page
    assert "(the same referral)" in course_page


def test_screening_scores_assessment_contacts_and_their_alert_show_with_no_course(client_for, therapist, patient):
    referral = patient.referrals.get()
    at = timezone.now() - dt.timedelta(days=20)
    screening = Measurement.objects.create(referral=referral, instrument="phq9", answers={"9": 1}, total=14,
                                           severity="Moderate", complete=True, prorated=False, risk=["9"],
                                           recorded_at=at, recorded_by=therapist)
    RiskAlert.objects.create(referral=referral, measurement=screening, instrument="phq9", items=["9"], raised_at=at)
    TherapySession.objects.create(referral=referral, treatment=False, attendance=5,
                                  scheduled_at=timezone.now() - dt.timedelta(days=19))

    page = _page(client_for(therapist), patient)

    assert "Screening PHQ-9: 14 (moderate)" in page
    assert "Assessment contact: Attended on time" in page
    assert "not treatment" in page
    assert "screening, before any course" in page  # risk raised at screening is not hidden
    assert "Risk: 1 open alert" in page


def test_triage_is_shown_and_the_start_course_button_names_it(client_for, therapist, patient):
    _triage(patient.referrals.get(), therapist, therapy="ipt", step=3)

    page = _page(client_for(therapist), patient)

    assert "Step 3: Interpersonal Psychotherapy (IPT)" in page
    assert "Moderate depression; prefers talking therapy." in page
    assert "Start a course (Step 3: Interpersonal Psychotherapy (IPT))" in page


def test_another_clinicians_step_is_listed_not_linked_and_its_open_alert_shown(
    client_for, therapist, unrelated_therapist, patient,
):
    theirs = start_course(patient=patient, protocol="ipt", therapist=unrelated_therapist, by=unrelated_therapist,
                          started_on=_days_ago(20))
    session = record_session(course=theirs, by=unrelated_therapist, attendance=5,
                             scheduled_at=timezone.now() - dt.timedelta(days=7))
    record_measurement(course=theirs, instrument="phq9", answers=PHQ9_ITEM9_ONE, by=unrelated_therapist,
                       session=session, recorded_at=session.scheduled_at)

    page = _page(client_for(therapist), patient)

    assert "Step 3: Interpersonal Psychotherapy (IPT)" in page
    assert "another clinician’s course" in page
    assert reverse("courses:detail", args=[theirs.pk]) not in page
    assert "Open risk alerts" in page


def test_the_page_costs_the_same_queries_for_one_referral_as_for_four(client_for, therapist, patient):
    client = client_for(therapist)
    _page(client, patient)  # warm the catalogues
    with CaptureQueriesContext(connection) as one:
        _page(client, patient)
    for n in range(3):
        referral = patient.referrals.filter(status__in=Referral.OPEN).get()
        course = start_course(patient=patient, protocol="lit", therapist=therapist, by=therapist,
                              started_on=_days_ago(50 - n * 10))
        end_course(course=course, reason="completed", by=therapist, ended_on=_days_ago(50 - n * 10))
        assert not Referral.objects.get(pk=referral.pk).is_open
        receive_referral(patient=patient, by=therapist, therapist=therapist, received_on=_days_ago(49 - n * 10),
                         source="self")

    with CaptureQueriesContext(connection) as four:
        page = _page(client, patient)

    assert page.count('<section class="pathway') == 4
    assert len(four.captured_queries) == len(one.captured_queries)


# -- a new referral ------------------------------------------------------------------------------

def test_a_discharged_patient_is_re_referred_from_their_page(client_for, therapist, patient, audit_trail):
    first = patient.referrals.get()
    end_referral(referral=first, reason="not_suitable", by=therapist)
    client = client_for(therapist)
    assert reverse("patients:new_referral", args=[patient.pk]) in _page(client, patient)

    response = client.post(reverse("patients:new_referral", args=[patient.pk]),
                           REFERRAL | {"received_on": _days_ago(1).isoformat()})

    second = patient.referrals.exclude(pk=first.pk).get()
    assert response.status_code == 302
    assert response.url.endswith("#referrals")
    assert (second.status, second.source, second.problem_descriptor, second.therapist) == (
        "awaiting_triage", "gp", "F32", therapist)
    assert "referral.received" in audit_trail.new_types()


def test_a_second_open_referral_is_refused_and_nothing_saved(client_for, therapist, patient):
    response = client_for(therapist).post(reverse("patients:new_referral", args=[patient.pk]),
                                          REFERRAL | {"received_on": _days_ago(1).isoformat()})

    assert response.status_code == 400
    assert "already has an open referral" in response.content.decode()
    assert patient.referrals.count() == 1


def test_a_new_referral_dated_in_the_future_is_refused(client_for, therapist, patient):
    end_referral(referral=patient.referrals.get(), reason="not_assessed", by=therapist)

    response = client_for(therapist).post(reverse("patients:new_referral", args=[patient.pk]),
                                          REFERRAL | {"received_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat()})

    assert response.status_code == 400
    assert patient.referrals.count() == 1


# -- ending a referral ----------------------------------------------------------------------------

def test_a_referral_before_treatment_ends_with_a_before_treatment_code(client_for, therapist, patient, audit_trail):
    referral = patient.referrals.get()
    url = reverse("patients:end_referral", args=[patient.pk, referral.pk])
    client = client_for(therapist)
    form = client.get(url).content.decode()

    response = client.post(url, {"reason": "signposted", "ended_on": "", "version": referral.version})

    referral.refresh_from_db()
    assert 'value="signposted"' in form
    assert 'value="completed"' not in form  # no course: not a treatment ending
    assert "code 11, unconfirmed" in form
    assert response.status_code == 302
    assert (referral.status, referral.end_reason, referral.ended_on) == ("discharged", "signposted", timezone.localdate())
    assert "referral.discharged" in audit_trail.new_types()
    assert "Discharged: Not suitable for the service: signposted elsewhere" in _page(client, patient)


def test_a_referral_between_steps_may_end_as_completed(client_for, therapist, patient):
    lit = start_course(patient=patient, protocol="lit", therapist=therapist, by=therapist, started_on=_days_ago(40))
    end_course(course=lit, reason="stepped_up", by=therapist)
    referral = patient.referrals.get()
    url = reverse("patients:end_referral", args=[patient.pk, referral.pk])

    response = client_for(therapist).post(url, {"reason": "completed", "ended_on": "", "version": referral.version})

    referral.refresh_from_db()
    assert response.status_code == 302
    assert referral.end_reason == "completed"


def test_the_reason_must_be_chosen(client_for, therapist, patient):
    referral = patient.referrals.get()

    response = client_for(therapist).post(reverse("patients:end_referral", args=[patient.pk, referral.pk]),
                                          {"reason": "", "version": referral.version})

    assert response.status_code == 400
    assert "Choose why the referral ends." in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).is_open


def test_a_referral_in_an_active_course_is_not_ended_here(client_for, therapist, patient, dit_course):
    referral = patient.referrals.get()
    url = reverse("patients:end_referral", args=[patient.pk, referral.pk])
    client = client_for(therapist)

    page = _page(client, patient)
    response = client.post(url, {"reason": "declined", "version": referral.version})

    assert url not in page
    assert response.status_code == 400
    assert "active course" in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).is_open


def test_ending_from_an_out_of_date_page_is_refused(client_for, therapist, patient):
    referral = patient.referrals.get()
    Referral.objects.filter(pk=referral.pk).update(version=referral.version + 1)

    response = client_for(therapist).post(reverse("patients:end_referral", args=[patient.pk, referral.pk]),
                                          {"reason": "declined", "version": referral.version})

    assert response.status_code == 400
    assert "Someone else changed this referral" in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).is_open


def test_the_end_page_lists_the_referrals_open_alerts(client_for, therapist, patient):
    referral = patient.referrals.get()
    RiskAlert.objects.create(referral=referral, instrument="phq9", items=["9"], raised_at=timezone.now())

    page = client_for(therapist).get(reverse("patients:end_referral", args=[patient.pk, referral.pk])).content.decode()

    assert "Ending the referral does not close them" in page


def test_another_patients_referral_is_404(client_for, therapist, patient):
    other = register_patient(by=therapist, given_name="Sam", family_name="Second", date_of_birth=dt.date(1970, 1, 1),
                             received_on=_days_ago(5), source="self")

    response = client_for(therapist).get(reverse("patients:end_referral", args=[patient.pk, other.referrals.get().pk]))

    assert response.status_code == 404


@pytest.mark.parametrize("name", ["new_referral", "end_referral"])
def test_unrelated_therapist_gets_404_and_supervisor_403(client_for, unrelated_therapist, supervisor, patient, name):
    args = [patient.pk] + ([patient.referrals.get().pk] if name == "end_referral" else [])
    url = reverse(f"patients:{name}", args=args)

    assert client_for(unrelated_therapist).get(url).status_code == 404
    assert client_for(supervisor).post(url, {"reason": "declined", "version": 1}).status_code == 403
    assert patient.referrals.get().is_open


def test_the_clinician_a_referral_is_allocated_to_may_open_the_patient(client_for, therapist, unrelated_therapist, patient):
    Referral.objects.filter(patient=patient).update(therapist=unrelated_therapist)

    assert client_for(unrelated_therapist).get(reverse("patients:detail", args=[patient.pk])).status_code == 200
