"""Questionnaire links: a patient answers a bundle of measures by a secure link, no login.

The token is shown once, in the link; only its SHA-256 hash is stored. A link is bound to one
patient, course and bundle, expires, and closes when submitted.

**One open link per session.** A course has at most one open link (not submitted, not closed)
for each session, and at most one "for the next session" (no session: sent when none was
booked); both are unique constraints, so no path can make a second one. An expired link still
counts until the next issue closes it as expired (expiry is a time, not a column a constraint
can read).

**Closed links.** ``withdrawn_at`` is when a link closed for any reason other than being
answered, and ``closed_reason`` says why: withdrawn by the clinician, the course ended, it
expired, or it was replaced (two open links for one session found by migration 0005).

**Delivery.** A link the clinician sends by e-mail or text message is queued here and sent by
the task worker (``tasks.deliver_link``), which gives the link a fresh token as it sends, so no
token is ever stored or passed to the queue (docs/adr/0006-background-work.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from interpersonal.web.referrals.models import InReferral


class QuestionnaireLink(InReferral):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        SUBMITTED = "submitted", "Submitted"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "Text message"

    class Delivery(models.TextChoices):
        COPIED = "", "Shown to copy"
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Not sent: the link closed first"

    class Closed(models.TextChoices):
        WITHDRAWN = "withdrawn", "Withdrawn"
        COURSE_ENDED = "course_ended", "Course ended"
        EXPIRED = "expired", "Expired"
        REPLACED = "replaced", "Replaced by a newer link"

    token_hash = models.CharField(max_length=64, unique=True)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="questionnaire_links")
    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="questionnaire_links")
    course = models.ForeignKey("courses.Course", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="questionnaire_links", help_text="Empty for screening and follow-up.")
    session = models.ForeignKey(
        "courses.TherapySession", null=True, blank=True, on_delete=models.PROTECT, related_name="questionnaire_links",
        help_text="The session the answers are for, when sent for one.",
    )
    instruments = models.JSONField(help_text="Measure ids, in the order the patient answers them.")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    draft = models.JSONField(default=dict, blank=True, help_text="Answers saved as the patient goes: {measure: {item: value}}.")
    reminder_due_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=12, choices=Closed.choices, blank=True,
                                     help_text="Why the link closed at withdrawn_at (empty while open or once answered).")
    delivery_channel = models.CharField(max_length=5, choices=Channel.choices, blank=True,
                                        help_text="How the patient is told the link; empty: shown to the clinician to copy.")
    delivery = models.CharField(max_length=10, choices=Delivery.choices, blank=True)
    delivered_to = models.CharField(max_length=255, blank=True,
                                    help_text="The address it went to, masked (p•••@example.org).")
    delivered_at = models.DateTimeField(null=True, blank=True, help_text="When it was sent, or failed.")
    delivery_error = models.CharField(max_length=200, blank=True, help_text="Why sending failed, in plain words.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["course", "created_at"]), models.Index(fields=["referral", "created_at"]), models.Index(fields=["reminder_due_at", "reminder_sent_at"])]
        constraints = [
            # The schedule (no created_by) sends one link per session, however often it runs and
            # however many workers race (docs/adr/0006-background-work.md).
            models.UniqueConstraint(
                fields=["session"], condition=models.Q(session__isnull=False, created_by__isnull=True),
                name="one_scheduled_link_per_session",
            ),
            models.UniqueConstraint(
                fields=["session"], name="one_open_link_per_session",
                condition=models.Q(session__isnull=False, submitted_at__isnull=True, withdrawn_at__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["course"], name="one_open_link_for_the_next_session",
                condition=models.Q(course__isnull=False, session__isnull=True, submitted_at__isnull=True,
                                   withdrawn_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"questionnaire link {self.pk} ({self.state}) for course {self.course_id}"

    @property
    def state(self) -> str:
        if self.submitted_at:
            return self.State.SUBMITTED
        if self.withdrawn_at:
            return self.State.WITHDRAWN
        if self.expires_at <= timezone.now():
            return self.State.EXPIRED
        return self.State.OPEN


class TokenAttempt(models.Model):
    """A request with an unknown token, for rate-limiting guesses (the client address is hashed)."""

    client = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"unknown-token attempt at {self.at:%Y-%m-%d %H:%M:%S}"
