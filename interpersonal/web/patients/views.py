"""Patients: parse → access (audited) → action → respond."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission
from interpersonal.web.assessments.alerts import open_alerts
from interpersonal.web.audit import log
from interpersonal.web.courses.access import courses_visible_to
from interpersonal.web.formerrors import add_action_errors
from interpersonal.web.patients import actions
from interpersonal.web.patients.access import get_patient_for_user, patients_visible_to
from interpersonal.web.patients.actions import EDITABLE
from interpersonal.web.patients.forms import EditPatientForm, RegisterPatientForm

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
    form = RegisterPatientForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            patient = actions.register_patient(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return redirect("patients:detail", patient.pk)
    return render(request, "patients/form.html", {"form": form, "title": "Register a patient"},
                  status=400 if form.is_bound else 200)


@require_GET
@clinician
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, pk)
    courses = courses_visible_to(request.user).filter(patient=patient).select_related("therapist")
    may_change = patients_visible_to(request.user, write=True).filter(pk=patient.pk).exists()
    return render(request, "patients/detail.html", {
        "patient": patient, "courses": courses, "may_change": may_change,
        "referrals": patient.referrals.order_by("-received_on", "-id"),
        "has_active": any(c.is_active for c in courses),
        # Whatever happened to the course since (ended, stepped up), until acknowledged.
        "open_alerts": open_alerts(courses),
    })


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
        form = EditPatientForm(initial={k: getattr(patient, k) for k in EDITABLE} | {"version": patient.version})
    return render(request, "patients/form.html", {
        "form": form, "patient": patient, "stale": stale, "title": f"Change {patient.full_name}'s details",
    }, status=400 if form.is_bound else 200)
