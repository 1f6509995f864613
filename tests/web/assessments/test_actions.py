"""assessments.actions: record scored measures, raise and acknowledge risk alerts."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from interpersonal.core import measures
from interpersonal.web.assessments.actions import acknowledge_alert, record_measurement
from interpersonal.web.assessments.models import Measurement, RiskAlert
from interpersonal.web.courses.actions import end_course, start_course
from interpersonal.web.referrals.actions import receive_referral

PHQ9_ITEM9_ONE = {"1": 1, "2": 1, "3": 0, "4": 1, "5": 0, "6": 0, "7": 0, "8": 0, "9": 1}
PHQ9_CLEAN = {"1": 1, "2": 1, "3": 0, "4": 1, "5": 0, "6": 0, "7": 0, "8": 0, "9": 0}
HRSD17_ITEM3_TWO = {str(n): 1 for n in range(1, 18)} | {"3": 2}
NOTE = "Phoned Pat; safety plan reviewed with her partner Jo."


def assert_identifiers_only(events, *forbidden: str) -> None:
    blob = json.dumps([e.data for e in events])
    for text in forbidden:
        assert text not in blob, f"{text!r} leaked into the audit trail"


# --- record_measurement ---------------------------------------------------------------------


def test_record_clean_phq9_stores_the_score_and_raises_no_alert(dit_course, therapist, audit_trail):
    m = record_measurement(course=dit_course, instrument="phq9", answers=PHQ9_CLEAN, by=therapist)

    assert (m.total, m.severity, m.complete, m.risk) == (3, "None-minimal", True, [])
    assert not RiskAlert.objects.exists()
    events = audit_trail.new()
    assert [(e.type, e.target_id) for e in events] == [("measurement.recorded", str(m.pk))]
    assert events[0].data == {"course_id": dit_course.pk, "instrument": "phq9", "source": "clinician"}


@pytest.mark.parametrize("answers", [
    PHQ9_CLEAN,
    {"1": 3, "2": 3, "3": 3, "4": 3, "5": 3, "6": 3, "7": 3, "8": 3, "9": 3},
    {"1": 2, "2": 1, "3": None, "4": 2, "5": 0, "6": 1, "7": 1, "8": 0, "9": 0},  # one missing: prorated
    {"1": 2, "2": 1, "3": None, "4": None, "5": None, "6": 1, "7": 1, "8": 0, "9": 0},  # too many missing
])
def test_stored_total_equals_the_core_engine_score(dit_course, therapist, answers):
    expected = measures.score("phq9", answers)

    m = record_measurement(course=dit_course, instrument="phq9", answers=answers, by=therapist)

    m.refresh_from_db()
    assert (m.total, m.severity or None, m.caseness, m.complete, m.prorated) == (
        expected.total, expected.severity, expected.caseness, expected.complete, expected.prorated)
    assert m.answers == {k: v for k, v in answers.items() if v is not None}


def test_record_out_of_range_answer_names_the_item_and_saves_nothing(dit_course, therapist, audit_trail):
    answers = PHQ9_ITEM9_ONE | {"4": 7}

    with pytest.raises(ValidationError) as exc:
        record_measurement(course=dit_course, instrument="phq9", answers=answers, by=therapist)

    assert list(exc.value.message_dict) == ["item_4"]
    assert "item 4" in exc.value.message_dict["item_4"][0]
    assert not Measurement.objects.exists()
    assert not RiskAlert.objects.exists()
    assert audit_trail.new() == []


def test_record_answer_to_an_item_the_instrument_lacks_refused(dit_course, therapist):
    with pytest.raises(ValidationError) as exc:
        record_measurement(course=dit_course, instrument="phq9", answers=PHQ9_CLEAN | {"11": 1}, by=therapist)

    assert "item_11" in exc.value.message_dict
    assert not Measurement.objects.exists()


def test_record_unknown_instrument_refused(dit_course, therapist):
    with pytest.raises(ValidationError) as exc:
        record_measurement(course=dit_course, instrument="phq10", answers={"1": 1}, by=therapist)

    assert "instrument" in exc.value.message_dict


def test_record_no_answers_refused(dit_course, therapist):
    with pytest.raises(ValidationError, match="No answers"):
        record_measurement(course=dit_course, instrument="phq9", answers={}, by=therapist)


def test_phq9_item_9_of_one_raises_an_open_risk_alert(dit_course, therapist, audit_trail):
    m = record_measurement(course=dit_course, instrument="phq9", answers=PHQ9_ITEM9_ONE, by=therapist)

    alert = RiskAlert.objects.get()
    assert (alert.measurement, alert.course, alert.items, alert.open) == (m, dit_course, ["9"], True)
    assert alert.raised_at == m.recorded_at
    events = audit_trail.new()
    assert [e.type for e in events] == ["measurement.recorded", "risk_alert.raised"]
    assert events[1].target_id == str(alert.pk)
    # The measure is named; which item, and the answer, are clinical content and stay out.
    assert events[1].data == {"course_id": dit_course.pk, "instrument": "phq9", "before_sending": False}


def test_hrsd17_item_3_of_two_raises_a_risk_alert(dit_course, therapist):
    record_measurement(course=dit_course, instrument="hrsd17", answers=HRSD17_ITEM3_TWO, by=therapist)

    alert = RiskAlert.objects.get()
    assert (alert.items, alert.open) == (["3"], True)


def test_risk_alert_raised_even_when_the_total_is_unscorable(dit_course, therapist):
    answers = {"6": 0, "7": 1, "8": 0, "9": 2}  # items 1-5 missing: PHQ-9 allows at most 2

    m = record_measurement(course=dit_course, instrument="phq9", answers=answers, by=therapist)

    assert (m.total, m.complete) == (None, False)
    assert RiskAlert.objects.get().items == ["9"]


def test_risk_item_alone_still_raises_an_alert(dit_course, therapist):
    m = record_measurement(course=dit_course, instrument="phq9", answers={"9": 3}, by=therapist)

    assert m.total is None
    assert RiskAlert.objects.filter(measurement=m, acknowledged_at__isnull=True).exists()


def test_record_measurement_at_a_session_of_another_course_refused(dit_course, therapist, other_patient, unrelated_therapist):
    from interpersonal.web.courses.actions import record_session

    foreign = record_session(course=other_patient.courses.get(), by=unrelated_therapist, attendance=5,
                             scheduled_at=timezone.now() - dt.timedelta(days=1))

    with pytest.raises(ValidationError) as exc:
        record_measurement(course=dit_course, instrument="phq9", answers=PHQ9_ITEM9_ONE, by=therapist, session=foreign)

    assert "session" in exc.value.message_dict
    assert not Measurement.objects.exists()


def test_record_measurement_dated_in_the_future_refused(dit_course, therapist):
    with pytest.raises(ValidationError) as exc:
        record_measurement(course=dit_course, instrument="phq9", answers=PHQ9_CLEAN, by=therapist,
                           recorded_at=timezone.now() + dt.timedelta(days=2))

    assert "recorded_at" in exc.value.message_dict


def test_record_measurement_in_an_ended_course_refused(dit_course, therapist):
    end_course(course=dit_course, reason="completed", by=therapist)

    with pytest.raises(ValidationError):
        record_measurement(course=dit_course, instrument="phq9", answers=PHQ9_ITEM9_ONE, by=therapist)

    assert not Measurement.objects.exists()
    assert not RiskAlert.objects.exists()


@pytest.mark.parametrize("persona", ["unrelated_therapist", "supervisor", "service_lead", "clinic_admin"])
def test_record_measurement_by_anyone_but_the_course_therapist_refused(request, dit_course, persona):
    with pytest.raises(ValidationError):
        record_measurement(course=dit_course, instrument="phq9", answers=PHQ9_ITEM9_ONE, by=request.getfixturevalue(persona))

    assert not Measurement.objects.exists()


@pytest.mark.parametrize("source", ["patient", "bogus"])
def test_record_measurement_source_does_not_bypass_the_therapist_check(dit_course, unrelated_therapist, source):
    """Bug: record_measurement checks the actor only when ``source == "clinician"``; any
    other value (even an invalid one) lets any signed-in user — here another team's
    therapist — write measures into someone else's course."""
    with pytest.raises(ValidationError):
        record_measurement(course=dit_course, instrument="phq9", answers=PHQ9_CLEAN, by=unrelated_therapist, source=source)

    assert not Measurement.objects.exists()


