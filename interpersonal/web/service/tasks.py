"""Background task that sends an opt-in invitation by e-mail or SMS (run by ``interpersonal
db_worker``; docs/adr/0006-background-work.md). It takes only the invitation's id.

The message says who is writing and what to do by when, with the patient's first name only —
nothing clinical (a message may be read on a lock screen), as questionnaires.notify's messages.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from interpersonal.web.audit import log
from interpersonal.web.questionnaires import notify
from interpersonal.web.service.models import OptInInvitation

logger = logging.getLogger(__name__)

SENT, SKIPPED, NO_CONTACT, FAILED = "sent", "skipped", "no_contact", "failed"


def _contact(patient: Any, channel: str) -> notify.Contact | None:
    """Where the chosen channel reaches the patient now (None if it no longer does, or is a letter)."""
    if channel not in (OptInInvitation.Channel.EMAIL, OptInInvitation.Channel.SMS):
        return None
    return notify.reach(patient, str(channel)).contact


def message(invitation: OptInInvitation, *, channel: str) -> notify.Message:
    """The invitation's text: first name, the service, how to reply and by when. Nothing clinical."""
    service = settings.INTERPERSONAL_SERVICE_NAME
    phone, email = settings.INTERPERSONAL_LETTERHEAD_PHONE, settings.INTERPERSONAL_LETTERHEAD_EMAIL
    by = f"{invitation.respond_by:%A} {invitation.respond_by.day} {invitation.respond_by:%B %Y}"
    if channel == OptInInvitation.Channel.SMS:
        return notify.Message("", (
            f"{service}: you were referred to us. To arrange your first appointment, please call {phone} "
            f"by {by}. If we do not hear from you, we will close the referral and tell your GP."
        ))
    name = invitation.referral.patient.given_name.strip() or "there"
    return notify.Message(
        f"{service}: please get in touch by {by}",
        f"Hello {name},\n\n"
        f"You were referred to {service}. To arrange your first appointment, please call us on {phone} "
        f"or e-mail {email} by {by}.\n\n"
        f"If we do not hear from you by then, we will take it that you do not want an appointment now: we "
        f"will close the referral and let your GP know. You can refer yourself again at any time.\n\n"
        f"{service}\n",
    )


@task()
def send_opt_in(invitation_id: int) -> str:
    """Send the invitation's e-mail or SMS; the outcome."""
    outcome = send(invitation_id)
    logger.info("service: opt-in invitation %s: %s", invitation_id, outcome)
    return outcome


@transaction.atomic
def send(invitation_id: int) -> str:
    """Send once: the row is locked and must still be queued. A failure to send marks it failed
    (the clinician sees it and may send a letter instead); the error goes to the worker's log."""
    invitation = (OptInInvitation.objects.select_for_update(of=("self",)).select_related("referral__patient")
                  .filter(pk=invitation_id, delivery=OptInInvitation.Delivery.QUEUED).first())
    if invitation is None:
        return SKIPPED
    patient = invitation.referral.patient
    contact = _contact(patient, invitation.channel)
    if contact is None:  # the details were removed since the invitation was asked for
        OptInInvitation.objects.filter(pk=invitation.pk).update(delivery=OptInInvitation.Delivery.NO_CONTACT)
        log.record("opt_in.no_contact", actor=None, target=invitation, patient_id=patient.pk)
        return NO_CONTACT
    text = message(invitation, channel=invitation.channel)
    try:
        contact.notifier.send(to=contact.to, subject=text.subject, body=text.body)
    except Exception:
        logger.exception("service: opt-in invitation %s could not be sent", invitation.pk)
        OptInInvitation.objects.filter(pk=invitation.pk).update(delivery=OptInInvitation.Delivery.FAILED)
        log.record("opt_in.send_failed", actor=None, target=invitation, patient_id=patient.pk)
        return FAILED
    OptInInvitation.objects.filter(pk=invitation.pk).update(delivery=OptInInvitation.Delivery.SENT,
                                                            delivered_at=timezone.now())
    log.record("opt_in.sent", actor=None, target=invitation, patient_id=patient.pk, channel=invitation.channel)
    return SENT
