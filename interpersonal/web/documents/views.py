"""The pages of a generated document, shared by letters and subject access: the progress page
(polled every two seconds by a small script, or refreshed by hand without one) and the download.

These helpers have no URLs of their own: each owning app's view checks access with its own
access function first (the letter's, or the records officer's) and then calls them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header

from interpersonal.web.documents.models import Document
from interpersonal.web.documents.storage import documents_storage


def progress(request: HttpRequest, document: Document, *, title: str, download_url: str, again_url: str,
             again_fields: Mapping[str, str], back_url: str, back_label: str) -> HttpResponse:
    now = timezone.now()
    return render(request, "documents/progress.html", {
        "document": document, "title": title, "download_url": download_url, "again_url": again_url,
        "again_fields": dict(again_fields), "back_url": back_url, "back_label": back_label,
        "failed": document.state == Document.State.FAILED or document.is_stuck(now),
        "expired": document.state == Document.State.READY and not document.is_downloadable(now),
        "ready": document.is_downloadable(now), "in_progress": document.in_progress,
    })


CHUNK = 64 * 1024


def _chunks(name: str) -> Iterator[bytes]:
    """The stored file in chunks; opened only once the server starts sending it, and closed
    however the sending ends."""
    with documents_storage().open(name, "rb") as file:
        while chunk := file.read(CHUNK):
            yield chunk


def download(document: Document, *, progress_url: str) -> HttpResponseBase:
    """The stored file, streamed; never made here. Not ready (or expired): back to its progress page."""
    if not document.is_downloadable():
        return redirect(progress_url)
    response = StreamingHttpResponse(_chunks(document.file_name), content_type=document.content_type)
    response["Content-Disposition"] = content_disposition_header(True, document.download_name)
    if document.size is not None:
        response["Content-Length"] = str(document.size)
    response["Cache-Control"] = "no-store"
    return response