# --- acknowledge_alert ----------------------------------------------------------------------


def test_therapist_acknowledges_alert_with_note_audited_without_the_note(risk_alert, therapist, audit_trail):
    acknowledge_alert(alert=risk_alert, by=therapist, note=NOTE)

    risk_alert.refresh_from_db()
    assert (risk_alert.open, risk_alert.acknowledged_by, risk_alert.note) == (False, therapist, NOTE)
    events = audit_trail.new()
    assert [(e.type, e.target_id, e.actor_id) for e in events] == [("risk_alert.acknowledged", str(risk_alert.pk), therapist.pk)]
    assert_identifiers_only(events, "Phoned", "safety", "Jo", "Pat")


@pytest.mark.parametrize("note", ["", "   ", "ok", None])
def test_acknowledge_alert_without_a_note_refused(risk_alert, therapist, note, audit_trail):
    with pytest.raises(ValidationError) as exc:
        acknowledge_alert(alert=risk_alert, by=therapist, note=note)

    assert "note" in exc.value.message_dict
    risk_alert.refresh_from_db()
    assert risk_alert.open
    assert audit_trail.new() == []


def test_acknowledge_alert_with_a_nul_in_the_note_refused(risk_alert, therapist, client_for, audit_trail):
    """Found by tests/web/test_fuzz_endpoints.py: the note is read straight from the request, so
    a NUL reached the database, which PostgreSQL refuses (a 500). Refused as Django's form fields do."""
    with pytest.raises(ValidationError) as exc:
        acknowledge_alert(alert=risk_alert, by=therapist, note="Phoned\x00 the GP")

    assert "note" in exc.value.message_dict
    response = client_for(therapist).post(reverse("assessments:acknowledge_alert", args=[risk_alert.pk]),
                                          {"note": "Phoned\x00 the GP"})
    assert response.status_code == 400
    risk_alert.refresh_from_db()
    assert risk_alert.open
    assert risk_alert.note == ""
    assert "risk_alert.acknowledged" not in audit_trail.new_types()


