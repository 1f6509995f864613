"""Session recordings, the patient's consent to them, and adherence ratings (issue 15;
docs/fidelity-recordings.md).

Written only by :mod:`interpersonal.web.fidelity.actions`. A recording's media never touch the
database: its chunks are encrypted (AES-256-GCM, :mod:`interpersonal.web.fidelity.crypto`) and kept
in ``STORAGES["recordings"]`` under a random prefix; the row holds the wrapped data key, the
counts and digests that check the upload, and — once the media are deleted (consent withdrawn,
retention) — a tombstone: when and why. Ratings outlive their recording's media (accreditation
evidence is the rating, not the audio).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from interpersonal.web.courses.models import Correction

PHASE_MAX = 40
SCALE_MAX = 40
CONTENT_TYPE_MAX = 100
REASON_MAX = 1000


class RecordingConsent(models.Model):
    """The patient's consent to their sessions of one course being recorded: given (when, how,
    recorded by whom), and withdrawn (when, recorded by whom). At most one consent in force per course;
    withdrawn consents are kept as history."""

    class How(models.TextChoices):
        WRITTEN = "written", "Written (signed form)"
        VERBAL = "verbal", "Verbal, recorded by the therapist"
        ELECTRONIC = "electronic", "Electronic (e-mail or portal)"

    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="recording_consents")
    given_on = models.DateField()
    how = models.CharField(max_length=12, choices=How.choices)
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                 help_text="The member of staff who recorded the consent.")
    recorded_at = models.DateTimeField(auto_now_add=True)
    withdrawn_on = models.DateField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["course"], condition=models.Q(withdrawn_at__isnull=True),
                                    name="one_recording_consent_in_force_per_course"),
        ]

    def __str__(self) -> str:
        return f"Recording consent {self.pk} ({'withdrawn' if self.withdrawn_at else 'in force'})"

    @property
    def in_force(self) -> bool:
        return self.withdrawn_at is None


class Recording(models.Model):
    """One recorded session: uploaded in chunks, then ready to play, then deleted (a tombstone)."""

    class State(models.TextChoices):
        UPLOADING = "uploading", "Uploading"
        READY = "ready", "Ready"
        FAILED = "failed", "Upload failed"
        DELETED = "deleted", "Deleted"

    class DeletedBecause(models.TextChoices):
        CONSENT_WITHDRAWN = "consent_withdrawn", "The patient withdrew consent"
        RETENTION = "retention", "Retention period ended"
        RATED = "rated", "Rated, and not held for accreditation"
        UPLOAD_FAILED = "upload_failed", "The upload did not arrive intact"
        ABANDONED = "abandoned", "The upload was never finished"

    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="recordings")
    session = models.ForeignKey("courses.TherapySession", on_delete=models.PROTECT, related_name="recordings",
                                help_text="The session recorded.")
    consent = models.ForeignKey(RecordingConsent, on_delete=models.PROTECT, related_name="recordings",
                                help_text="The consent in force when the upload started.")
    phase = models.CharField(max_length=PHASE_MAX, help_text="The phase key ratings are tagged with (scale data).")
    content_type = models.CharField(max_length=CONTENT_TYPE_MAX)
    size = models.PositiveBigIntegerField(help_text="The plaintext's size in bytes, declared at the start.")
    chunk_size = models.PositiveIntegerField(help_text="Every chunk but the last holds exactly this many bytes.")
    chunk_count = models.PositiveIntegerField()
    chunks_received = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, help_text="The plaintext's SHA-256, checked at the finish.")
    storage_prefix = models.CharField(max_length=64, unique=True,
                                      help_text="Random folder of the encrypted chunks in the recordings storage.")
    wrapped_key = models.CharField(max_length=120, blank=True,
                                   help_text="The recording's data key wrapped by the master key (base64); "
                                             "emptied when the media are deleted.")
    key_id = models.CharField(max_length=16, help_text="Which master key wrapped it (a fingerprint, not the key).")
    state = models.CharField(max_length=10, choices=State.choices, default=State.UPLOADING)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    second_rating_sampled = models.BooleanField(default=False,
                                                help_text="Drawn for a second, blind rating (the sampled share).")
    held_for_accreditation = models.BooleanField(
        default=False, help_text="Kept after its ratings are complete (until the retention period ends).")
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_because = models.CharField(max_length=20, choices=DeletedBecause.choices, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["state", "started_at"], name="recording_state_started")]

    def __str__(self) -> str:
        return f"Recording {self.pk} ({self.state})"

    @property
    def is_ready(self) -> bool:
        return self.state == self.State.READY


class RatingAssignment(models.Model):
    """A recording given to a rater to rate on a scale; the rating itself once submitted (final:
    a change is a correction with a reason, the earlier values kept)."""

    class Kind(models.TextChoices):
        SUPERVISOR = "supervisor", "Supervisor's rating"
        SECOND_BLIND = "second_blind", "Second, blind rating (sampled)"
        MANUAL = "manual", "Assigned by hand"

    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="assignments")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rating_assignments")
    scale = models.CharField(max_length=SCALE_MAX, help_text="A scale id from interpersonal.core.fidelity.scales.")
    phase = models.CharField(max_length=PHASE_MAX)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", help_text="Empty when assigned by the sampling rule.")
    assigned_at = models.DateTimeField(auto_now_add=True)
    ratings = models.JSONField(default=dict, blank=True, help_text="Item id -> rating, once submitted.")
    total = models.FloatField(null=True, blank=True)
    mean = models.FloatField(null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["assigned_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["recording", "rater"], name="one_assignment_per_rater_per_recording"),
        ]
        indexes = [models.Index(fields=["rater", "submitted_at"], name="assignment_rater_submitted")]

    def __str__(self) -> str:
        return f"Rating assignment {self.pk}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None


class RatingCorrection(Correction):
    """A submitted rating corrected: the earlier ratings, who, when and why (docs/corrections.md)."""

    assignment = models.ForeignKey(RatingAssignment, on_delete=models.PROTECT, related_name="corrections")

    class Meta(Correction.Meta):
        pass
