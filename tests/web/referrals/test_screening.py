"""Screening at referral: PHQ-9, GAD-7, WSAS and the risk question, by link or in an assessment
contact, before any course (DOMAIN.md §6: assessment and screening contacts are not treatment).

A PHQ-9 item 9 answer above 0 (or item 9 left unanswered) raises a risk alert exactly as in a
course (DOMAIN.md §3); it stays in front of the referral's clinicians — on the caseload and the
referral's page — until one of them acknowledges it with a note.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.assessments.actions import acknowledge_alert, record_measurement
from interpersonal.web.assessments.models import Measurement, RiskAlert
from interpersonal.web.courses.actions import start_course
from interpersonal.web.courses.models import TherapySession
from interpersonal.web.courses.summary import summarise
from interpersonal.web.questionnaires.actions import LinkUnavailable, find_link, issue_link, save_answers, submit
from interpersonal.web.referrals.actions import end_referral
from interpersonal.web.referrals.screening import record_assessment_contact
from web.referrals.screening_helpers import GAD7_ANSWERS, PHQ9_CLEAN_15, PHQ9_ITEM9_ONE, contact, screen

CLIENT = "203.0.113.9"


# --- assessment contacts ------------------------------------------------------------------------


def test_an_assessment_contact_has_no_course_and_is_never_treatment(referral, therapist, audit_trail):
    session = contact(referral, therapist, medium="telephone", notes="Screening call.")

    assert (session.referral_id, session.course_id, session.treatment, session.attendance) == (referral.pk, None,
                                                                                                False, 5)
    event = audit_trail.new()[-1]
    assert (event.type, event.patient_id) == ("contact.recorded", referral.patient_id)
    assert event.data == {"referral_id": referral.pk, "attendance": 5, "treatment": False}


@pytest.mark.parametrize(("change", "field"), [
    ({"attendance": 9}, "attendance"),
    ({"medium": "pigeon"}, "medium"),
    ({"duration_minutes": 0}, "duration_minutes"),
    ({"scheduled_at": timezone.now() + dt.timedelta(days=1)}, "scheduled_at"),
    ({"scheduled_at": timezone.now() - dt.timedelta(days=400)}, "scheduled_at"),  # before the referral
    ({"notes": "x" * 5001}, "notes"),
])
def test_a_bad_contact_is_refused_and_nothing_is_stored(referral, therapist, change, field):
    with pytest.raises(ValidationError) as caught:
        contact(referral, therapist, **change)

    assert field in caught.value.message_dict
    assert not TherapySession.objects.filter(referral=referral).exists()


def test_measures_at_a_contact_belong_to_the_referral_and_no_course(referral, therapist, audit_trail):
    m = screen(referral, therapist, GAD7_ANSWERS, instrument="gad7")

    assert (m.referral_id, m.course_id, m.session.course_id) == (referral.pk, None, None)
    recorded = [e for e in audit_trail.new() if e.type == "measurement.recorded"]
    assert recorded[0].data == {"referral_id": referral.pk, "instrument": "gad7", "source": "clinician"}


def test_a_measure_dated_before_the_referral_is_refused(referral, therapist):
    with pytest.raises(ValidationError, match="referral was received"):
        record_measurement(referral=referral, instrument="phq9", answers=PHQ9_CLEAN_15, by=therapist,
                           recorded_at=timezone.now() - dt.timedelta(days=30))


# --- risk at screening -----------------------------------------------------------------------------


def test_phq9_item9_at_screening_raises_a_risk_alert_as_in_a_course(referral, therapist, audit_trail):
    """DOMAIN.md §3: PHQ-9 item 9 > 0 → risk alert."""
    m = screen(referral, therapist, PHQ9_ITEM9_ONE)

    alert = m.risk_alert
    assert (alert.referral_id, alert.course_id, alert.items, alert.open) == (referral.pk, None, ["9"], True)
    raised = [e for e in audit_trail.new() if e.type == "risk_alert.raised"]
    assert raised[0].data == {"referral_id": referral.pk, "instrument": "phq9", "before_sending": False}


def test_item9_left_unanswered_at_screening_raises_an_alert_too(referral, therapist):
    """Unknown risk is not "no risk" (DOMAIN.md §3)."""
    answers = {k: v for k, v in PHQ9_CLEAN_15.items() if k != "9"}
    m = screen(referral, therapist, answers)

    assert m.risk_alert.items == ["9"]


def test_a_screening_alert_shows_on_the_allocated_clinicians_caseload_until_acknowledged(
        referral, therapist, client_for):
    alert = screen(referral, therapist, PHQ9_ITEM9_ONE).risk_alert
    client = client_for(therapist)

    shown = client.get(reverse("courses:caseload")).content.decode()
    assert "Risk alerts at screening" in shown
    assert "Nia Newcomer" in shown
    acknowledge_alert(alert=alert, by=therapist, note="Called; safety plan agreed; GP informed.")
    assert "Risk alerts at screening" not in client.get(reverse("courses:caseload")).content.decode()


def test_the_caseload_read_of_screening_alerts_is_audited(referral, therapist, client_for, audit_trail):
    screen(referral, therapist, PHQ9_ITEM9_ONE)
    audit_trail.mark()

    client_for(therapist).get(reverse("courses:caseload"))

    listed = [e for e in audit_trail.new() if e.type == "screening_alerts.listed"]
    assert listed[0].data == {"patient_ids": [referral.patient_id]}


def test_an_unallocated_referrals_screening_alert_is_on_every_triagers_caseload(
        unallocated, supervisor, make_user_other_supervisor, unrelated_therapist, client_for):
    """Nobody is allocated yet: the clinicians who triage (supervisors) all see it; a therapist
    who does not triage does not."""
    screen(unallocated, supervisor, PHQ9_ITEM9_ONE)

    for triager in (supervisor, make_user_other_supervisor):
        assert "Una Allocated" in client_for(triager).get(reverse("courses:caseload")).content.decode()
    assert "Una Allocated" not in client_for(unrelated_therapist).get(reverse("courses:caseload")).content.decode()


def test_a_screening_alert_shows_on_the_referral_page_until_acknowledged(referral, therapist, client_for):
    alert = screen(referral, therapist, PHQ9_ITEM9_ONE).risk_alert
    client = client_for(therapist)
    page = reverse("screening:referral", args=[referral.pk])

    assert "1 open" in client.get(page).content.decode()
    response = client.post(reverse("screening:acknowledge", args=[referral.pk, alert.pk]), {"note": "Assessed: no plan."})
    assert response.status_code == 302
    body = client.get(page).content.decode()
    assert "1 open" not in body
    assert "Assessed: no plan." in body


def test_acknowledging_needs_a_note_and_changes_nothing_without_one(referral, therapist, client_for):
    alert = screen(referral, therapist, PHQ9_ITEM9_ONE).risk_alert

    response = client_for(therapist).post(reverse("screening:acknowledge", args=[referral.pk, alert.pk]), {"note": ""})

    assert response.status_code == 400
    alert.refresh_from_db()
    assert alert.open


def test_the_supervisor_of_the_allocated_clinician_may_acknowledge(referral, therapist, supervisor):
    alert = screen(referral, therapist, PHQ9_ITEM9_ONE).risk_alert

    acknowledge_alert(alert=alert, by=supervisor, note="Reviewed in supervision.")

    alert.refresh_from_db()
    assert alert.acknowledged_by == supervisor


def test_an_unrelated_therapist_may_not_acknowledge_a_screening_alert(referral, therapist, unrelated_therapist):
    alert = screen(referral, therapist, PHQ9_ITEM9_ONE).risk_alert

    with pytest.raises(ValidationError, match="referral's clinicians"):
        acknowledge_alert(alert=alert, by=unrelated_therapist, note="Not mine.")
    alert.refresh_from_db()
    assert alert.open


def test_a_screening_alert_stays_with_the_allocated_clinician_after_the_course_starts(referral, therapist, client_for):
    screen(referral, therapist, PHQ9_ITEM9_ONE)
    start_course(patient=referral.patient, protocol="ipt", therapist=therapist, by=therapist)

    assert "Risk alerts at screening" in client_for(therapist).get(reverse("courses:caseload")).content.decode()


# --- who may record --------------------------------------------------------------------------------


def test_an_unrelated_therapist_may_not_record_screening(referral, unrelated_therapist):
    with pytest.raises(ValidationError, match="allocated clinician"):
        record_measurement(referral=referral, instrument="phq9", answers=PHQ9_CLEAN_15, by=unrelated_therapist)
    with pytest.raises(ValidationError, match="allocated clinician"):
        record_assessment_contact(referral=referral, by=unrelated_therapist, scheduled_at=timezone.now(), attendance=5)
    assert not Measurement.objects.filter(referral=referral).exists()


@pytest.mark.parametrize("persona", ["service_lead", "clinic_admin", "records_officer"])
def test_roles_without_a_caseload_may_not_record_screening(request, referral, persona):
    with pytest.raises(ValidationError):
        record_measurement(referral=referral, instrument="phq9", answers=PHQ9_CLEAN_15,
                           by=request.getfixturevalue(persona))


def test_a_clinician_who_triages_may_screen_an_unallocated_referral(unallocated, supervisor):
    m = screen(unallocated, supervisor, PHQ9_CLEAN_15)

    assert m.recorded_by == supervisor


def test_once_in_treatment_a_measure_belongs_in_the_course(referral, therapist):
    start_course(patient=referral.patient, protocol="ipt", therapist=therapist, by=therapist)

    with pytest.raises(ValidationError, match="in treatment"):
        record_measurement(referral=referral, instrument="phq9", answers=PHQ9_CLEAN_15, by=therapist)


def test_nothing_is_recorded_in_a_discharged_referral(referral, therapist):
    end_referral(referral=referral, reason="not_assessed", by=therapist)

    with pytest.raises(ValidationError, match="discharged"):
        record_measurement(referral=referral, instrument="phq9", answers=PHQ9_CLEAN_15, by=therapist)


def test_a_measure_needs_a_course_or_a_referral(therapist):
    with pytest.raises(ValidationError, match="course or"):
        record_measurement(instrument="phq9", answers=PHQ9_CLEAN_15, by=therapist)


def test_a_contact_of_another_referral_is_refused(referral, unallocated, therapist, supervisor):
    other = contact(unallocated, supervisor)

    with pytest.raises(ValidationError) as caught:
        record_measurement(referral=referral, instrument="phq9", answers=PHQ9_CLEAN_15, by=therapist, session=other)
    assert "session" in caught.value.message_dict


# --- screening scores and the course's charts ---------------------------------------------------------


def test_screening_scores_stay_out_of_the_courses_charts_and_outcome(referral, therapist):
    """The course's first PHQ-9 is its own baseline: a screening score (no course) is not read by
    the charts, caseload or letters that read measurements by course."""
    screen(referral, therapist, PHQ9_ITEM9_ONE)
    course = start_course(patient=referral.patient, protocol="ipt", therapist=therapist, by=therapist)

    summary = summarise(course)

    assert summary.series == []
    assert summary.first.get("phq9") is None
    assert summary.sessions == []
    assert Measurement.objects.filter(referral=referral, course__isnull=True).count() == 1


# --- by link -------------------------------------------------------------------------------------------


def test_a_screening_link_records_the_patients_answers_in_the_referral(referral, therapist, audit_trail):
    link, token = issue_link(referral=referral, instruments=["phq9", "gad7"], by=therapist)

    done = submit(token, client=CLIENT, answers={"phq9": PHQ9_CLEAN_15, "gad7": GAD7_ANSWERS})

    assert (link.referral_id, link.course_id, link.patient_id) == (referral.pk, None, referral.patient_id)
    assert {(m.instrument, m.referral_id, m.course_id, m.source) for m in done.measurements} == {
        ("phq9", referral.pk, None, "patient"), ("gad7", referral.pk, None, "patient")}
    issued = next(e for e in audit_trail.new() if e.type == "questionnaire_link.issued")
    assert issued.data == {"referral_id": referral.pk, "instruments": ["phq9", "gad7"]}


def test_a_risk_answer_in_a_screening_link_raises_the_alert_as_soon_as_it_is_saved(referral, therapist):
    link, token = issue_link(referral=referral, instruments=["phq9"], by=therapist)

    save_answers(token, client=CLIENT, instrument="phq9", answers={"9": 2})

    alert = RiskAlert.objects.get(questionnaire_link=link)
    assert (alert.referral_id, alert.course_id, alert.measurement_id) == (referral.pk, None, None)
    submitted = submit(token, client=CLIENT, answers={"phq9": {**PHQ9_CLEAN_15, "9": 2}})
    alert.refresh_from_db()
    assert alert.measurement == submitted.measurements[0]  # the same alert, now with its measurement


def test_a_screening_link_closes_when_the_referral_is_discharged(referral, therapist):
    _, token = issue_link(referral=referral, instruments=["phq9"], by=therapist)
    end_referral(referral=referral, reason="not_assessed", by=therapist)

    with pytest.raises(LinkUnavailable) as caught:
        find_link(token, client=CLIENT)
    assert caught.value.reason == "closed"  # the patient sees "this link is closed"


def test_answers_to_a_screening_link_after_the_course_started_are_kept(referral, therapist):
    """Nothing lost: the patient answered the screening link late; it is kept as a screening score."""
    _, token = issue_link(referral=referral, instruments=["phq9"], by=therapist)
    start_course(patient=referral.patient, protocol="ipt", therapist=therapist, by=therapist)

    done = submit(token, client=CLIENT, answers={"phq9": PHQ9_CLEAN_15})

    assert (done.measurements[0].referral_id, done.measurements[0].course_id) == (referral.pk, None)


def test_no_screening_link_once_in_treatment_or_by_an_unrelated_therapist(referral, therapist, unrelated_therapist):
    with pytest.raises(ValidationError, match="allocated clinician"):
        issue_link(referral=referral, instruments=["phq9"], by=unrelated_therapist)
    start_course(patient=referral.patient, protocol="ipt", therapist=therapist, by=therapist)
    with pytest.raises(ValidationError, match="in treatment"):
        issue_link(referral=referral, instruments=["phq9"], by=therapist)


def test_the_patient_answers_a_screening_link_in_the_browser(referral, therapist, client):
    _, token = issue_link(referral=referral, instruments=["phq9"], by=therapist)

    start = client.get(reverse("questionnaires:start", args=[token]))
    assert start.status_code == 200
    assert "Nia" in start.content.decode()
    answers = {f"phq9-{k}": str(v) for k, v in PHQ9_CLEAN_15.items()}
    assert client.post(reverse("questionnaires:all", args=[token]), answers).status_code == 302
    assert client.post(reverse("questionnaires:submit", args=[token])).status_code == 302
    assert Measurement.objects.get(referral=referral, instrument="phq9").total == 15


def test_the_clinician_sees_the_answers_item_by_item(referral, therapist, client_for):
    _, token = issue_link(referral=referral, instruments=["phq9"], by=therapist)
    submit(token, client=CLIENT, answers={"phq9": PHQ9_CLEAN_15})

    body = client_for(therapist).get(reverse("screening:referral", args=[referral.pk])).content.decode()

    assert "PHQ-9</span> 15 (Moderately severe)" in body
    assert "By link" in body
    assert "More than half the days" in body


def test_withdrawing_a_screening_link(referral, therapist, client_for):
    link, token = issue_link(referral=referral, instruments=["phq9"], by=therapist)

    response = client_for(therapist).post(reverse("screening:withdraw", args=[referral.pk, link.pk]))

    assert response.status_code == 302
    with pytest.raises(LinkUnavailable):
        find_link(token, client=CLIENT)


# --- the pages -------------------------------------------------------------------------------------------


def test_the_contact_page_saves_the_contact_and_its_measures_together(referral, therapist, client_for):
    now = timezone.localtime() - dt.timedelta(hours=1)
    data = {"date": now.date().isoformat(), "time": now.strftime("%H:%M"), "attendance": "5", "duration_minutes": "30",
            "medium": "telephone", "notes": "", **{f"phq9-item_{k}": str(v) for k, v in PHQ9_ITEM9_ONE.items()}}

    response = client_for(therapist).post(reverse("screening:contact", args=[referral.pk]), data)

    assert response.status_code == 302
    m = Measurement.objects.get(referral=referral)
    assert (m.course_id, m.session.course_id, m.session.treatment, m.risk) == (None, None, False, ["9"])


def test_a_refused_measure_on_the_contact_page_saves_no_contact_either(referral, therapist, client_for):
    now = timezone.localtime() - dt.timedelta(hours=1)
    data = {"date": now.date().isoformat(), "time": now.strftime("%H:%M"), "attendance": "3", "medium": "telephone",
            **{f"phq9-item_{k}": str(v) for k, v in PHQ9_CLEAN_15.items()}}  # a measure at a missed contact

    response = client_for(therapist).post(reverse("screening:contact", args=[referral.pk]), data)

    assert response.status_code == 400
    assert not TherapySession.objects.filter(referral=referral).exists()


def test_the_send_page_shows_the_link_once(referral, therapist, client_for):
    response = client_for(therapist).post(reverse("screening:send", args=[referral.pk]),
                                          {"instruments": ["phq9", "gad7", "wsas"], "valid_days": "7"})

    assert response.status_code == 200
    assert "/q/" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert referral.questionnaire_links.get().instruments == ["phq9", "gad7", "wsas"]


def test_the_screening_page_is_audited_and_refused_to_others(referral, therapist, unrelated_therapist, service_lead,
                                                             client_for, audit_trail):
    page = reverse("screening:referral", args=[referral.pk])
    client = client_for(therapist)
    audit_trail.mark()

    assert client.get(page).status_code == 200
    assert [(e.type, e.patient_id) for e in audit_trail.new()] == [("referral.viewed", referral.patient_id)]
    assert client_for(unrelated_therapist).get(page).status_code == 404
    assert client_for(service_lead).get(page).status_code == 403