def test_acknowledge_alert_twice_refused_and_first_acknowledgement_kept(risk_alert, therapist, supervisor, audit_trail):
    acknowledge_alert(alert=risk_alert, by=therapist, note=NOTE)
    first = RiskAlert.objects.get(pk=risk_alert.pk)
    audit_trail.mark()

    with pytest.raises(ValidationError, match="already"):
        acknowledge_alert(alert=risk_alert, by=supervisor, note="Second opinion")

    risk_alert.refresh_from_db()
    assert (risk_alert.acknowledged_at, risk_alert.acknowledged_by, risk_alert.note) == (first.acknowledged_at, therapist, NOTE)
    assert audit_trail.new() == []


def test_supervisor_of_the_therapist_may_acknowledge(risk_alert, supervisor):
    acknowledge_alert(alert=risk_alert, by=supervisor, note="Discussed in supervision; GP informed.")

    risk_alert.refresh_from_db()
    assert (risk_alert.open, risk_alert.acknowledged_by) == (False, supervisor)


@pytest.mark.parametrize("persona", ["unrelated_therapist", "make_user_other_supervisor", "service_lead", "clinic_admin"])
def test_acknowledge_alert_by_someone_not_responsible_refused(request, risk_alert, persona, audit_trail):
    with pytest.raises(ValidationError):
        acknowledge_alert(alert=risk_alert, by=request.getfixturevalue(persona), note=NOTE)

    risk_alert.refresh_from_db()
    assert risk_alert.open
    assert risk_alert.note == ""
    assert audit_trail.new() == []


def test_a_later_clean_phq9_leaves_the_alert_open(risk_alert, dit_course, therapist):
    record_measurement(course=dit_course, instrument="phq9", answers=PHQ9_CLEAN, by=therapist)
    record_measurement(course=dit_course, instrument="gad7", answers={str(n): 0 for n in range(1, 8)}, by=therapist)

    risk_alert.refresh_from_db()
    assert risk_alert.open
    assert list(RiskAlert.objects.filter(acknowledged_at__isnull=True)) == [risk_alert]


def test_ending_with_the_alert_left_open_then_starting_another_leaves_it_open(risk_alert, dit_course, therapist, patient):
    end_course(course=dit_course, reason="completed", by=therapist,
               alerts_left_open="followed_up_elsewhere", alerts_seen=[risk_alert.pk])
    receive_referral(patient=patient, by=therapist, source="gp", received_on=timezone.localdate())  # re-referred
    start_course(patient=patient, protocol="ipt", therapist=therapist, by=therapist)

    risk_alert.refresh_from_db()
    assert risk_alert.open


def test_alert_on_an_ended_course_can_still_be_acknowledged(risk_alert, dit_course, therapist):
    end_course(course=dit_course, reason="dropped_out", by=therapist,
               alerts_left_open="following_up", alerts_seen=[risk_alert.pk])

    acknowledge_alert(alert=risk_alert, by=therapist, note=NOTE)

    risk_alert.refresh_from_db()
    assert not risk_alert.open


# --- a risk item left unanswered -------------------------------------------------------------


def test_phq9_item_9_unanswered_raises_an_open_alert_for_the_unknown_risk(dit_course, therapist, audit_trail):
    answers = PHQ9_CLEAN | {"9": None}

    m = record_measurement(course=dit_course, instrument="phq9", answers=answers, by=therapist)

    assert (m.prorated, m.risk, m.risk_unanswered) == (True, [], ("9",))
    alert = RiskAlert.objects.get()
    assert (alert.measurement, alert.items, alert.open) == (m, ["9"], True)
    assert audit_trail.new_types() == ["measurement.recorded", "risk_alert.raised"]


def test_phq9_item_9_answered_0_raises_no_alert_and_is_not_unanswered(dit_course, therapist):
    m = record_measurement(course=dit_course, instrument="phq9", answers=PHQ9_CLEAN, by=therapist)

    assert m.risk_unanswered == ()
    assert not RiskAlert.objects.exists()


def test_unanswered_risk_alert_says_the_item_was_not_answered_and_to_ask(dit_course, therapist):
    from interpersonal.web.assessments.alerts import describe_alert

    record_measurement(course=dit_course, instrument="phq9", answers=PHQ9_CLEAN | {"9": None}, by=therapist)

    row = describe_alert(RiskAlert.objects.select_related("measurement").get())
    assert row.unanswered is True
    assert row.items == ["PHQ-9 item 9 (thoughts of being better off dead or of self-harm) was not answered: "
                         "ask about it at the next contact."]
