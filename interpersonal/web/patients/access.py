"""Who may read or change which patient. Views read patient data only through these.

A therapist: patients allocated to them, with a referral allocated to them (assessment, then
treatment: Referral.therapist) or with a course of theirs. A supervisor: that, plus (read-only)
their supervisees' patients. Anyone else: nothing identifiable.
Refusals of records the user may not see are 404s, so existence is not revealed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.audit import log
from interpersonal.web.patients.models import Patient

if TYPE_CHECKING:
    from interpersonal.web.referrals.models import Referral


def _own(user: Any) -> Q:
    from interpersonal.web.courses.models import Course
    from interpersonal.web.referrals.models import Referral

    return (Q(therapist=user) | Q(Exists(Course.objects.filter(patient=OuterRef("pk"), therapist=user)))
            | Q(Exists(Referral.objects.filter(patient=OuterRef("pk"), therapist=user))))


def _supervised(user: Any) -> Q:
    from interpersonal.web.courses.models import Course
    from interpersonal.web.referrals.models import Referral
    from interpersonal.web.supervision.reach import supervises

    return (supervises(user)
            | Q(Exists(Course.objects.filter(supervises(user), patient=OuterRef("pk"))))
            | Q(Exists(Referral.objects.filter(supervises(user), patient=OuterRef("pk")))))


def patients_visible_to(user: Any, *, write: bool = False) -> QuerySet[Patient]:
    """Every patient ``user`` may read (or, with ``write``, change)."""
    rule = Q(pk__in=[])
    if has_permission(user, Permission.HOLD_CASELOAD):
        rule |= _own(user)
    if not write and has_permission(user, Permission.SUPERVISE):
        rule |= _supervised(user)
    return Patient.objects.filter(rule)


def get_patient_for_user(user: Any, pk: Any, *, write: bool = False) -> Patient:
    """The patient, read by ``user`` (audited); 404 if not visible, 403 if visible but read-only."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such patient") from None
    patient = patients_visible_to(user).filter(pk=pk).first()
    if patient is None:
        raise Http404("No such patient")
    if write and not patients_visible_to(user, write=True).filter(pk=pk).exists():
        raise PermissionDenied("You may read this patient's record but not change it.")
    log.record("patient.viewed", actor=user, target=patient, patient_id=patient.pk)
    return patient


def referral_of(patient: Patient, referral_pk: Any) -> Referral:
    """A referral of ``patient`` (read through :func:`get_patient_for_user`, so audited and
    allowed); 404 if it is not one of theirs."""
    from interpersonal.web.referrals.models import Referral

    try:
        referral_pk = int(referral_pk)
    except (TypeError, ValueError):
        raise Http404("No such referral") from None
    referral = Referral.objects.filter(patient=patient, pk=referral_pk).first()
    if referral is None:
        raise Http404("No such referral")
    return referral
