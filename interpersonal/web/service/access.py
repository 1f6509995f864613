"""Who may see which waiting referral (deny by default; docs/waiting.md "Who sees what").

- A clinician (a role that holds a caseload) sees **their own waiting list**, identifiably: the
  open referrals not yet in treatment (or waiting for their second treatment appointment) that are
  allocated to them (``Referral.therapist``) or whose patient they may change
  (``patients.access.patients_visible_to(write=True)``: allocated to them, or with a course of
  theirs). They invite, record opt-ins and discharge those. Another clinician's referral is a 404.
- The service lead (``VIEW_SERVICE_AGGREGATES``) sees the whole service's waiting list by
  **referral number only** (no name, local ID, NHS number or date of birth), the counts, the
  forecast and the costs, and may discharge, by number, referrals that did not opt in.
- Everyone else: nothing.

Reads of identifiable rows are audited here (``referral.viewed``; the list views audit the
patient ids they show, ``waiting_list.viewed``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.audit import log
from interpersonal.web.referrals.models import Referral

BEFORE_TREATMENT = (Referral.Status.AWAITING_TRIAGE, Referral.Status.WAITING)
"""Referrals awaiting screening, triage or their first treatment: the waiting list proper."""


def may_see_whole_service(user: Any) -> bool:
    return has_permission(user, Permission.VIEW_SERVICE_AGGREGATES)


def _own(user: Any, *, write: bool) -> Q:
    from interpersonal.web.patients.access import patients_visible_to

    return Q(therapist=user) | Q(patient__in=patients_visible_to(user, write=write).values("pk"))


def own_referrals(user: Any, *, write: bool = False) -> QuerySet[Referral]:
    """The open referrals on ``user``'s own waiting list (empty for a role without a caseload)."""
    if not has_permission(user, Permission.HOLD_CASELOAD):
        return Referral.objects.none()
    return Referral.objects.filter(_own(user, write=write)).exclude(status=Referral.Status.DISCHARGED)


def service_referrals(user: Any) -> QuerySet[Referral]:
    """Every open referral, for the service lead's pseudonymous pages (empty for anyone else)."""
    if not may_see_whole_service(user):
        return Referral.objects.none()
    return Referral.objects.exclude(status=Referral.Status.DISCHARGED)


def dischargeable_by(user: Any) -> QuerySet[Referral]:
    """The referrals ``user`` may discharge as not opted in: the lead any, a clinician their own."""
    if may_see_whole_service(user):
        return service_referrals(user)
    return own_referrals(user, write=True)


def get_referral_for_user(user: Any, pk: Any, *, write: bool = False) -> Referral:
    """One referral of ``user``'s own waiting list, read identifiably (audited): 404 if it is not
    theirs to see (whether or not it exists), 403 if they may read but not change it."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such referral") from None
    referral = own_referrals(user).select_related("patient", "therapist").filter(pk=pk).first()
    if referral is None:
        raise Http404("No such referral")
    if write and not own_referrals(user, write=True).filter(pk=pk).exists():
        raise PermissionDenied("You may read this referral but not change it.")
    log.record("referral.viewed", actor=user, target=referral, patient_id=referral.patient_id)
    return referral
