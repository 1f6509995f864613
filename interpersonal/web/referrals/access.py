"""Who may read which referral. Views read referrals only through these (docs/adr/0005).

* A clinician who works the referral inbox (``Permission.TRIAGE_REFERRALS``: supervisors, as
  the senior clinicians; not every therapist) reads, and may act on, every referral **awaiting triage**, whoever it is allocated
  to: that is the inbox. Beyond it, the referrals of the patients they may read
  (patients.access: their own, and read-only their supervisees').
* The service lead (``Permission.VIEW_REFERRAL_QUEUE``) sees the inbox as a queue: referral
  numbers, dates, sources and flags, never a name, an identifier or clinical text, and opens no
  referral.
* Anyone else: nothing. A referral the user may not see is a 404, so its existence is not
  revealed; one they may read but not change is a 403 for a change.

Every read of an identifiable referral is audited (``referral.viewed``, ``referrals.listed``,
``patients.matched``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.audit import log
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.referrals.models import Referral, SelfReferral

INBOX_PAGE_SIZE = 50


def may_triage(user: Any) -> bool:
    return has_permission(user, Permission.TRIAGE_REFERRALS)


def may_see_queue(user: Any) -> bool:
    return may_triage(user) or has_permission(user, Permission.VIEW_REFERRAL_QUEUE)


def referrals_visible_to(user: Any, *, write: bool = False) -> QuerySet[Referral]:
    """Every referral ``user`` may read (or, with ``write``, act on) as a clinician."""
    from interpersonal.web.patients.access import patients_visible_to

    rule = Q(pk__in=[])
    if may_triage(user):
        rule |= Q(status=Referral.Status.AWAITING_TRIAGE)
    if has_permission(user, Permission.HOLD_CASELOAD) or has_permission(user, Permission.SUPERVISE):
        rule |= Q(patient__in=patients_visible_to(user, write=write).values("pk"))
    return Referral.objects.filter(rule)


def get_referral_for_user(user: Any, pk: Any, *, write: bool = False) -> Referral:
    """The referral, read by ``user`` (audited); 404 if not visible, 403 if visible but read-only."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such referral") from None
    referral = (referrals_visible_to(user).filter(pk=pk)
                .select_related("patient", "therapist", "triaged_by", "self_referral").first())
    if referral is None:
        raise Http404("No such referral")
    if write and not referrals_visible_to(user, write=True).filter(pk=pk).exists():
        raise PermissionDenied("You may read this referral but not act on it.")
    log.record("referral.viewed", actor=user, target=referral, patient_id=referral.patient_id)
    return referral


@dataclass(frozen=True)
class InboxRow:
    referral: Referral
    days_waiting: int
    self_referral: SelfReferral | None
    risk_open: bool
    """An unacknowledged risk alert in this referral (screening or any later measure)."""
    risk_noted: bool
    """A risk alert was raised in this referral at some time (acknowledged since)."""

    @property
    def possible_duplicate(self) -> bool:
        return bool(self.self_referral and self.self_referral.duplicate == SelfReferral.Duplicate.POSSIBLE)

    @property
    def confirmed_duplicate(self) -> bool:
        return bool(self.self_referral and self.self_referral.duplicate == SelfReferral.Duplicate.DUPLICATE)


@dataclass(frozen=True)
class Inbox:
    rows: list[InboxRow]
    page: Page
    identifiable: bool
    """False for the service lead's queue: referral numbers only."""


