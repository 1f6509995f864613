"""Sending a session's questionnaires: the task issues the link and tells the patient."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus

from interpersonal.web.courses.actions import record_session
from interpersonal.web.questionnaires.actions import issue_link, open_link
from interpersonal.web.questionnaires.models import QuestionnaireLink
from interpersonal.web.questionnaires.notify import DummySms
from interpersonal.web.questionnaires.schedule import Scheduler, due_sessions
from interpersonal.web.questionnaires.tasks import send_questionnaire
from interpersonal.web.questionnaires.tokens import hash_token

LINK = re.compile(r"https://therapy\.example\.org/q/([A-Za-z0-9_-]+)/")


@pytest.fixture(autouse=True)
def _messaging(settings):
    settings.INTERPERSONAL_BASE_URL = "https://therapy.example.org"
    settings.INTERPERSONAL_SMS_BACKEND = "interpersonal.web.questionnaires.notify.DummySms"
    settings.INTERPERSONAL_REMINDER_HOURS_BEFORE = 48
    settings.INTERPERSONAL_LINK_VALID_DAYS = 7
    DummySms.outbox.clear()
    yield
    DummySms.outbox.clear()


@pytest.fixture
def session(dit_course, therapist):
    """A session of ``dit_course`` booked for tomorrow."""
    return record_session(course=dit_course, by=therapist, attendance=None,
                          scheduled_at=timezone.now() + dt.timedelta(hours=24))


def _contact(patient, *, email: str = "", phone: str = "", consent: bool | None = True):
    """Record the patient's e-mail and phone, with ``consent`` to contact by each one given."""
    patient.email, patient.phone = email, phone
    patient.contact_by_email = consent if email else None
    patient.contact_by_sms = consent if phone else None
    patient.save(update_fields=["email", "phone", "contact_by_email", "contact_by_sms"])


def test_task_emails_a_link_whose_token_opens_it(patient, session, mailoutbox):
    _contact(patient, email="pat@example.org")

    result = send_questionnaire.enqueue(session.pk)

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == "sent"
    [mail] = mailoutbox
    assert mail.to == ["pat@example.org"]
    token = LINK.search(mail.body).group(1)
    link = QuestionnaireLink.objects.get(session=session)
    assert hash_token(token) == link.token_hash
    assert open_link(token, client="test").pk == link.pk


def test_the_scheduled_link_holds_the_bundle_and_is_marked_sent(patient, session, mailoutbox):
    _contact(patient, email="pat@example.org")

    send_questionnaire.enqueue(session.pk)

    link = QuestionnaireLink.objects.get(session=session)
    assert link.instruments == ["phq9", "gad7", "wsas"]
    assert link.created_by is None
    assert link.reminder_due_at == session.scheduled_at - dt.timedelta(hours=48)
    assert link.reminder_sent_at is not None
    assert link.expires_at - link.created_at == dt.timedelta(days=7)


def test_the_task_is_enqueued_with_the_session_id_only(patient, session):
    _contact(patient, email="pat@example.org")

    result = send_questionnaire.enqueue(session.pk)

    assert result.args == [session.pk]
    assert result.kwargs == {}


def test_sending_is_audited_with_the_schedule_as_actor(patient, session, audit_trail):
    _contact(patient, email="pat@example.org")

    send_questionnaire.enqueue(session.pk)

    events = audit_trail.new()
    assert [e.type for e in events] == ["questionnaire_link.issued", "questionnaire_link.sent"]
    assert {e.actor_username for e in events} == {"schedule"}
    assert {e.actor_id for e in events} == {None}
    assert events[1].data["channel"] == "email"
    assert events[1].data["session_id"] == session.pk


def test_a_patient_without_email_gets_an_sms(patient, session, mailoutbox):
    _contact(patient, phone="07700 900123")

    send_questionnaire.enqueue(session.pk)

    assert mailoutbox == []
    [sms] = DummySms.outbox
    assert sms.to == "+447700900123"  # E.164, as the gateway expects
    token = LINK.search(sms.body).group(1)
    assert hash_token(token) == QuestionnaireLink.objects.get(session=session).token_hash


def test_email_is_preferred_to_sms(patient, session, mailoutbox):
    _contact(patient, email="pat@example.org", phone="07700 900123")

    send_questionnaire.enqueue(session.pk)

    assert len(mailoutbox) == 1
    assert DummySms.outbox == []


def test_a_patient_with_no_contact_is_skipped_and_audited_once(patient, session, mailoutbox, audit_trail):
    _contact(patient)

    Scheduler().run_once()
    Scheduler().run_once()   # a restarted scheduler
    result = send_questionnaire.enqueue(session.pk)   # a stray duplicate task

    assert result.return_value == "no_contact"
    assert not QuestionnaireLink.objects.exists()
    assert mailoutbox == []
    assert DummySms.outbox == []
    assert audit_trail.new_types() == ["questionnaire_link.no_contact"]
    assert list(due_sessions()) == []


def test_a_skipped_session_is_due_again_once_the_patient_can_be_reached(patient, session, mailoutbox):
    _contact(patient)
    Scheduler().run_once()

    _contact(patient, email="pat@example.org")

    assert list(due_sessions()) == [session]


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_the_message_has_no_surname_and_no_clinical_content(patient, session, mailoutbox, channel):
    if channel == "email":
        _contact(patient, email="pat@example.org")
    else:
        _contact(patient, phone="07700 900123")

    send_questionnaire.enqueue(session.pk)

    text = mailoutbox[0].subject + mailoutbox[0].body if channel == "email" else DummySms.outbox[0].body
    text = re.sub(r"https?://\S+", "<link>", text)  # a random token can spell "dit"; the words around it may not
    assert patient.family_name not in text
    for clinical in ("PHQ", "GAD", "WSAS", "depress", "anxi", "score", "DIT", "Dynamic", "therapy type"):
        assert clinical.lower() not in text.lower()
    assert "works until" in text


def test_the_email_greets_by_first_name_and_gives_the_expiry(patient, session, mailoutbox):
    _contact(patient, email="pat@example.org")

    send_questionnaire.enqueue(session.pk)

    link = QuestionnaireLink.objects.get(session=session)
    expiry = timezone.localtime(link.expires_at)
    assert mailoutbox[0].body.startswith("Hello Pat,")
    assert f"{expiry:%A} {expiry.day} {expiry:%B} at {expiry:%H:%M}" in mailoutbox[0].body


def test_a_failed_send_leaves_no_link_and_no_audit_event(patient, session, monkeypatch, audit_trail):
    _contact(patient, email="pat@example.org")

    def refuse(self, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("interpersonal.web.questionnaires.notify.EmailNotifier.send", refuse)

    result = send_questionnaire.enqueue(session.pk)

    assert result.status == TaskResultStatus.FAILED
    assert not QuestionnaireLink.objects.exists()
    assert audit_trail.new_types() == []


def test_a_session_that_has_happened_gets_nothing(patient, dit_course, therapist, mailoutbox):
    _contact(patient, email="pat@example.org")
    past = record_session(course=dit_course, by=therapist, attendance=5,
                          scheduled_at=timezone.now() - dt.timedelta(days=1))

    assert send_questionnaire.enqueue(past.pk).return_value == "not_due"
    assert mailoutbox == []


def test_a_scheduled_link_has_no_user_actor(dit_course, session, therapist):
    with pytest.raises(ValueError, match="no user"):
        issue_link(course=dit_course, instruments=["phq9"], by=therapist, session=session, scheduled=True)
