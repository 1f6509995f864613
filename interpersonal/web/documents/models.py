"""Generated documents: a letter's PDF or a subject access copy (PDF or JSON), made by the task
worker and downloaded when ready (docs/adr/0007-documents-in-the-background.md).

Written only by :mod:`interpersonal.web.documents.actions` (the request) and
:mod:`interpersonal.web.documents.tasks` (the worker). The file lives in the ``documents`` storage
(owner-only files, ``INTERPERSONAL_DOCUMENTS_DIR``) under a random name that says nothing about
the patient; the row says who asked for what, the state, and the file's size and SHA-256.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

from interpersonal.web.privacy.reference import MAX_LENGTH as REFERENCE_MAX_LENGTH

STUCK_AFTER = dt.timedelta(minutes=10)
"""A document running longer than this is taken to have lost its worker (killed, restarted)."""


class Document(models.Model):
    class Kind(models.TextChoices):
        LETTER_PDF = "letter_pdf", "Letter (PDF)"
        SUBJECT_ACCESS_PDF = "subject_access_pdf", "Subject access copy (PDF)"
        SUBJECT_ACCESS_JSON = "subject_access_json", "Subject access copy (JSON)"

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Being made"
        READY = "ready", "Ready to download"
        FAILED = "failed", "Could not be made"

    kind = models.CharField(max_length=24, choices=Kind.choices)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    letter = models.ForeignKey("letters.Letter", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    letter_version = models.PositiveIntegerField(null=True, blank=True,
                                                 help_text="The letter's version when asked for.")
    letter_final = models.BooleanField(default=False, help_text="The letter was final when asked for.")
    reference = models.CharField(max_length=REFERENCE_MAX_LENGTH, blank=True,
                                 help_text="A subject access copy's case reference.")
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="The file is deleted after this.")
    error = models.CharField(max_length=300, blank=True, help_text="What went wrong, for the user (no details).")
    file_name = models.CharField(max_length=100, blank=True, help_text="The file's name in the documents storage.")
    download_name = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["state", "expires_at"], name="document_state_expiry")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="letter_pdf", letter__isnull=False, letter_version__isnull=False)
                | (~models.Q(kind="letter_pdf") & models.Q(letter__isnull=True)),
                name="document_letter_iff_letter_pdf",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} ({self.state})"

    @property
    def content_type(self) -> str:
        return "application/json" if self.kind == self.Kind.SUBJECT_ACCESS_JSON else "application/pdf"

    @property
    def is_subject_access(self) -> bool:
        return self.kind != self.Kind.LETTER_PDF

    def is_stuck(self, now: dt.datetime | None = None) -> bool:
        """Running for so long that its worker must have died: shown as failed, may be asked again."""
        return self.state == self.State.RUNNING and self.started_at is not None \
            and self.started_at < (now or timezone.now()) - STUCK_AFTER

    def is_downloadable(self, now: dt.datetime | None = None) -> bool:
        return self.state == self.State.READY and bool(self.file_name) \
            and (self.expires_at is None or self.expires_at > (now or timezone.now()))

    @property
    def in_progress(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING) and not self.is_stuck()
