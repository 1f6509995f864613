"""Background tasks of questionnaire links (run by ``interpersonal db_worker``).

:func:`send_questionnaire` takes only a session id: it issues the link and sends it in one
transaction, so the token exists only in memory and in the message — never in the task queue,
the database or a log (docs/adr/0006-background-work.md).
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
from interpersonal.web.questionnaires.actions import SCHEDULE, issue_link
from interpersonal.web.questionnaires.models import QuestionnaireLink
from interpersonal.web.questionnaires.schedule import NO_CONTACT_EVENT, bundle_for, send_at

logger = logging.getLogger(__name__)

SENT = "sent"
NOT_DUE = "not_due"
ALREADY_SENT = "already_sent"
NO_CONTACT = "no_contact"
NO_MEASURES = "no_measures"


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
    contact = notify.contact_for(patient)
    if contact is None:
        if not AuditEvent.objects.filter(type=NO_CONTACT_EVENT, target_type="therapysession",
                                         target_id=str(session.pk)).exists():
            log.record(NO_CONTACT_EVENT, actor=SCHEDULE, target=session, patient_id=patient.pk, course_id=course.pk)
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
    QuestionnaireLink.objects.filter(pk=link.pk).update(reminder_sent_at=timezone.now())
    log.record("questionnaire_link.sent", actor=SCHEDULE, target=link, patient_id=patient.pk, course_id=course.pk,
               session_id=session.pk, channel=contact.channel)
    return SENT
