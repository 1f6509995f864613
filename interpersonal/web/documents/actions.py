"""The only writers of generated documents (atomic, audited with identifiers only).

A request never makes a document: it records what was asked for and enqueues
:func:`interpersonal.web.documents.tasks.make_document`; the worker makes the file and the user
downloads it when it is ready. Asking again for the same thing while a copy is waiting, being
made or ready reuses that copy (the row of the letter or the patient is locked, so a double
click makes one job); a failed one is not reused, so asking again is the retry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from interpersonal.web.audit import log
from interpersonal.web.documents.models import STUCK_AFTER, Document
from interpersonal.web.letters.models import Letter
from interpersonal.web.patients.models import Patient

SUBJECT_ACCESS_KINDS = {"pdf": Document.Kind.SUBJECT_ACCESS_PDF, "json": Document.Kind.SUBJECT_ACCESS_JSON}


def _reusable(documents: Any, now: dt.datetime) -> Document | None:
    alive = Q(state=Document.State.QUEUED) | Q(state=Document.State.RUNNING, started_at__gt=now - STUCK_AFTER) \
        | Q(state=Document.State.READY, expires_at__gt=now)
    return documents.filter(alive).order_by("-requested_at").first()


def _enqueue(document: Document) -> None:
    """The task row is written in this transaction (the database backend): the worker sees the
    job only once the document it names is committed."""
    from interpersonal.web.documents import tasks

    tasks.make_document.enqueue(document.pk)


def _audit(event: str, document: Document, by: Any, **data: Any) -> None:
    log.record(event, actor=by, target=document, patient_id=document.patient_id, kind=document.kind, **data)


@transaction.atomic
def request_letter_pdf(*, letter: Letter, by: Any) -> Document:
    """The PDF of ``letter`` as it is now (its version and whether it is final), made in the
    background. The caller has checked that ``by`` may read the letter."""
    from interpersonal.web.letters.pdf import pdf_filename

    locked = Letter.objects.select_for_update(of=("self",)).select_related("course").get(pk=letter.pk)
    existing = _reusable(Document.objects.filter(kind=Document.Kind.LETTER_PDF, letter=locked,
                                                 letter_version=locked.version, letter_final=locked.is_final),
                         timezone.now())
    if existing is not None:
        return existing
    document = Document.objects.create(
        kind=Document.Kind.LETTER_PDF, patient_id=locked.course.patient_id, letter=locked,
        letter_version=locked.version, letter_final=locked.is_final, requested_by=by,
        download_name=pdf_filename(locked),
    )
    _audit("document.requested", document, by, letter_id=locked.pk, version=locked.version)
    _enqueue(document)
    return document


@transaction.atomic
def request_subject_access(*, patient: Patient, fmt: str, reference: str, by: Any) -> Document:
    """A subject access copy of ``patient`` (``fmt`` "pdf" or "json"), made in the background.
    The caller has checked that ``by`` may make one and validated the reference."""
    from interpersonal.web.privacy.subject_access import filename

    kind = SUBJECT_ACCESS_KINDS[fmt]
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    existing = _reusable(Document.objects.filter(kind=kind, patient=locked, reference=reference), timezone.now())
    if existing is not None:
        return existing
    document = Document.objects.create(kind=kind, patient=locked, reference=reference, requested_by=by,
                                       download_name=filename(locked, fmt))
    _audit("document.requested", document, by, format=fmt)
    _enqueue(document)
    return document


def record_download(*, document: Document, by: Any) -> None:
    """Audit that ``by`` downloaded the file (a read: no transaction needed)."""
    _audit("document.downloaded", document, by, sha256=document.sha256)


@transaction.atomic
def prune_expired(*, now: dt.datetime | None = None, by: Any = None) -> int:
    """Delete documents past their expiry, and failed or abandoned ones a day old; their files
    go after the commit (documents.signals). ``by`` None: the service itself."""
    now = now or timezone.now()
    gone = Document.objects.filter(
        Q(state=Document.State.READY, expires_at__lte=now)
        | Q(state__in=[Document.State.FAILED, Document.State.QUEUED, Document.State.RUNNING],
            requested_at__lte=now - dt.timedelta(days=1))
    )
    ids = list(gone.values_list("pk", flat=True))
    if not ids:
        return 0
    for document in Document.objects.filter(pk__in=ids):  # one event each: the patient's access log shows it
        _audit("document.expired", document, by)
    Document.objects.filter(pk__in=ids).delete()
    return len(ids)


ORPHAN_AGE = dt.timedelta(hours=1)
"""A stored file no document row names, older than this, is left over from a worker that died
between saving the file and recording it: long past any make that could still claim it."""


def sweep_orphans(*, now: dt.datetime | None = None) -> int:
    """Delete stored files that no document names (see :data:`ORPHAN_AGE`); how many went."""
    from interpersonal.web.documents.signals import delete_file
    from interpersonal.web.documents.storage import documents_storage

    storage = documents_storage()
    now = now or timezone.now()
    try:
        _dirs, files = storage.listdir("")
    except FileNotFoundError:
        return 0
    named = set(Document.objects.exclude(file_name="").values_list("file_name", flat=True))
    gone = 0
    for name in files:
        if name in named or storage.get_modified_time(name) > now - ORPHAN_AGE:
            continue
        delete_file(name)
        gone += 1
    return gone


def housekeeping(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Expired documents and left-over files, for the periodic round (schedule_questionnaires):
    a copy lasts its day whether or not anyone asks for another document."""
    return prune_expired(now=now), sweep_orphans(now=now)
