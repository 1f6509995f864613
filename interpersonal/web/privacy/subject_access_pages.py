"""A subject access copy after it was asked for (privacy.views.subject_access_copy): its progress
page and its download. Records officers only, the same rule as asking for the copy; the page does
not name the patient (it is not a read of the record), the download is audited as the copy
(``patient.subject_access``) and as a download of the document."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET

from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission
from interpersonal.web.documents import actions as documents
from interpersonal.web.documents import views as document_pages
from interpersonal.web.documents.models import Document
from interpersonal.web.patients.models import Patient
from interpersonal.web.privacy import subject_access
from interpersonal.web.privacy.access import get_record_for_officer
from interpersonal.web.privacy.views import _link_gone_page

RECORDS = require_permission(Permission.HANDLE_RECORDS_REQUESTS)
FORMATS = {Document.Kind.SUBJECT_ACCESS_PDF: "pdf", Document.Kind.SUBJECT_ACCESS_JSON: "json"}


def _copy(request: HttpRequest, ref: str, document_pk: int) -> tuple[Patient, Document]:
    record = get_record_for_officer(request.user, ref)
    return record, get_object_or_404(Document, pk=document_pk, patient=record, kind__in=list(FORMATS))


@require_GET
@RECORDS
@_link_gone_page
def progress(request: HttpRequest, ref: str, document_pk: int) -> HttpResponse:
    _record, document = _copy(request, ref, document_pk)
    fmt = FORMATS[Document.Kind(document.kind)]
    return document_pages.progress(
        request, document,
        title=f"Subject access copy ({fmt.upper()}){f', reference {document.reference}' if document.reference else ''}",
        download_url=reverse("privacy:subject_access_download", args=[ref, document.pk]),
        again_url=reverse("privacy:subject_access", args=[ref]),
        again_fields={"format": fmt, "reference": document.reference},
        back_url=reverse("privacy:patient", args=[ref]), back_label="Back to the record",
    )


@require_GET
@RECORDS
@_link_gone_page
def download(request: HttpRequest, ref: str, document_pk: int) -> HttpResponseBase:
    record, document = _copy(request, ref, document_pk)
    response = document_pages.download(
        document, progress_url=reverse("privacy:subject_access_progress", args=[ref, document.pk]))
    if response.status_code == 200:
        subject_access.record_copy(record, by=request.user, fmt=FORMATS[Document.Kind(document.kind)],
                                   reference=document.reference)
        documents.record_download(document=document, by=request.user)
    return response
