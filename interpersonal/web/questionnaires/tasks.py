"""Background tasks of questionnaire links (run by ``interpersonal db_worker``).

:func:`send_questionnaire` takes only a session id: it issues the link and sends it in one
transaction, so the token exists only in memory and in the message — never in the task queue,
the database or a log (docs/adr/0006-background-work.md).

:func:`deliver_link` takes only a link id: it sends a link a clinician queued from the course,
giving the link a fresh token as it sends — the same guarantee for links that already exist.

Neither sends by a channel the patient has not consented to (``notify.reach``).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from interpersonal.web.audit import log
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.courses.models import TherapySession
from interpersonal.web.questionnaires import notify
from interpersonal.web.questionnaires.actions import SCHEDULE, WORKER, issue_link, link_usable
from interpersonal.web.questionnaires.models import QuestionnaireLink
from interpersonal.web.questionnaires.schedule import NO_CONTACT_EVENT, bundle_for, send_at
from interpersonal.web.questionnaires.tokens import hash_token, new_token

logger = logging.getLogger(__name__)

SENT = "sent"
NOT_DUE = "not_due"
ALREADY_SENT = "already_sent"
NO_CONTACT = "no_contact"
NO_MEASURES = "no_measures"
FAILED = "failed"
SKIPPED = "skipped"


@task()
def send_questionnaire(session_id: int) -> str:
    """Issue the session's questionnaire link and send it to the patient; the outcome."""
    outcome = send_for_session(session_id)
    logger.info("questionnaires: session %s: %s", session_id, outcome)
    return outcome


@transaction.atomic
def send_for_session(session_id: int) -> str:
    """The schedule's action: at most one link per session, sent once.

    The session's row is locked first (PostgreSQL; SQLite's write transaction is exclusive), so
    concurrent runs for one session queue here and the later ones find the link. The message is
    sent inside the transaction: if sending fails, the link and its audit events roll back and a
    later run sends a fresh link — a patient never holds a link nobody told them about, at the cost
    of a rare duplicate message if the commit itself fails after a successful send.
    """
    session = (TherapySession.objects.select_for_update(of=("self",)).select_related("course__patient")
               .filter(pk=session_id).first())
    now = timezone.now()
    # An assessment contact (no course) has no course schedule: nothing is due for it.
    if session is None or session.course is None or session.attendance is not None or not session.course.is_active \
            or not send_at(session) <= now < session.scheduled_at:
        return NOT_DUE
    if QuestionnaireLink.objects.filter(session=session).exists():
        return ALREADY_SENT
    course, patient = session.course, session.course.patient
    if QuestionnaireLink.objects.filter(course=course, session__isnull=True, submitted_at__isnull=True,
                                        withdrawn_at__isnull=True, expires_at__gt=now).exists():
        return ALREADY_SENT  # the clinician's open link "for the next session" is this one's
    contact = notify.contact_for(patient)
    if contact is None:
        if not AuditEvent.objects.filter(type=NO_CONTACT_EVENT, target_type="therapysession",
                                         target_id=str(session.pk)).exists():
            reasons = [notify.reach(patient, channel).reason for channel in ("email", "sms")]
            log.record(NO_CONTACT_EVENT, actor=SCHEDULE, target=session, patient_id=patient.pk, course_id=course.pk,
                       consent="No consent" in " ".join(reasons))
        return NO_CONTACT
    instruments = bundle_for(course.definition)
    if not instruments:
        return NO_MEASURES
    link, token = issue_link(course=course, instruments=instruments, by=None, session=session, scheduled=True,
                             remind_at=send_at(session))
    message = notify.questionnaire_message(
        channel=contact.channel, given_name=patient.given_name, url=notify.link_url(token),
        expires_at=link.expires_at, appointment_at=session.scheduled_at,
    )
    contact.notifier.send(to=contact.to, subject=message.subject, body=message.body)
    sent_at = timezone.now()
    QuestionnaireLink.objects.filter(pk=link.pk).update(
        reminder_sent_at=sent_at, delivery_channel=contact.channel, delivery=QuestionnaireLink.Delivery.SENT,
        delivered_to=notify.masked(contact.channel, contact.to), delivered_at=sent_at)
    log.record("questionnaire_link.sent", actor=SCHEDULE, target=link, patient_id=patient.pk, course_id=course.pk,
               session_id=session.pk, channel=contact.channel)
    return SENT


