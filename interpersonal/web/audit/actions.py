"""The one writer of the audit trail besides ``log.record()``: an administrator's acceptance of an
honest event that was never sealed (docs/adr/0004-audit-events.md, "Late events").

An event whose seal was lost and not made up within ``chain.SEALING_DELAY`` (an outage that took
the application and its scheduler down together) stays unsealed, and ``verify`` reports it as
late for ever: the sealer cannot tell it from a back-dated row inserted behind the application's
back. A person can — from the service's own records (web server logs, the clinical record, the
staff member). :func:`accept_late_event` records their decision: the late event itself stays
outside the chain, and a sealed ``audit.late_event_accepted`` event names it, the digest of its
content as accepted and a signature with the service's secret. ``verify`` then counts it as
accepted instead of reporting it, and reports it as edited if it changes afterwards.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.audit import chain, log
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.privacy import reference as case_reference


class NotAcceptable(Exception):
    """The event cannot be accepted as late; the message says why, for the operator."""


def late_event(event_id: int) -> AuditEvent:
    """The event ``event_id``, if it is one ``verify`` reports as late and nobody has accepted yet."""
    event = AuditEvent.objects.filter(pk=event_id).first()
    if event is None:
        raise NotAcceptable(f"There is no audit event {event_id}.")
    if event.seq is not None:
        raise NotAcceptable(f"Event {event_id} is in the chain already: there is nothing to accept.")
    if event.at >= timezone.now() - chain.SEALING_DELAY:
        raise NotAcceptable(f"Event {event_id} is not late: it is dated within the last "
                            f"{chain.duration(chain.SEALING_DELAY)}, and the sealer will take it "
                            "('interpersonal audit seal').")
    if AuditEvent.objects.filter(type=chain.LATE_ACCEPTED_EVENT, target_type="auditevent",
                                 target_id=str(event_id)).exists():
        raise NotAcceptable(f"Event {event_id} has been accepted already.")
    return event


@transaction.atomic
def accept_late_event(*, event_id: int, reference: str, by: Any, via: str = "cli", os_user: str = "") -> AuditEvent:
    """Record that ``by`` (an active administrator, Permission.VIEW_AUDIT) checked the late event
    ``event_id`` against the service's own records, under the incident ``reference``."""
    if not has_permission(by, Permission.VIEW_AUDIT):
        raise NotAcceptable(f"{by.get_username()} is not an active administrator: only an administrator can "
                            "accept a late audit event.")
    try:
        reference = case_reference.clean(reference, required=True)
    except ValueError as exc:
        raise NotAcceptable(str(exc)) from None
    event = late_event(event_id)
    content = AuditEvent.objects.filter(pk=event.pk).values_list(*chain.CONTENT_FIELDS).get()
    digest = chain.content_digest(content)
    return log.record(chain.LATE_ACCEPTED_EVENT, actor=by, target=("auditevent", event.pk),
                      patient_id=event.patient_id, late_event=event.pk, digest=digest,
                      signature=chain.late_signature(event.pk, digest), reference=reference, via=via,
                      os_user=os_user[:64])
