"""Patients: parse → access (audited) → action → respond."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from interpersonal.core.identifiers import InvalidNHSNumber, normalise_nhs_number
from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission
from interpersonal.web.assessments.alerts import ALERT_RELATED, describe_alert
from interpersonal.web.assessments.models import RiskAlert
from interpersonal.web.audit import log
from interpersonal.web.courses.access import courses_visible_to
from interpersonal.web.formerrors import add_action_errors
from interpersonal.web.patients import actions
from interpersonal.web.patients.access import get_patient_for_user, patients_visible_to, referral_of
from interpersonal.web.patients.actions import DATA_SET_FLAGS, EDITABLE
from interpersonal.web.patients.forms import (
    EditPatientForm,
    EndReferralForm,
    NewPatientForm,
    ReferralForm,
    flag_initial,
)
from interpersonal.web.patients.models import Patient
from interpersonal.web.patients.pathway import pathways, triaged_to
from interpersonal.web.referrals import actions as referrals

clinician = require_permission(Permission.HOLD_CASELOAD)


@require_GET
@clinician
def patient_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").replace("\x00", "").strip()[:100]  # PostgreSQL refuses a NUL
    patients = patients_visible_to(request.user)
    if q:
        patients = patients.filter(Q(family_name__icontains=q) | Q(given_name__icontains=q) | Q(local_id__iexact=q)
                                   | Q(nhs_number=q.replace(" ", "")))
    shown = list(patients.select_related("therapist").annotate(referred_on=Max("referrals__received_on"))[:200])
    # Audited as the records listed, never the search text (it may be an NHS number).
    log.record("patients.listed", actor=request.user, target=("user", request.user.pk),
               patient_ids=[p.pk for p in shown], searched=bool(q))
    return render(request, "patients/list.html", {"patients": shown, "q": q})


@require_http_methods(["GET", "POST"])
@clinician
def new(request: HttpRequest) -> HttpResponse:
    form = NewPatientForm(request.POST or None)
    duplicates: list[Patient] | None = None
    if form.is_bound and form.is_valid():
        try:
            patient = actions.register_patient(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
            if any(e.code == "possible_duplicate" for e in getattr(exc, "error_dict", {}).get("different_person", [])):
                duplicates = _duplicates_shown(request.user, form.cleaned_data)
        else:
            return redirect("patients:detail", patient.pk)
    return render(request, "patients/form.html", {
        "form": form, "title": "Register a patient", "duplicates": duplicates,
    }, status=400 if form.is_bound else 200)


def _duplicates_shown(user: Any, data: dict[str, Any]) -> list[Patient]:
    """Of the possible duplicates, those ``user`` may read (each read audited): a patient outside
    their reach is never named; the form says only that one exists."""
    try:
        nhs_number = normalise_nhs_number(data["nhs_number"]) if data.get("nhs_number") else None
    except InvalidNHSNumber:
        nhs_number = None
    found = actions.possible_duplicates(given_name=data["given_name"], family_name=data["family_name"],
                                        date_of_birth=data["date_of_birth"], nhs_number=nhs_number)
    visible = list(patients_visible_to(user).filter(pk__in=[p.pk for p in found]).select_related("therapist"))
    if visible:
        log.record("patients.listed", actor=user, target=("user", user.pk), patient_ids=[p.pk for p in visible],
                   searched=True)
    return visible


@require_GET
@clinician
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, pk)
    may_change = patients_visible_to(request.user, write=True).filter(pk=patient.pk).exists()
    found = pathways(patient, courses_visible_to(request.user))
    return render(request, "patients/detail.html", {
        "patient": patient, "may_change": may_change, "pathways": found,
        "has_open_referral": any(p.referral.is_open for p in found),
        # Every open alert of every referral — of any course, ended or stepped up, or raised at
        # screening with no course — until acknowledged: risk is never hidden.
        "open_alerts": [a for p in found for a in p.open_alerts],
        "visible_course_ids": {s.course.pk for p in found for s in p.steps if s.visible},
    })


@require_http_methods(["GET", "POST"])
@clinician
def new_referral(request: HttpRequest, pk: int) -> HttpResponse:
    """A re-referral: a new referral for a patient whose earlier ones have all ended."""
    patient = get_patient_for_user(request.user, pk, write=True)
    form = ReferralForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            referrals.receive_referral(patient=patient, by=request.user, therapist=patient.therapist,
                                       **form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return redirect(reverse("patients:detail", args=[patient.pk]) + "#referrals")
    open_referral = referrals.open_referral_of(patient)
    return render(request, "patients/referral_form.html", {
        "form": form, "patient": patient, "open_referral": open_referral,
    }, status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@clinician
def end_referral(request: HttpRequest, pk: int, referral_pk: int) -> HttpResponse:
    """End (discharge) a referral that has no active course: before treatment, or after its
    last course ended for a step change that was not followed."""
    patient = get_patient_for_user(request.user, pk, write=True)
    referral = referral_of(patient, referral_pk)
    treated = referral.courses.exists()
    form = EndReferralForm(request.POST or None, treated=treated, initial={"version": referral.version})
    if form.is_bound and form.is_valid():
        try:
            referrals.end_referral(referral=referral, reason=form.cleaned_data["reason"], by=request.user,
                                   ended_on=form.cleaned_data["ended_on"],
                                   expected_version=form.cleaned_data["version"])
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return redirect(reverse("patients:detail", args=[patient.pk]) + f"#referral-{referral.pk}")
    alerts = [describe_alert(a) for a in RiskAlert.objects.filter(referral=referral, acknowledged_at__isnull=True)
              .select_related(*ALERT_RELATED, "course", "left_open_by").order_by("raised_at", "id")]
    return render(request, "patients/end_referral.html", {
        "form": form, "patient": patient, "referral": referral, "open_alerts": alerts,
        "triaged_to": triaged_to(referral), "has_active_course": referral.courses.filter(status="active").exists(),
    }, status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@clinician
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, pk, write=True)
    stale = False
    if request.method == "POST":
        form = EditPatientForm(request.POST)
        if form.is_valid():
            fields = {k: form.cleaned_data[k] for k in EDITABLE}
            try:
                actions.update_patient(patient=patient, by=request.user,
                                       expected_version=form.cleaned_data["version"], **fields)
            except ValidationError as exc:
                stale = not hasattr(exc, "error_dict")
                add_action_errors(form, exc)
            else:
                return redirect("patients:detail", patient.pk)
    else:
        initial = {k: getattr(patient, k) for k in EDITABLE} | {"version": patient.version}
        initial |= {k: flag_initial(initial[k]) for k in DATA_SET_FLAGS}
        form = EditPatientForm(initial=initial)
    return render(request, "patients/form.html", {
        "form": form, "patient": patient, "stale": stale, "title": f"Change {patient.full_name}'s details",
    }, status=400 if form.is_bound else 200)
