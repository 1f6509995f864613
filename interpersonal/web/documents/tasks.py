"""Background task that makes a generated document (run by ``interpersonal db_worker``, queue
"default"; docs/adr/0007-documents-in-the-background.md).

:func:`make_document` takes only the document's id. It claims the row (queued → running), makes
the file outside any transaction (on SQLite a transaction holds the database's write lock, and a
long record's PDF takes seconds), stores it in the documents storage under a random name with
its SHA-256, and marks the row ready until ``INTERPERSONAL_DOCUMENT_HOURS`` from now. Anything
that goes wrong marks it failed with a message for the user; the traceback goes to the worker's
log (tracebacks carry no local variables, so no patient data).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from interpersonal.web.documents import actions
from interpersonal.web.documents.models import Document
from interpersonal.web.documents.signals import delete_file
from interpersonal.web.documents.storage import documents_storage

logger = logging.getLogger(__name__)

READY, FAILED, SKIPPED = "ready", "failed", "skipped"
FAILED_MESSAGE = ("The file could not be made. Ask for it again; if that fails too, tell the service's "
                  "administrator and quote document {pk}.")
CHANGED_MESSAGE = ("The letter was changed after this PDF was asked for, so it was not made: its label would "
                   "not match its text. Ask for it again to print the letter as it is now.")


class LetterChanged(Exception):
    """The letter is no longer the version (or the status) the PDF was asked for."""


@task()
def make_document(document_id: int) -> str:
    """Make the document's file; the outcome (ready, failed or skipped)."""
    outcome = make(document_id)
    logger.info("documents: document %s: %s", document_id, outcome)
    return outcome


def _claim(document_id: int) -> Document | None:
    with transaction.atomic():
        document = (Document.objects.select_for_update(of=("self",)).select_related("patient", "letter")
                    .filter(pk=document_id, state=Document.State.QUEUED).first())
        if document is None:  # made already, asked again, or erased meanwhile
            return None
        document.state, document.started_at = Document.State.RUNNING, timezone.now()
        document.save(update_fields=["state", "started_at"])
        return document


def render(document: Document) -> bytes:
    """The file's bytes: a letter's PDF, or a subject access copy as PDF or JSON."""
    if document.kind == Document.Kind.LETTER_PDF:
        from interpersonal.web.letters import pdf
        from interpersonal.web.letters.models import Letter

        letter = Letter.objects.select_related("course__patient", "course__therapist", "finalised_by").get(
            pk=document.letter_id)
        if letter.version != document.letter_version or letter.is_final != document.letter_final:
            raise LetterChanged
        return pdf.render_letter_pdf(letter)
    from interpersonal.web.privacy import subject_access

    copy = subject_access.collect(document.patient)
    if document.kind == Document.Kind.SUBJECT_ACCESS_JSON:
        return subject_access.to_json(copy)
    return subject_access.to_pdf(document.patient, copy, reference=document.reference)


def make(document_id: int) -> str:
    document = _claim(document_id)
    if document is None:
        return SKIPPED
    try:
        content = render(document)
        name = documents_storage().save(f"{secrets.token_hex(16)}.{document.content_type.rsplit('/', 1)[1]}",
                                        ContentFile(content))
    except LetterChanged:
        Document.objects.filter(pk=document_id, state=Document.State.RUNNING).update(
            state=Document.State.FAILED, finished_at=timezone.now(), error=CHANGED_MESSAGE)
        return FAILED
    except Exception:
        logger.exception("documents: document %s could not be made", document_id)
        Document.objects.filter(pk=document_id, state=Document.State.RUNNING).update(
            state=Document.State.FAILED, finished_at=timezone.now(), error=FAILED_MESSAGE.format(pk=document_id))
        return FAILED
    now = timezone.now()
    stored = Document.objects.filter(pk=document_id, state=Document.State.RUNNING).update(
        state=Document.State.READY, finished_at=now, file_name=name, size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        expires_at=now + dt.timedelta(hours=settings.INTERPERSONAL_DOCUMENT_HOURS),
    )
    if not stored:  # the row went (erased or pruned) while the file was made
        delete_file(name)
        return SKIPPED
    actions.prune_expired(now=now)
    return READY
