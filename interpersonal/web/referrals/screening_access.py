"""Who may read or change a referral's screening and triage (docs/screening.md). Deny by default.

- The referral's **allocated clinician** (``Referral.therapist``, a role with a caseload) reads
  and screens it; a therapist of one of its courses reads it.
- Their **supervisor** reads it (and may acknowledge its risk alerts), never changes it.
- A clinician permitted to **triage** (``Permission.TRIAGE_REFERRALS``) reads and screens every
  referral not yet in treatment (awaiting triage or waiting), whoever it is allocated to: the
  queue is theirs. Once a course has started or the referral is discharged, only the clinicians
  responsible for the case see it.
- Nobody else: the service lead, administrators and records officers are refused by role (403)
  before any referral is looked up; a clinician who may not see a referral gets a 404, so that
  its existence is not revealed.

Every read of a referral's screening page is audited (``referral.viewed``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.audit import log
from interpersonal.web.referrals.models import Referral
from interpersonal.web.supervision.reach import is_supervising, supervises

PRE_TREATMENT = (Referral.Status.AWAITING_TRIAGE, Referral.Status.WAITING)
"""A referral in these states is in the screening and triage queue."""


def may_use_screening(user: Any) -> bool:
    """The role may open screening pages at all (then each referral is checked)."""
    return has_permission(user, Permission.HOLD_CASELOAD) or has_permission(user, Permission.TRIAGE_REFERRALS)


def _course_of(user_rule: Q) -> Q:
    from interpersonal.web.courses.models import Course

    return Q(Exists(Course.objects.filter(user_rule, referral=OuterRef("pk"))))


def referrals_visible_to(user: Any) -> QuerySet[Referral]:
    """Every referral whose screening ``user`` may read."""
    rule = Q(pk__in=[])
    if has_permission(user, Permission.HOLD_CASELOAD):
        rule |= Q(therapist=user) | _course_of(Q(therapist=user))
    if has_permission(user, Permission.SUPERVISE):
        rule |= supervises(user) | _course_of(supervises(user))
    if has_permission(user, Permission.TRIAGE_REFERRALS):
        rule |= Q(status__in=PRE_TREATMENT)
    return Referral.objects.filter(rule)


def may_screen(user: Any, referral: Referral) -> bool:
    """Whether ``user`` may record screening, decide suitability and triage ``referral`` (open):
    its allocated clinician, or a clinician permitted to triage while it is not yet in treatment."""
    if not referral.is_open:
        return False
    if referral.therapist_id == user.pk and has_permission(user, Permission.HOLD_CASELOAD):
        return True
    return referral.status in PRE_TREATMENT and has_permission(user, Permission.TRIAGE_REFERRALS)


def may_acknowledge_screening_alerts(user: Any, referral: Referral) -> bool:
    """A risk alert raised at screening (no course): the referral's allocated clinician or their
    supervisor, a therapist of one of its courses or their supervisor, or, while the referral is
    not yet in treatment, a clinician permitted to triage (the queue they work from)."""
    from interpersonal.web.courses.models import Course

    if has_permission(user, Permission.HOLD_CASELOAD) and (
        referral.therapist_id == user.pk or Course.objects.filter(referral=referral, therapist=user).exists()
    ):
        return True
    if has_permission(user, Permission.SUPERVISE) and (
        is_supervising(user, referral.therapist_id)
        or Course.objects.filter(supervises(user), referral=referral).exists()
    ):
        return True
    return referral.is_open and referral.status in PRE_TREATMENT and has_permission(user, Permission.TRIAGE_REFERRALS)


def get_referral_for_screening(user: Any, pk: Any, *, write: bool = False) -> Referral:
    """The referral, read by ``user`` (audited): 404 if they may not see it, 403 if they may read
    but not change it (a supervisor; a referral in treatment or discharged, for writes)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such referral") from None
    referral = referrals_visible_to(user).select_related("patient", "therapist").filter(pk=pk).first()
    if referral is None:
        raise Http404("No such referral")
    if write and not may_screen(user, referral):
        raise PermissionDenied("Only the referral's allocated clinician or a clinician who triages can change it, "
                               "and only before treatment starts.")
    log.record("referral.viewed", actor=user, target=referral, patient_id=referral.patient_id)
    return referral


def open_screening_alerts(user: Any) -> QuerySet[Any]:
    """The open risk alerts raised at screening (no course) that ``user`` must see until one is
    acknowledged: of referrals allocated to them, (read only) to their supervisees, and, for a
    clinician who triages, of unallocated referrals not yet in treatment. Shown on the caseload
    (courses.views.caseload_view), whatever happened to the referral since."""
    from interpersonal.web.assessments.models import RiskAlert

    rule = Q(pk__in=[])
    if has_permission(user, Permission.HOLD_CASELOAD):
        rule |= Q(referral__therapist=user)
    if has_permission(user, Permission.SUPERVISE):
        rule |= supervises(user, "referral__therapist")
    if has_permission(user, Permission.TRIAGE_REFERRALS):
        rule |= Q(referral__therapist__isnull=True, referral__status__in=PRE_TREATMENT)
    return (RiskAlert.objects.filter(rule, course__isnull=True, acknowledged_at__isnull=True)
            .select_related("referral__patient", "referral__therapist", "measurement__recorded_by",
                            "measurement__session", "measurement__questionnaire_link", "questionnaire_link").order_by("raised_at", "id"))
