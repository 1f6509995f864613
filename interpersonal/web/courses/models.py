"""Courses of therapy and their sessions. The protocol (DIT, IPT, ...) is core data:
interpersonal.core.protocols; attendance and end codes: interpersonal.core.codes."""

from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.db import models

from interpersonal.core import protocols
from interpersonal.core.codes import Attendance, EndReason, Medium
from interpersonal.web.referrals.models import InReferral

ATTENDED = (Attendance.ATTENDED_ON_TIME.value, Attendance.ATTENDED_LATE.value)
ROOM_MAX = 60
"""A room's name as the service writes it ("Room 3, Elm House")."""


class Course(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="courses")
    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="courses",
                                 help_text="The episode of care this course is a step of.")
    protocol = models.CharField(max_length=32, help_text="A protocol id from interpersonal.core.protocols.")
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="courses")
    planned_sessions = models.PositiveSmallIntegerField(null=True, blank=True)
    started_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, blank=True,
                                  choices=[(r.value, r.label) for r in EndReason if r.ends_course])
    stepped_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="stepped_to"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-started_on", "-id"]
        indexes = [models.Index(fields=["therapist", "status"]), models.Index(fields=["patient", "started_on"])]
        constraints = [
            # The action checks first (with a clear message); this closes the race between two requests.
            models.UniqueConstraint(fields=["patient"], condition=models.Q(status="active"),
                                    name="one_active_course_per_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.definition.name} for {self.patient.local_id}"

    @cached_property
    def definition(self) -> protocols.Protocol:
        return protocols.get(self.protocol)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def end_reason_enum(self) -> EndReason | None:
        return EndReason(self.end_reason) if self.end_reason else None


class InForce(models.Manager):
    """Rows not marked "entered in error": the default manager of sessions and measurements, so
    that every count, chart, summary and export leaves a deleted row out. Corrections and
    their history read ``all_rows``; forward relations (``measurement.session``) and erasure
    use the base manager, which sees every row."""

    def get_queryset(self) -> models.QuerySet:  # type: ignore[type-arg]
        return super().get_queryset().filter(entered_in_error_at__isnull=True)


class Correction(models.Model):
    """One correction of a recorded row, kept for ever: the values before it (JSON, as the row
    held them), who made it, when and why. A deletion ("entered in error") is a correction
    whose row then leaves every count but stays readable here."""

    class Kind(models.TextChoices):
        CORRECTED = "corrected", "Corrected"
        ENTERED_IN_ERROR = "entered_in_error", "Deleted (entered in error)"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    previous = models.JSONField(help_text="The row's values before the correction.")
    reason = models.TextField(help_text="Why the record was corrected (required).")
    version = models.PositiveIntegerField(help_text="The row's version the correction replaced.")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        abstract = True
        ordering = ["at", "id"]


class TherapySession(InReferral):
    """One contact of a referral: scheduled, then recorded with an attendance code. A contact in
    a course is a session of it; a contact with no course is a screening or assessment contact.
    ``treatment`` follows from the protocol (a session in a phase marked ``treatment = false`` is
    not treatment) and is False for every contact outside a course; only treatment contacts count
    towards a finished course and stop the waiting-time clocks (DOMAIN.md §4, §6)."""

    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="contacts")
    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions")
    treatment = models.BooleanField(default=True, help_text="Whether the contact counts as treatment (protocol data).")
    scheduled_at = models.DateTimeField()
    attendance = models.PositiveSmallIntegerField(
        null=True, blank=True, choices=[(a.value, a.label) for a in Attendance],
        help_text="NHS Talking Therapies attendance code; empty while the session is in the future.",
    )
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    medium = models.CharField(max_length=20, choices=[(m.value, m.label) for m in Medium], default=Medium.FACE_TO_FACE.value)
    room = models.CharField(max_length=ROOM_MAX, blank=True,
                            help_text="Where a face-to-face session is held (free text, optional; the diary's room view).")
    notes = models.TextField(blank=True)
    home_practice = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, help_text="Raised by every correction (stale edits are refused).")
    entered_in_error_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when deleted as entered in error: out of every count, kept in history.")

    objects = InForce()
    all_rows = models.Manager()

    class Meta:
        db_table = "courses_session"
        base_manager_name = "all_rows"
        ordering = ["scheduled_at", "id"]
        indexes = [models.Index(fields=["course", "scheduled_at"]), models.Index(fields=["referral", "scheduled_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(course__isnull=False) | models.Q(treatment=False),
                                   name="contact_outside_a_course_is_not_treatment"),
        ]

    def __str__(self) -> str:
        if self.course_id is None:
            return f"assessment contact {self.scheduled_at:%Y-%m-%d %H:%M} of referral {self.referral_id}"
        return f"session {self.scheduled_at:%Y-%m-%d %H:%M} of course {self.course_id}"

    @property
    def attended(self) -> bool:
        return self.attendance in ATTENDED


class SessionCorrection(Correction):
    """A correction of a session (courses.corrections)."""

    session = models.ForeignKey(TherapySession, on_delete=models.PROTECT, related_name="corrections")

    class Meta(Correction.Meta):
        indexes = [models.Index(fields=["session", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} of session {self.session_id} at {self.at:%Y-%m-%d %H:%M}"


class TaskCompletion(models.Model):
    """A phase task of the protocol ticked off for one course."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="task_completions")
    task_id = models.CharField(max_length=64)
    completed_on = models.DateField()
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course", "task_id"], name="one_completion_per_task")]

    def __str__(self) -> str:
        return f"{self.task_id} done on {self.completed_on} (course {self.course_id})"


class FollowUp(models.Model):
    """A task for the therapist after a missed appointment (DNA, code 3, or arrived late and not
    seen, code 7): contact the patient and decide what next. Open until the therapist marks it
    done; shown on their caseload and diary. Written only by courses.diary.actions."""

    class Reason(models.TextChoices):
        DID_NOT_ATTEND = "dna", "Did not attend (code 3)"
        LATE_NOT_SEEN = "late_not_seen", "Arrived late and could not be seen (code 7)"

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="follow_ups")
    session = models.OneToOneField(TherapySession, on_delete=models.PROTECT, related_name="follow_up")
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="follow_ups")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["therapist", "done_at"])]

    def __str__(self) -> str:
        return f"follow-up of session {self.session_id} ({self.reason})"

    @property
    def open(self) -> bool:
        return self.done_at is None


class DiaryFeed(models.Model):
    """A therapist's private calendar (iCal) feed: the URL's key is stored only as a SHA-256
    hash; regenerating replaces it (the old URL stops working), revoking deletes the row."""

    therapist = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="diary_feed")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"diary feed of user {self.therapist_id}"


CONTACT_WITH_MAX = 200
"""Who a non-session contact was with, as written ("GP, Dr Okafor, Elm Surgery")."""


class Contact(models.Model):
    """A non-session contact of a course: a phone call, a letter, an e-mail or message, liaison
    with another professional (GP, CMHT, social worker…), or another contact, with its note.

    Why a table of its own and not a :class:`TherapySession` row with ``treatment=False`` and a
    contact kind: a session row is an *appointment* — the diary books it, the NHS Talking
    Therapies attendance code (DOMAIN.md §4) records it, and every count reads it (a finished
    course's attended treatment sessions, the waiting-time clocks, first-to-second treatment
    waits, DNA rates, the national care-contact return, IDS201). A liaison call to the GP or a
    letter has no attendance code and is no appointment: as a session row it would need a code
    it cannot honestly have (an empty code is "booked" to the diary), and every one of those
    queries would have to learn to leave it out. Kept apart, it can never count as an attended
    treatment session (courses.summary, outcomes) nor appear in the diary, and the course's notes
    (courses.notes) read both. Correctable like a session: a version checked on every change,
    deleted only as entered in error, with a reason, the earlier values kept
    (:class:`ContactCorrection`); written only by courses.contacts."""

    class Kind(models.TextChoices):
        PHONE = "phone", "Phone call"
        LETTER = "letter", "Letter"
        MESSAGE = "message", "E-mail or message"
        LIAISON = "liaison", "Liaison with another professional"
        OTHER = "other", "Other contact"

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="other_contacts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField(help_text="When the contact took place (or the letter or message was sent).")
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    with_whom = models.CharField(max_length=CONTACT_WITH_MAX, blank=True,
                                 help_text="For liaison: the professional's role and organisation (free text).")
    note = models.TextField(help_text="What was said or done (required).")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, help_text="Raised by every correction (stale edits are refused).")
    entered_in_error_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when deleted as entered in error: out of the notes, kept in history.")

    objects = InForce()
    all_rows = models.Manager()  # noqa: DJ012 - a manager (ruff reads the inner choices class as putting it out of order)

    class Meta:
        base_manager_name = "all_rows"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["course", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} contact {self.at:%Y-%m-%d %H:%M} of course {self.course_id}"


class ContactCorrection(Correction):
    """A correction of a non-session contact (courses.contacts)."""

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="corrections")

    class Meta(Correction.Meta):
        indexes = [models.Index(fields=["contact", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} of contact {self.contact_id} at {self.at:%Y-%m-%d %H:%M}"
