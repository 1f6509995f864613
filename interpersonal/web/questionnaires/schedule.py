"""The course schedule: which booked sessions are due their questionnaires, and enqueuing them.

A session is due when it is booked (no attendance yet), still ahead, in an active course, within
``INTERPERSONAL_REMINDER_HOURS_BEFORE`` hours, and has no questionnaire link yet — nor does its
course have an open link "for the next session" (one a clinician sent with nothing booked).
The link goes only by a channel the patient has consented to (``notify.contact_for``). For each, the
scheduler enqueues :func:`~interpersonal.web.questionnaires.tasks.send_questionnaire`, which issues
the link and sends it in one transaction (docs/adr/0006-background-work.md).

Enqueuing is safe to repeat — the task locks the session and sends nothing if a link exists, and
a partial unique constraint allows one scheduled link per session — so a scheduler restart, a
second scheduler or a slow worker never sends twice. ``Scheduler`` remembers what it enqueued for
a while so that a stopped worker does not collect one task per session per minute.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from interpersonal.core import protocols
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.courses.models import Course, TherapySession
from interpersonal.web.questionnaires.actions import answerable_by_patient
from interpersonal.web.questionnaires.models import QuestionnaireLink

logger = logging.getLogger(__name__)

NO_CONTACT_EVENT = "questionnaire_link.no_contact"
RETRY_AFTER = dt.timedelta(minutes=30)
"""How long a scheduler waits before enqueuing a session again whose task has not sent yet
(the worker is down or slow, or the send failed and rolled back)."""


def lead_time() -> dt.timedelta:
    hours = settings.INTERPERSONAL_REMINDER_HOURS_BEFORE
    if not 1 <= hours <= 24 * 14:
        raise ValueError(f"INTERPERSONAL_REMINDER_HOURS_BEFORE must be 1–336 hours, got {hours}")
    return dt.timedelta(hours=hours)


def bundle_for(protocol: protocols.Protocol) -> list[str]:
    """The measures the protocol sends by link (its ``link_measures``, protocol data), those a
    patient can answer by link — the loader refuses any other, and this keeps that true should a
    service's measure settings change a licence."""
    return [m for m in protocol.link_measures if answerable_by_patient(m)]


def send_at(session: TherapySession) -> dt.datetime:
    return session.scheduled_at - lead_time()


def due_sessions(now: dt.datetime | None = None) -> QuerySet[TherapySession]:
    """Booked sessions of active courses whose send time has come and which have no link yet.

    Sessions of patients who cannot be reached — no e-mail address with consent to e-mail, and
    no phone number with consent to text messages — drop out once the skip has been audited, so
    the audit trail gets one event per session, not one per run."""
    now = now or timezone.now()
    has_link = QuestionnaireLink.objects.filter(session=OuterRef("pk"))
    open_for_next = QuestionnaireLink.objects.filter(
        course=OuterRef("course"), session__isnull=True, submitted_at__isnull=True, withdrawn_at__isnull=True,
        expires_at__gt=now,
    )
    skip_audited = AuditEvent.objects.filter(
        type=NO_CONTACT_EVENT, target_type="therapysession", target_id=Cast(OuterRef("pk"), CharField()),
    )
    by_email = ~Q(referral__patient__email="") & Q(referral__patient__contact_by_email=True)
    by_sms = ~Q(referral__patient__phone="") & Q(referral__patient__contact_by_sms=True)
    no_contact = ~(by_email | by_sms)
    return (
        TherapySession.objects
        .filter(attendance__isnull=True, scheduled_at__gt=now, scheduled_at__lte=now + lead_time(),
                course__status=Course.Status.ACTIVE)
        .exclude(Exists(has_link))
        .exclude(Exists(open_for_next))
        .exclude(no_contact & Q(Exists(skip_audited)))
        .order_by("scheduled_at", "id")
    )


class Scheduler:
    """Enqueues due sessions; remembers them for ``retry_after`` (in this process only)."""

    def __init__(self, *, retry_after: dt.timedelta = RETRY_AFTER) -> None:
        self.retry_after = retry_after
        self._enqueued: dict[int, dt.datetime] = {}

    def run_once(self, now: dt.datetime | None = None) -> list[int]:
        """Enqueue a send for every due session not enqueued recently; their ids."""
        from interpersonal.web.questionnaires.tasks import send_questionnaire

        now = now or timezone.now()
        self._forget(now)
        enqueued = []
        for session_id in self._fresh(due_sessions(now).values_list("pk", flat=True)):
            send_questionnaire.enqueue(session_id)
            self._enqueued[session_id] = now
            enqueued.append(session_id)
        if enqueued:
            logger.info("questionnaires: enqueued %d session(s)", len(enqueued))
        return enqueued

    def _fresh(self, session_ids: Iterable[int]) -> list[int]:
        return [pk for pk in session_ids if pk not in self._enqueued]

    def _forget(self, now: dt.datetime) -> None:
        self._enqueued = {pk: at for pk, at in self._enqueued.items() if now - at < self.retry_after}
