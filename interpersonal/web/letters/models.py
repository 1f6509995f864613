"""Letters that end a course: DIT's goodbye letter, IPT's end-of-treatment summary and the
discharge letter to the GP.

Written only by :mod:`interpersonal.web.letters.actions`. A draft carries a ``version`` for
optimistic locking, and every saved draft body is kept as a :class:`LetterRevision` (so a
refused stale save can show what changed meanwhile). A finalised letter is immutable: a
change is a new letter (``number`` + 1) that ``supersedes`` it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

MAX_BODY_CHARS = 20_000
"""The longest letter text (docs/bounds.md): a long clinical letter is a few thousand characters;
this leaves room for five times that while keeping a PDF to a few seconds of the worker's time."""


def too_long(body: str) -> str | None:
    """Why ``body`` is too long to save, or None. Counted as saved (line breaks as one character,
    as the browser's own limit counts them)."""
    length = len(body.replace("\r\n", "\n"))
    if length <= MAX_BODY_CHARS:
        return None
    return (f"The letter is {length:,} characters long; a letter can hold at most {MAX_BODY_CHARS:,}. "
            "Shorten it and save again.")


class Letter(models.Model):
    class Kind(models.TextChoices):
        GOODBYE = "goodbye", "Goodbye letter"
        ENDING_SUMMARY = "ending_summary", "End-of-treatment summary"
        GP_DISCHARGE = "gp_discharge", "Discharge letter to the GP"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        FINAL = "final", "Final"

    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="letters")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    body = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Optimistic lock: + 1 at every saved edit.")
    number = models.PositiveSmallIntegerField(default=1, help_text="1, 2, … per course and kind.")
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    finalised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    finalised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["course", "kind", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["course", "kind", "number"], name="one_letter_number_per_course_kind"),
            models.UniqueConstraint(fields=["course", "kind"], condition=models.Q(status="draft"),
                                    name="one_open_draft_per_course_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number} ({self.status}) of course {self.course_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refuse any change to a letter already stored as final (the last line of defence;
        the actions refuse first, with a kinder message)."""
        if self.pk is not None:
            stored = Letter.objects.filter(pk=self.pk).values("status", "body", "kind", "course_id").first()
            if stored and stored["status"] == self.Status.FINAL and (
                stored["body"] != self.body or self.status != self.Status.FINAL
                or stored["kind"] != self.kind or stored["course_id"] != self.course_id
            ):
                raise ValidationError("A finalised letter cannot be changed; start a new version instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_final or Letter.objects.filter(pk=self.pk, status=self.Status.FINAL).exists():
            raise ValidationError("A finalised letter cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_final(self) -> bool:
        return self.status == self.Status.FINAL


class LetterRevision(models.Model):
    """The body of a letter as saved at one version. Append-only."""

    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="revisions")
    version = models.PositiveIntegerField()
    body = models.TextField(blank=True)
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    saved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["letter", "version"]
        constraints = [models.UniqueConstraint(fields=["letter", "version"], name="one_revision_per_letter_version")]

    def __str__(self) -> str:
        return f"revision {self.version} of letter {self.letter_id}"