def inbox(user: Any, *, source: str = "", status: str = Referral.Status.AWAITING_TRIAGE, page: Any = 1) -> Inbox:
    """The referral inbox, oldest first (the longest wait at the top), one page of
    :data:`INBOX_PAGE_SIZE`. ``status`` "" is any status. Audited as the referrals listed."""
    from interpersonal.web.assessments.models import RiskAlert

    if may_triage(user):
        referrals, identifiable = referrals_visible_to(user), True
    elif may_see_queue(user):
        referrals, identifiable = Referral.objects.all(), False
    else:
        raise PermissionDenied("Your role does not give access to the referral inbox.")
    if source:
        referrals = referrals.filter(source=source)
    if status:
        referrals = referrals.filter(status=status)
    alerts = RiskAlert.objects.filter(referral=OuterRef("pk"))
    referrals = (referrals.select_related("patient", "self_referral", "therapist")
                 .annotate(risk_open=Exists(alerts.filter(acknowledged_at__isnull=True)), risk_noted=Exists(alerts))
                 .order_by("received_on", "id"))
    shown = Paginator(referrals, INBOX_PAGE_SIZE).get_page(page)
    today = timezone.localdate()
    rows = [InboxRow(r, (today - r.received_on).days, getattr(r, "self_referral", None), r.risk_open, r.risk_noted)
            for r in shown.object_list]
    log.record("referrals.listed", actor=user, target=("user", user.pk), referral_ids=[r.referral.pk for r in rows],
               patient_ids=[r.referral.patient_id for r in rows] if identifiable else [], identifiable=identifiable)
    return Inbox(rows, shown, identifiable)


def candidates_shown(user: Any, candidates: list[Any]) -> None:
    """Audit that registered patients were shown to ``user`` as possibly the person they are
    entering a referral for (referrals.actions.NeedsMatchDecision)."""
    log.record("patients.matched", actor=user, target=("user", user.pk),
               patient_ids=[c.patient.pk for c in candidates])


@dataclass(frozen=True)
class DuplicateOf:
    """What a clinician working the inbox is told about the registered patient a self-referral
    matched: enough to find the two records, nothing from the other record's contents."""

    patient_id: int
    local_id: str | None
    """None when that record has since been erased."""
    match: str
    open_referral_received: dt.date | None
    open_referral_status: str


def duplicate_of(referral: Referral, *, user: Any) -> DuplicateOf | None:
    """The registered patient ``referral``'s self-referral matched, if it was flagged (audited: the
    other patient's id is shown)."""
    from interpersonal.web.patients.models import Patient
    from interpersonal.web.referrals.actions import open_referral_of

    submission = getattr(referral, "self_referral", None)
    if submission is None or submission.duplicate_of is None:
        return None
    other = Patient.objects.filter(pk=submission.duplicate_of).first()
    current = open_referral_of(other) if other is not None else None
    if other is not None:
        log.record("patients.matched", actor=user, target=referral, patient_ids=[other.pk])
    return DuplicateOf(
        patient_id=submission.duplicate_of, local_id=other.local_id if other else None,
        match=SelfReferral.Match(submission.duplicate_match).label if submission.duplicate_match else "",
        open_referral_received=current.received_on if current else None,
        open_referral_status=current.get_status_display().lower() if current else "",
    )


HISTORY_LABELS = {
    "referral.received": "Referral received",
    "self_referral.received": "Sent with the self-referral form",
    "referral.matched_patient": "Matched to a registered patient",
    "self_referral.duplicate_decided": "Possible duplicate checked",
    "referral.in_treatment": "Treatment started",
    "referral.discharged": "Discharged",
}
"""Labels for the events of a referral's history; another event shows its type."""


def history(referral: Referral) -> list[dict[str, Any]]:
    """What happened to the referral, oldest first, from the audit trail (changes only: reads
    are in the audit trail for administrators)."""
    targets = Q(target_type="referral", target_id=str(referral.pk))
    submission = getattr(referral, "self_referral", None)
    if submission is not None:
        targets |= Q(target_type="selfreferral", target_id=str(submission.pk))
    events = (AuditEvent.objects.filter(targets).exclude(type__endswith=".viewed").exclude(type="patients.matched")
              .order_by("at", "id")[:200])
    return [{"at": e.at, "what": HISTORY_LABELS.get(e.type, e.type), "who": e.actor_username or "—",
             "data": e.data} for e in events]
