"""Questionnaire links sent from the course by e-mail or text message (issue 14): the therapist
chooses the channel, the task worker sends it with a fresh token, the link list shows its
delivery; one open link per session; a course's end closes its links."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.courses.actions import end_course, record_session, start_course
from interpersonal.web.questionnaires import tasks
from interpersonal.web.questionnaires.actions import (
    LinkUnavailable,
    OpenLinkExists,
    closure,
    issue_link,
    open_link,
    queue_delivery,
    withdraw_link,
)
from interpersonal.web.questionnaires.models import QuestionnaireLink
from interpersonal.web.questionnaires.notify import DummySms
from interpersonal.web.questionnaires.schedule import due_sessions
from interpersonal.web.questionnaires.tasks import send_for_session
from interpersonal.web.questionnaires.tokens import hash_token

LINK = re.compile(r"https://therapy\.example\.org/q/([A-Za-z0-9_-]+)/")
HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _messaging(settings):
    settings.INTERPERSONAL_BASE_URL = "https://therapy.example.org"
    settings.INTERPERSONAL_SMS_BACKEND = "interpersonal.web.questionnaires.notify.DummySms"
    settings.INTERPERSONAL_REMINDER_HOURS_BEFORE = 48
    DummySms.outbox.clear()
    yield
    DummySms.outbox.clear()


def _contact(patient, *, email: str = "", phone: str = "", email_ok: bool | None = None,
             sms_ok: bool | None = None) -> None:
    patient.email, patient.phone, patient.contact_by_email, patient.contact_by_sms = email, phone, email_ok, sms_ok
    patient.save(update_fields=["email", "phone", "contact_by_email", "contact_by_sms"])


@pytest.fixture
def reachable(patient):
    """Pat has an e-mail address and a mobile number, and consents to both."""
    _contact(patient, email="pat@example.org", phone="07700 900123", email_ok=True, sms_ok=True)
    return patient


@pytest.fixture
def booked(dit_course, therapist):
    """A session of ``dit_course`` booked in three days."""
    return record_session(course=dit_course, by=therapist, attendance=None, scheduled_at=timezone.now() + 72 * HOUR)


def _send_url(course) -> str:
    return reverse("questionnaires:send", args=[course.pk])


def _list_url(course) -> str:
    return reverse("questionnaires:list", args=[course.pk])


def _token_in(text: str) -> str:
    found = LINK.search(text)
    assert found, text
    return found.group(1)


# --- actions: consent and channels ---------------------------------------------------------------


@pytest.mark.parametrize(("details", "message"), [
    ({"email": "pat@example.org", "email_ok": None}, "No consent to contact by e-mail recorded."),
    ({"email": "pat@example.org", "email_ok": False}, "No consent to contact by e-mail recorded."),
    ({"email": "", "email_ok": True}, "No e-mail address recorded — add one on the patient's page."),
])
def test_issuing_by_email_needs_an_address_and_consent(dit_course, therapist, patient, details, message):
    _contact(patient, **details)

    with pytest.raises(ValidationError) as refused:
        issue_link(course=dit_course, instruments=["phq9"], by=therapist, send_by="email")

    assert refused.value.message_dict == {"channel": [message]}
    assert not QuestionnaireLink.objects.exists()


def test_the_send_page_shows_unreachable_channels_disabled_with_the_reason(dit_course, therapist, patient,
                                                                            client_for):
    _contact(patient, email="", phone="07700 900123", sms_ok=None)

    html = client_for(therapist).get(_send_url(dit_course)).content.decode()

    assert re.search(r'value="email" id="id_channel_0"[^>]*disabled', html)
    assert re.search(r'value="sms" id="id_channel_1"[^>]*disabled', html)
    assert "No e-mail address recorded — add one on the patient&#x27;s page" in html
    assert "No consent to contact by text message recorded" in html
    assert re.search(r'value="copy" id="id_channel_2" checked', html)  # the only way left, chosen


def test_a_tampered_post_for_a_disabled_channel_is_refused(dit_course, therapist, patient, client_for):
    _contact(patient, email="pat@example.org", email_ok=False)

    response = client_for(therapist).post(_send_url(dit_course), {"instruments": ["phq9"], "valid_days": "7",
                                                                  "channel": "email"})

    assert response.status_code == 400
    assert "No consent to contact by e-mail recorded." in response.content.decode()
    assert not QuestionnaireLink.objects.exists()


# --- views and the task: queued, then sent --------------------------------------------------------


def test_sending_by_email_is_queued_then_the_worker_sends_a_working_link(
        dit_course, therapist, reachable, booked, client_for, mailoutbox, audit_trail,
        django_capture_on_commit_callbacks):
    client = client_for(therapist)
    audit_trail.mark()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(_send_url(dit_course), {"instruments": ["phq9", "gad7"], "valid_days": "7",
                                                       "channel": "email"})

    assert response["Location"] == _list_url(dit_course)
    link = QuestionnaireLink.objects.get()
    assert (link.delivery, link.delivery_channel, link.session_id) == ("queued", "email", booked.pk)
    assert "Queued to send by e-mail" in client.get(_list_url(dit_course)).content.decode()
    assert mailoutbox == []  # nothing slow in the request: the worker sends
    assert [t for t in audit_trail.new_types() if t.startswith("questionnaire_link.")] == [
        "questionnaire_link.issued", "questionnaire_link.send_queued"]

    for callback in callbacks:  # the enqueue; the test settings' immediate backend runs the task
        callback()

    (mail,) = mailoutbox
    assert mail.to == ["pat@example.org"]
    assert "Hello Pat" in mail.body
    assert "Example" not in mail.body + mail.subject
    assert "PHQ" not in mail.body
    assert "GAD" not in mail.body
    link.refresh_from_db()
    assert (link.delivery, link.delivered_to) == ("sent", "p•••@example.org")
    assert link.token_hash == hash_token(_token_in(mail.body))  # the token sent is the one that works
    assert open_link(_token_in(mail.body), client="203.0.113.7").pk == link.pk
    page = client.get(_list_url(dit_course)).content.decode()
    assert f"Sent by e-mail to p•••@example.org at {timezone.localtime(link.delivered_at):%H:%M}" in page
    sent = [e for e in audit_trail.new() if e.type == "questionnaire_link.sent"]
    assert [(e.actor_username, e.data["channel"]) for e in sent] == [("worker", "email")]
    assert "pat@example.org" not in str([e.data for e in audit_trail.new()])


def test_sending_by_text_message_goes_to_the_mobile_number_in_e164(dit_course, therapist, reachable, booked):
    link, _ = issue_link(course=dit_course, instruments=["phq9"], by=therapist, send_by="sms")

    assert tasks.deliver(link.pk) == "sent"

    (sms,) = DummySms.outbox
    assert sms.to == "+447700900123"
    link.refresh_from_db()
    assert (link.delivery, link.delivered_to) == ("sent", "+44•••123")
    assert link.token_hash == hash_token(_token_in(sms.body))


def test_a_failed_send_says_why_and_sending_again_delivers(dit_course, therapist, reachable, booked, client_for,
                                                          mailoutbox, monkeypatch):
    link, _ = issue_link(course=dit_course, instruments=["phq9"], by=therapist, send_by="email")
    with monkeypatch.context() as patched:
        patched.setattr("interpersonal.web.questionnaires.notify.EmailNotifier.send",
                        lambda self, **kw: (_ for _ in ()).throw(ConnectionRefusedError("pat@example.org refused")))
        assert tasks.deliver(link.pk) == "failed"
    client = client_for(therapist)

    page = client.get(_list_url(dit_course)).content.decode()

    assert "Failed: the mail server did not accept the message (ConnectionRefusedError)" in page
    assert "pat@example.org refused" not in page  # the exception's text (an address) stays in the worker's log
    assert "Send again by e-mail" in page
    response = client.post(reverse("questionnaires:resend", args=[dit_course.pk, link.pk]), {"channel": "email"})
    assert response["Location"] == _list_url(dit_course)
    link.refresh_from_db()
    assert link.delivery == "queued"
    assert tasks.deliver(link.pk) == "sent"
    assert len(mailoutbox) == 1


def test_sending_again_gives_a_fresh_token_and_the_old_one_stops_working(dit_course, therapist, reachable, booked,
                                                                        mailoutbox):
    link, copied = issue_link(course=dit_course, instruments=["phq9"], by=therapist)  # shown to copy

    queue_delivery(link=link, channel="email", by=therapist)
    tasks.deliver(link.pk)

    with pytest.raises(LinkUnavailable):
        open_link(copied, client="203.0.113.7")
    assert open_link(_token_in(mailoutbox[0].body), client="203.0.113.7").pk == link.pk


def test_consent_withdrawn_before_the_worker_runs_fails_with_the_reason(dit_course, therapist, reachable, booked,
                                                                        mailoutbox):
    link, _ = issue_link(course=dit_course, instruments=["phq9"], by=therapist, send_by="email")
    _contact(reachable, email="pat@example.org", email_ok=False)

    assert tasks.deliver(link.pk) == "no_contact"

    link.refresh_from_db()
    assert (link.delivery, link.delivery_error) == ("failed", "No consent to contact by e-mail recorded")
    assert mailoutbox == []


def test_a_link_withdrawn_before_the_worker_runs_is_not_sent(dit_course, therapist, reachable, booked, mailoutbox):
    link, _ = issue_link(course=dit_course, instruments=["phq9"], by=therapist, send_by="email")
    withdraw_link(link=link, by=therapist)

    assert tasks.deliver(link.pk) == "skipped"
    assert tasks.deliver(link.pk) == "skipped"  # and a repeated task finds nothing queued

    link.refresh_from_db()
    assert link.delivery == "cancelled"
    assert mailoutbox == []


def test_another_therapist_cannot_send_a_link_again(dit_course, therapist, unrelated_therapist, reachable, booked,
                                                    client_for):
    link, _ = issue_link(course=dit_course, instruments=["phq9"], by=therapist)

    response = client_for(unrelated_therapist).post(reverse("questionnaires:resend", args=[dit_course.pk, link.pk]),
                                                    {"channel": "email"})

    assert response.status_code == 404
    with pytest.raises(ValidationError):
        queue_delivery(link=link, channel="email", by=unrelated_therapist)
    link.refresh_from_db()
    assert link.delivery == ""


# --- one open link per session ---------------------------------------------------------------------


def test_a_second_link_for_a_session_is_refused_offering_to_resend_or_withdraw(dit_course, therapist, reachable,
                                                                               booked, client_for):
    first, _ = issue_link(course=dit_course, instruments=["phq9"], by=therapist, session=booked)

    response = client_for(therapist).post(_send_url(dit_course), {
        "instruments": ["phq9"], "valid_days": "7", "channel": "email", "session": str(booked.pk)})

    assert response.status_code == 400
    html = response.content.decode()
    assert "is already open" in html
    assert "one open link per session" in html
    assert reverse("questionnaires:resend", args=[dit_course.pk, first.pk]) in html
    assert reverse("questionnaires:withdraw", args=[dit_course.pk, first.pk]) in html
    assert QuestionnaireLink.objects.count() == 1


def test_a_link_sent_without_a_session_is_for_the_next_booked_one(dit_course, therapist, booked):
    record_session(course=dit_course, by=therapist, attendance=None, scheduled_at=timezone.now() + 240 * HOUR)

    link, _ = issue_link(course=dit_course, instruments=["phq9"], by=therapist)

    assert link.session_id == booked.pk
    with pytest.raises(OpenLinkExists) as refused:
        issue_link(course=dit_course, instruments=["gad7"], by=therapist, session=booked)
    assert refused.value.link.pk == link.pk


def test_with_nothing_booked_one_link_is_open_for_the_next_session(dit_course, therapist):
    first, _ = issue_link(course=dit_course, instruments=["phq9"], by=therapist)
    assert first.session_id is None

    with pytest.raises(OpenLinkExists, match="for the next session"):
        issue_link(course=dit_course, instruments=["phq9"], by=therapist)

    withdraw_link(link=first, by=therapist)
    second, _ = issue_link(course=dit_course, instruments=["phq9"], by=therapist)
    assert second.session_id is None


def test_an_expired_open_link_is_closed_as_expired_when_the_next_is_issued(dit_course, therapist, booked):
    old, _ = issue_link(course=dit_course, instruments=["phq9"], by=therapist, session=booked)
    expired_at = timezone.now() - HOUR
    QuestionnaireLink.objects.filter(pk=old.pk).update(expires_at=expired_at)

    issue_link(course=dit_course, instruments=["phq9"], by=therapist, session=booked)

    old.refresh_from_db()
    assert (old.closed_reason, old.withdrawn_at) == ("expired", expired_at)
    assert closure(old).text.startswith("expired on")


def test_the_database_holds_one_open_link_per_session(dit_course, therapist, booked):
    first, _ = issue_link(course=dit_course, instruments=["phq9"], by=therapist, session=booked)

    with pytest.raises(IntegrityError), transaction.atomic():
        QuestionnaireLink.objects.create(token_hash="1" * 64, patient=first.patient, referral=first.referral,
                                         course=dit_course, session=booked, instruments=["phq9"], created_by=therapist,
                                         expires_at=first.expires_at)


def test_the_database_holds_one_open_link_for_the_next_session(dit_course, therapist):
    first, _ = issue_link(course=dit_course, instruments=["phq9"], by=therapist)

    with pytest.raises(IntegrityError), transaction.atomic():
        QuestionnaireLink.objects.create(token_hash="2" * 64, patient=first.patient, referral=first.referral,
                                         course=dit_course, instruments=["phq9"], created_by=therapist,
                                         expires_at=first.expires_at)


def test_the_schedule_sends_nothing_while_a_link_for_the_next_session_is_open(dit_course, therapist, reachable,
                                                                             mailoutbox):
    issue_link(course=dit_course, instruments=["phq9"], by=therapist)  # nothing booked yet
    session = record_session(course=dit_course, by=therapist, attendance=None, scheduled_at=timezone.now() + 24 * HOUR)

    assert list(due_sessions()) == []
    assert send_for_session(session.pk) == "already_sent"
    assert mailoutbox == []


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_therapist_requests_at_once_make_one_open_link(patient, therapist):
    course = start_course(patient=patient, protocol="dit", therapist=therapist, by=therapist,
                          started_on=timezone.localdate() - dt.timedelta(days=30))
    session = record_session(course=course, by=therapist, attendance=None, scheduled_at=timezone.now() + 24 * HOUR)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def race() -> None:
        try:
            barrier.wait()
            issue_link(course=course, instruments=["phq9"], by=therapist, session=session)
            outcomes.append("issued")
        except OpenLinkExists:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["issued", "refused"]
    assert QuestionnaireLink.objects.filter(session=session).count() == 1


# --- consent in the automatic sending ------------------------------------------------------------


def test_the_schedule_sends_only_by_a_consented_channel(dit_course, therapist, patient, mailoutbox, client_for):
    _contact(patient, email="pat@example.org", phone="07700 900123", email_ok=None, sms_ok=True)
    session = record_session(course=dit_course, by=therapist, attendance=None, scheduled_at=timezone.now() + 24 * HOUR)

    assert send_for_session(session.pk) == "sent"

    assert mailoutbox == []
    assert [m.to for m in DummySms.outbox] == ["+447700900123"]
    page = client_for(therapist).get(_list_url(dit_course)).content.decode()
    assert "Sent by text message to +44•••123" in page
    assert "sent automatically by text message" in page


def test_the_schedule_sends_nothing_without_consent_and_the_list_says_so(dit_course, therapist, patient, mailoutbox,
                                                                         audit_trail, client_for):
    _contact(patient, email="pat@example.org", phone="07700 900123", email_ok=None, sms_ok=False)
    session = record_session(course=dit_course, by=therapist, attendance=None, scheduled_at=timezone.now() + 24 * HOUR)
    assert [s.pk for s in due_sessions()] == [session.pk]
    audit_trail.mark()

    assert send_for_session(session.pk) == "no_contact"

    assert (mailoutbox, DummySms.outbox, QuestionnaireLink.objects.count()) == ([], [], 0)
    (event,) = audit_trail.new()
    assert (event.type, event.data["consent"]) == ("questionnaire_link.no_contact", True)
    assert list(due_sessions()) == []  # skipped once, not every run
    page = client_for(therapist).get(_list_url(dit_course)).content.decode()
    assert "No links are sent automatically before booked sessions." in page
    assert "No consent to contact by e-mail recorded." in page
    assert "No consent to contact by text message recorded." in page


# --- closed links ---------------------------------------------------------------------------------


def test_ending_the_course_closes_its_open_links_and_the_patient_sees_a_closed_page(
        dit_course, therapist, reachable, booked, client_for, audit_trail):
    link, token = issue_link(course=dit_course, instruments=["phq9"], by=therapist, session=booked)
    audit_trail.mark()

    end_course(course=dit_course, reason="dropped_out", by=therapist)

    link.refresh_from_db()
    assert (link.closed_reason, link.withdrawn_at is not None) == ("course_ended", True)
    assert "questionnaire_link.closed_with_course" in audit_trail.new_types()
    response = client_for(therapist).get(reverse("questionnaires:start", args=[token]))
    assert response.status_code == 410
    assert "This link is closed" in response.content.decode()
    with pytest.raises(ValidationError):
        queue_delivery(link=link, channel="email", by=therapist)


def test_the_list_says_closed_and_why_for_every_link_no_longer_usable(dit_course, therapist, patient, client_for):
    sessions = [record_session(course=dit_course, by=therapist, attendance=None,
                               scheduled_at=timezone.now() + (24 + 24 * n) * HOUR) for n in range(3)]
    answered, _ = issue_link(course=dit_course, instruments=["phq9"], by=therapist, session=sessions[0])
    QuestionnaireLink.objects.filter(pk=answered.pk).update(submitted_at=timezone.now())
    withdrawn, _ = issue_link(course=dit_course, instruments=["phq9"], by=therapist, session=sessions[1])
    withdraw_link(link=withdrawn, by=therapist)
    expired, _ = issue_link(course=dit_course, instruments=["phq9"], by=therapist, session=sessions[2])
    QuestionnaireLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - HOUR)
    still_open, _ = issue_link(course=dit_course, instruments=["gad7"], by=therapist)  # the next session's was answered
    client = client_for(therapist)
    today = timezone.localdate()

    page = client.get(_list_url(dit_course)).content.decode()
    assert f"answered on {today.day} {today:%b %Y}" in page
    assert f"withdrawn on {today.day} {today:%b %Y}" in page
    assert "expired on" in page
    assert page.count(">Closed<") == 3
    assert page.count(">Open<") == 1

    end_course(course=dit_course, reason="dropped_out", by=therapist)

    page = client.get(_list_url(dit_course)).content.decode()
    assert f"course ended on {today.day} {today:%b %Y}" in page
    assert page.count(">Closed<") == 4
    assert ">Open<" not in page
    still_open.refresh_from_db()
    assert closure(still_open).reason == "course_ended"
