"""Opt-in invitations and the did-not-opt-in discharge (service.actions).

The deadline is INTERPERSONAL_OPT_IN_DAYS after the invitation (default 14, [U]: a service's
choice). A referral past it with no opt-in is discharged only by a person, with the end reason
"not assessed" (core.codes: NHS end code 50, unconfirmed), through referrals.actions.end_referral.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from interpersonal.core.codes import EndReason
from interpersonal.web.assessments.models import RiskAlert
from interpersonal.web.courses.models import TherapySession
from interpersonal.web.questionnaires.notify import DummySms
from interpersonal.web.referrals.models import Referral
from interpersonal.web.service import actions
from interpersonal.web.service.models import OptInInvitation
from web.service.conftest import at, day, received, treated

pytestmark = pytest.mark.django_db


@pytest.fixture
def sms(settings):
    settings.INTERPERSONAL_SMS_BACKEND = "interpersonal.web.questionnaires.notify.DummySms"
    DummySms.outbox.clear()
    yield DummySms.outbox
    DummySms.outbox.clear()


def _overdue(therapist, *, received_ago=40, invited_ago=20):
    referral = received(therapist, received_ago=received_ago)
    actions.invite_to_opt_in(referral=referral, channel="letter", by=therapist, sent_on=day(invited_ago))
    referral.refresh_from_db()
    return referral


def test_a_letter_invitation_asks_for_an_answer_within_14_days(therapist, audit_trail):
    referral = received(therapist, received_ago=10)
    audit_trail.mark()

    invitation = actions.invite_to_opt_in(referral=referral, channel="letter", by=therapist)

    assert invitation.sent_on == timezone.localdate()
    assert invitation.respond_by == timezone.localdate() + dt.timedelta(days=14)
    assert invitation.delivery == OptInInvitation.Delivery.TO_PRINT
    assert audit_trail.new_types() == ["opt_in.invited"]
    assert audit_trail.new()[0].patient_id == referral.patient_id


def test_the_opt_in_period_is_a_service_setting(settings, therapist):
    settings.INTERPERSONAL_OPT_IN_DAYS = 21
    invitation = actions.invite_to_opt_in(referral=received(therapist, received_ago=5), channel="letter", by=therapist)

    assert (invitation.respond_by - invitation.sent_on).days == 21


def test_an_email_invitation_is_sent_after_commit_with_the_first_name_only(therapist, django_capture_on_commit_callbacks):
    referral = received(therapist, received_ago=5, email="wyn@example.org", contact_by_email=True)

    with django_capture_on_commit_callbacks(execute=True):
        invitation = actions.invite_to_opt_in(referral=referral, channel="email", by=therapist)

    invitation.refresh_from_db()
    assert invitation.delivery == OptInInvitation.Delivery.SENT
    [message] = mail.outbox
    assert message.to == ["wyn@example.org"]
    assert referral.patient.given_name in message.body
    assert referral.patient.family_name not in message.body
    assert f"{invitation.respond_by.day} {invitation.respond_by:%B %Y}" in message.body


def test_an_sms_invitation_goes_to_the_mobile_number(therapist, sms, django_capture_on_commit_callbacks):
    referral = received(therapist, received_ago=5, phone="07700 900123", contact_by_sms=True)

    with django_capture_on_commit_callbacks(execute=True):
        actions.invite_to_opt_in(referral=referral, channel="sms", by=therapist)

    [message] = sms
    assert message.to == "+447700900123"
    assert referral.patient.family_name not in message.body


def test_a_channel_the_patient_cannot_be_reached_by_is_refused(therapist):
    referral = received(therapist, received_ago=5)
    no_address = received(therapist, received_ago=5, address="")

    with pytest.raises(ValidationError, match="no postal address, e-mail address"):
        actions.invite_to_opt_in(referral=referral, channel="email", by=therapist)
    with pytest.raises(ValidationError, match="no postal address"):
        actions.invite_to_opt_in(referral=no_address, channel="letter", by=therapist)
    assert not OptInInvitation.objects.exists()


def test_e_mail_and_text_need_the_patients_consent_and_a_letter_only_no_refusal(therapist):
    """The same rule as questionnaire links (questionnaires.notify.reach): an electronic channel
    needs consent recorded as given (PECR reg. 22); a letter goes unless the patient said no."""
    not_asked = received(therapist, received_ago=5, email="wyn@example.org", phone="07700 900123")
    said_no = received(therapist, received_ago=5, contact_by_letter=False, contact_by_email=False)

    assert actions.channels_for(not_asked.patient) == ["letter"]
    assert actions.channels_for(said_no.patient) == []
    with pytest.raises(ValidationError, match="consent"):
        actions.invite_to_opt_in(referral=not_asked, channel="sms", by=therapist)
    assert not OptInInvitation.objects.exists()


def test_a_referral_in_treatment_is_not_invited(therapist):
    referral = treated(therapist, received_ago=40, sessions=(20,))

    with pytest.raises(ValidationError, match="in treatment"):
        actions.invite_to_opt_in(referral=referral, channel="letter", by=therapist)


def test_another_clinicians_referral_is_refused(therapist, unrelated_therapist):
    referral = received(therapist, received_ago=5)

    with pytest.raises(ValidationError, match="allocated"):
        actions.invite_to_opt_in(referral=referral, channel="letter", by=unrelated_therapist)
    with pytest.raises(ValidationError, match="allocated"):
        actions.record_opt_in(referral=referral, by=unrelated_therapist)


def test_an_invitation_dated_before_the_referral_or_ahead_is_refused(therapist):
    referral = received(therapist, received_ago=5)

    for sent_on in (day(6), day(-1)):
        with pytest.raises(ValidationError):
            actions.invite_to_opt_in(referral=referral, channel="letter", by=therapist, sent_on=sent_on)


def test_recording_the_opt_in(therapist, audit_trail):
    referral = _overdue(therapist, invited_ago=5)

    invitation = actions.record_opt_in(referral=referral, by=therapist, opted_in_on=day(2))

    assert invitation.opted_in_on == day(2)
    assert invitation.opted_in_recorded_by == therapist
    assert audit_trail.new_types()[-1] == "opt_in.opted_in"
    with pytest.raises(ValidationError, match="already recorded"):
        actions.record_opt_in(referral=referral, by=therapist)
    with pytest.raises(ValidationError, match="opted in"):
        actions.invite_to_opt_in(referral=referral, channel="letter", by=therapist)


def test_an_opt_in_without_an_invitation_or_before_it_is_refused(therapist):
    referral = received(therapist, received_ago=10)
    with pytest.raises(ValidationError, match="No invitation"):
        actions.record_opt_in(referral=referral, by=therapist)

    actions.invite_to_opt_in(referral=referral, channel="letter", by=therapist, sent_on=day(3))
    with pytest.raises(ValidationError):
        actions.record_opt_in(referral=referral, by=therapist, opted_in_on=day(4))


# --- the list past the date, and the discharge ------------------------------------------------------


def test_past_the_date_means_after_respond_by(therapist):
    on_the_day = _overdue(therapist, invited_ago=14)  # respond_by is today: not yet past
    past = _overdue(therapist, invited_ago=15)

    found = set(actions.not_opted_in(Referral.objects.all()).values_list("pk", flat=True))

    assert found == {past.pk}
    assert on_the_day.pk not in found


def test_a_new_invitation_moves_the_date(therapist):
    referral = _overdue(therapist, invited_ago=20)
    actions.invite_to_opt_in(referral=referral, channel="letter", by=therapist, sent_on=day(1))

    assert not actions.not_opted_in(Referral.objects.all()).exists()


def test_a_patient_seen_since_the_invitation_is_not_listed(therapist):
    referral = _overdue(therapist, invited_ago=20)
    TherapySession.objects.create(referral=referral, course=None, treatment=False, attendance=5, scheduled_at=at(10))

    assert not actions.not_opted_in(Referral.objects.all()).exists()


def test_discharge_of_a_referral_that_did_not_opt_in(therapist, audit_trail):
    referral = _overdue(therapist)

    result = actions.discharge_not_opted_in(requested=[(referral.pk, referral.version)], by=therapist)

    assert result.discharged == (referral.pk,)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DISCHARGED
    assert referral.end_reason == EndReason.NOT_ASSESSED.value
    assert referral.ended_on == timezone.localdate()
    assert audit_trail.new_types()[-2:] == ["referral.discharged", "opt_in.discharged"]


def test_bulk_discharge_discharges_each_eligible_one_and_names_each_refusal(therapist, unrelated_therapist):
    a, b = _overdue(therapist), _overdue(therapist)
    not_yet = _overdue(therapist, invited_ago=3)
    someone_elses = _overdue(unrelated_therapist)

    result = actions.discharge_not_opted_in(
        requested=[(a.pk, a.version), (b.pk, b.version), (not_yet.pk, None), (someone_elses.pk, None)], by=therapist)

    assert set(result.discharged) == {a.pk, b.pk}
    refused = dict(result.refused)
    assert "not past" in refused[not_yet.pk]
    assert refused[someone_elses.pk] == "not on your waiting list"
    assert Referral.objects.get(pk=someone_elses.pk).is_open
    assert Referral.objects.get(pk=not_yet.pk).is_open


def test_an_open_risk_alert_blocks_the_discharge(therapist):
    referral = _overdue(therapist)
    RiskAlert.objects.create(referral=referral, instrument="phq9", items=["9"], raised_at=timezone.now())

    result = actions.discharge_not_opted_in(requested=[(referral.pk, None)], by=therapist)

    assert result.discharged == ()
    assert "risk alert" in dict(result.refused)[referral.pk]
    assert Referral.objects.get(pk=referral.pk).is_open
    listed = actions.not_opted_in(Referral.objects.all()).get()  # still listed, flagged
    assert listed.open_alert is True


def test_a_referral_changed_since_the_list_was_shown_is_refused(therapist):
    referral = _overdue(therapist)

    result = actions.discharge_not_opted_in(requested=[(referral.pk, referral.version - 1)], by=therapist)

    assert "changed" in dict(result.refused)[referral.pk]


def test_the_service_lead_may_discharge_any_referral_that_did_not_opt_in(therapist, service_lead):
    referral = _overdue(therapist)

    result = actions.discharge_not_opted_in(requested=[(referral.pk, None)], by=service_lead)

    assert result.discharged == (referral.pk,)


@pytest.mark.parametrize("persona", ["clinic_admin", "records_officer"])
def test_other_roles_discharge_nothing(request, therapist, persona):
    referral = _overdue(therapist)

    result = actions.discharge_not_opted_in(requested=[(referral.pk, None)], by=request.getfixturevalue(persona))

    assert result.discharged == ()
    assert Referral.objects.get(pk=referral.pk).is_open


def test_nothing_is_discharged_automatically_however_long_past_the_date(therapist):
    """No scheduler, task or read discharges: a referral a year past its date is still open until
    someone chooses to discharge it."""
    referral = _overdue(therapist, received_ago=400, invited_ago=380)
    from interpersonal.web.service import waiting

    waiting.queues()
    actions.not_opted_in(Referral.objects.all()).count()

    assert Referral.objects.get(pk=referral.pk).is_open


@pytest.mark.parametrize("values", [["x"], ["1:x"], ["0:1"], ["-3:1"], [f"{2**31}:1"], []])
def test_a_tampered_discharge_form_is_refused(values):
    with pytest.raises(ValidationError):
        actions.requested_pairs(values)