@task()
def deliver_link(link_id: int) -> str:
    """Send a link a clinician queued (e-mail or text message) to the patient; the outcome."""
    outcome = deliver(link_id)
    logger.info("questionnaires: link %s: %s", link_id, outcome)
    return outcome


FAILURE_TEXT = {"email": "the mail server did not accept the message", "sms": "the text message service did not accept "
                "the message"}


@transaction.atomic
def deliver(link_id: int) -> str:
    """Send a queued link once: its row is locked and must still be queued.

    The link gets a fresh token, put in the message and its hash stored only once the message
    has gone; any token sent or copied before stops working, so the patient holds one working
    link. A link closed since it was queued is not sent; a channel that no longer reaches the
    patient (address removed, consent withdrawn) or a refused send marks the link failed, with
    the reason for the clinician (the exception goes to the worker's log, which never has the
    token: tracebacks carry no local variables). If the commit itself fails after a send, the
    patient holds a message whose link does not work and the link stays queued; sending it again
    mends that.
    """
    link = (QuestionnaireLink.objects.select_for_update(of=("self",))
            .select_related("course__patient", "session", "referral")
            .filter(pk=link_id, delivery=QuestionnaireLink.Delivery.QUEUED).first())
    if link is None:
        return SKIPPED
    patient, channel = link.patient, link.delivery_channel
    now = timezone.now()
    where = {"course_id": link.course_id, "channel": channel}
    if link.course_id is None or link.state != QuestionnaireLink.State.OPEN or not link_usable(link):
        QuestionnaireLink.objects.filter(pk=link.pk).update(delivery=QuestionnaireLink.Delivery.CANCELLED,
                                                            delivered_at=now)
        log.record("questionnaire_link.send_cancelled", actor=WORKER, target=link, patient_id=patient.pk, **where)
        return SKIPPED
    found = notify.reach(patient, channel)
    if found.contact is None:
        QuestionnaireLink.objects.filter(pk=link.pk).update(
            delivery=QuestionnaireLink.Delivery.FAILED, delivered_at=now, delivery_error=found.reason[:200])
        log.record("questionnaire_link.send_failed", actor=WORKER, target=link, patient_id=patient.pk, **where)
        return NO_CONTACT
    contact, token = found.contact, new_token()
    message = notify.questionnaire_message(
        channel=channel, given_name=patient.given_name, url=notify.link_url(token), expires_at=link.expires_at,
        appointment_at=link.session.scheduled_at if link.session_id is not None else None,
    )
    try:
        contact.notifier.send(to=contact.to, subject=message.subject, body=message.body)
    except Exception as exc:
        logger.exception("questionnaires: link %s could not be sent by %s", link.pk, channel)
        QuestionnaireLink.objects.filter(pk=link.pk).update(
            delivery=QuestionnaireLink.Delivery.FAILED, delivered_at=timezone.now(),
            delivery_error=f"{FAILURE_TEXT[channel]} ({type(exc).__name__})"[:200])
        log.record("questionnaire_link.send_failed", actor=WORKER, target=link, patient_id=patient.pk, **where)
        return FAILED
    QuestionnaireLink.objects.filter(pk=link.pk).update(
        token_hash=hash_token(token), delivery=QuestionnaireLink.Delivery.SENT,
        delivered_to=notify.masked(channel, contact.to), delivered_at=timezone.now(), delivery_error="")
    log.record("questionnaire_link.sent", actor=WORKER, target=link, patient_id=patient.pk, **where)
    return SENT
