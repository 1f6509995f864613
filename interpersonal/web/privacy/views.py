"""The records pages: information governance finds one patient by identifier, makes their subject
access copy (JSON or PDF) and — for a record entered in error, past retention or under an upheld
erasure request — erases it. Records officers only (Permission.HANDLE_RECORDS_REQUESTS); every
page is audited. There is no list of patients: a records officer asks for one record at a time,
and reaches it only through that audited search (or the audited retention list), which gives a
short-lived link made for them (privacy/access.py) — never by the record's id.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission
from interpersonal.web.audit import log
from interpersonal.web.documents import actions as documents
from interpersonal.web.patients.models import Patient
from interpersonal.web.privacy import erasure, retention, subject_access
from interpersonal.web.privacy.access import RECORD_LINK_MAX_AGE, RecordLinkGone, get_record_for_officer, record_link
from interpersonal.web.privacy.forms import EraseForm, FindPatientForm, SubjectAccessForm

RECORDS = require_permission(Permission.HANDLE_RECORDS_REQUESTS)


def _link_gone_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A records page whose link is bare, altered, expired, another officer's or names no record:
    one page, 404, that says how to get back to the record (search again). The refusal itself is
    audited, with its reason, by get_record_for_officer."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except RecordLinkGone:
            return render(request, "privacy/link_gone.html", {"minutes": RECORD_LINK_MAX_AGE // 60}, status=404)

    return wrapped


@require_http_methods(["GET", "POST"])
@RECORDS
def find(request: HttpRequest) -> HttpResponse:
    form = FindPatientForm(request.POST or None)
    not_found = False
    if form.is_bound and form.is_valid():
        patient = Patient.objects.filter(**form.cleaned_data["identifier"]).first()
        # The identifier typed is not logged (it is the patient's); whether it matched is.
        log.record("records.searched", actor=request.user, target=("user", request.user.pk),
                   patient_id=patient.pk if patient else None, found=patient is not None)
        if patient is not None:
            return redirect("privacy:patient", ref=record_link(request.user, patient.pk))
        not_found = True
    return render(request, "privacy/find.html", {"form": form, "not_found": not_found,
                                                 "retention_url": reverse("privacy:retention")},
                  status=400 if form.is_bound and not form.is_valid() else 404 if not_found else 200)


def _counts(patient: Patient) -> list[tuple[str, int]]:
    return [(s.title, s.model._default_manager.filter(**{s.patient_path: patient.pk}).count())
            for s in subject_access.SOURCES[1:]]


def _retention(patient: Patient) -> dict[str, object]:
    last = retention.last_contact(patient)
    return {"last_contact": last, "due_on": retention.retention_date(last), "years": retention.retention_years()}


def _patient_page(request: HttpRequest, record: Patient, ref: str, form: SubjectAccessForm,
                  status: int = 200) -> HttpResponse:
    """The record's page; every showing of it is audited (a refused form shows it again)."""
    log.record("records.patient_viewed", actor=request.user, target=record, patient_id=record.pk)
    return render(request, "privacy/patient.html", {
        "patient": record, "ref": ref, "counts": _counts(record), "retention": _retention(record),
        "courses": record.courses.order_by("-started_on"), "access_form": form,
        "erase_url": reverse("privacy:erase", args=[ref]),
    }, status=status)


@require_GET
@RECORDS
@_link_gone_page
def patient(request: HttpRequest, ref: str) -> HttpResponse:
    record = get_record_for_officer(request.user, ref, Patient.objects.select_related("therapist"))
    return _patient_page(request, record, ref, SubjectAccessForm(initial={"format": "pdf"}))


@require_POST
@RECORDS
@_link_gone_page
def subject_access_copy(request: HttpRequest, ref: str) -> HttpResponse:
    record = get_record_for_officer(request.user, ref)
    form = SubjectAccessForm(request.POST, patient=record)
    if not form.is_valid():
        return _patient_page(request, record, ref, form, status=400)
    # Made by the task worker, never here (a whole record takes seconds of CPU): the next page
    # follows it and offers the download, which is audited as the copy (subject_access_pages).
    document = documents.request_subject_access(patient=record, fmt=form.cleaned_data["format"],
                                                reference=form.cleaned_data["reference"], by=request.user)
    return redirect("privacy:subject_access_progress", ref, document.pk)


@require_http_methods(["GET", "POST"])
@RECORDS
@_link_gone_page
def erase(request: HttpRequest, ref: str) -> HttpResponse:
    """Confirm and erase one record. The page shows what would be deleted and, for each reason,
    why the record cannot be erased now; the erasure itself re-checks everything under a lock."""
    record = get_record_for_officer(request.user, ref)
    form = EraseForm(request.POST or None, patient=record, initial={"version": record.version})
    refused: list[str] = []
    if form.is_bound and form.is_valid():
        f = form.cleaned_data
        try:
            result = erasure.erase_patient(record.pk, by=request.user, reason=f["reason"], reference=f["reference"],
                                           expected_version=f["version"])
        except erasure.ErasureRefused as error:
            refused = list(error.problems)
        else:
            messages.success(request, f"Record {record.local_id} was erased: {result.total} entries deleted. "
                                      "The audit trail keeps what was done to it, and this erasure.")
            return redirect("privacy:find")
    reasons = [{"value": value, "label": label, "problems": erasure.problems(record, value)}
               for value, label in erasure.Reason.choices]
    counts = {label: n for label, n in erasure.preview(record.pk).items() if n}
    status = 409 if refused else 400 if form.is_bound else 200
    # The page names the patient: audited every time it is shown, like the record's own page.
    log.record("records.erase_viewed", actor=request.user, target=record, patient_id=record.pk,
               refused=bool(refused), invalid=form.is_bound and not form.is_valid())
    return render(request, "privacy/erase.html", {
        "patient": record, "ref": ref, "form": form, "reasons": reasons, "counts": counts, "refused": refused,
        "retention": _retention(record),
    }, status=status)


@require_GET
@RECORDS
def retention_due(request: HttpRequest) -> HttpResponse:
    """Records whose retention period has lapsed (the first 200): each can be opened and erased."""
    from django.utils import timezone

    today = timezone.localdate()
    rows = retention.due(today, limit=RETENTION_PAGE + 1)
    log.record(retention.LISTED_EVENT, actor=request.user, target=("user", request.user.pk),
               shown=min(len(rows), RETENTION_PAGE), patient_ids=[r.patient_id for r in rows[:RETENTION_PAGE]])
    # The list is the audited look-up here: each row links to its record for this officer.
    return render(request, "privacy/retention.html", {
        "rows": [(r, record_link(request.user, r.patient_id)) for r in rows[:RETENTION_PAGE]], "more": len(rows) > RETENTION_PAGE, "today": today,
        "years": retention.retention_years(), "page_size": RETENTION_PAGE,
    })


RETENTION_PAGE = 200
