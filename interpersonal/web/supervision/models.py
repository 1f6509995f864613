"""Clinical supervision: who supervises whom (with history), and the supervision log (issue 15).

A :class:`SupervisionRelationship` replaces the single ``User.supervisor`` of earlier versions: a
therapist may have several supervisors at once (individual, group, accreditation) and over time.
Only a *current* relationship (:func:`interpersonal.web.supervision.reach.current`) lets the
supervisor read the supervisee's cases. Rows are written only by ``supervision.actions``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

MINUTES_MIN, MINUTES_MAX = 5, 480
"""A supervision session lasts 5 minutes to 8 hours: shorter is a corridor word, not supervision;
longer than a working day is a typing error."""
CASE_MINUTES_MIN = 1
ACTIONS_MAX = 2_000
"""Actions agreed: a short list, about a typed page (clinical content)."""


class SupervisionRelationship(models.Model):
    """``supervisor`` supervises ``supervisee`` from ``started`` until the day before ``ended``.

    ``confirmed_at`` is null while the relationship waits for a second person's confirmation
    (ADR 0008: adding a supervisor widens their reach into patient records); an unconfirmed
    relationship gives no reach. An ended relationship is kept for history, never deleted.
    """

    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", "Individual"
        GROUP = "group", "Group"
        ACCREDITATION = "accreditation", "Accreditation"

    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="supervising")
    supervisee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="supervised_by")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INDIVIDUAL)
    started = models.DateField(help_text="The first day of the supervision.")
    ended = models.DateField(null=True, blank=True,
                             help_text="The day the supervision stopped (no reach from this day); empty while current.")
    cases = models.ManyToManyField(
        "courses.Course", blank=True, related_name="accreditation_supervisions",
        help_text="For accreditation supervision: the named cases the accreditation is on.",
    )
    confirmed_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When the relationship took effect; empty while it waits for confirmation (ADR 0008).",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started", "-pk"]
        indexes = [
            # The access rules ask "does ``supervisor`` currently supervise this therapist?" for
            # every row of a caseload: an Exists that this index answers without a table scan.
            models.Index(fields=["supervisor", "supervisee", "started"], name="supervision_reach"),
            models.Index(fields=["supervisee", "started"], name="supervision_of_supervisee"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(ended__isnull=True) | models.Q(ended__gte=models.F("started")),
                                   name="supervision_ends_after_it_starts"),
            models.CheckConstraint(condition=~models.Q(supervisor=models.F("supervisee")),
                                   name="nobody_supervises_themselves"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} supervision of {self.supervisee_id} by {self.supervisor_id}"

    def is_current(self, on: dt.date) -> bool:
        return (self.confirmed_at is not None and self.started <= on
                and (self.ended is None or self.ended > on))


class SupervisionSession(models.Model):
    """One supervision session as the supervisor logged it: who, when, how long, the cases
    discussed (:class:`DiscussedCase`) and the actions agreed."""

    class Format(models.TextChoices):
        INDIVIDUAL = "individual", "Individual"
        GROUP = "group", "Group"

    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="supervision_sessions_given")
    supervisees = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="supervision_sessions")
    date = models.DateField()
    minutes = models.PositiveSmallIntegerField(help_text=f"{MINUTES_MIN} to {MINUTES_MAX} minutes.")
    format = models.CharField(max_length=12, choices=Format.choices)
    actions_agreed = models.TextField(
        max_length=ACTIONS_MAX, blank=True,
        help_text="Actions about the supervisee's practice, not about a named case (those are recorded against "
                  "the case, DiscussedCase.actions_agreed, and erased with it). Never copied into an audit event.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["supervisor", "date"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(minutes__gte=MINUTES_MIN, minutes__lte=MINUTES_MAX),
                                   name="supervision_minutes_bounded"),
        ]

    def __str__(self) -> str:
        return f"Supervision on {self.date} ({self.minutes} min)"


class DiscussedCase(models.Model):
    """A case (course) discussed in a supervision session, with the minutes spent on it and the
    therapy sessions reviewed.

    Extension point (issue 15, recordings): the recordings listened to will be a
    ``recordings = ManyToManyField("fidelity.Recording", blank=True)`` here, added when the
    fidelity app's Recording model is merged; nothing else in the log changes."""

    session = models.ForeignKey(SupervisionSession, on_delete=models.CASCADE, related_name="cases")
    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="supervision_discussions")
    minutes = models.PositiveSmallIntegerField(help_text="Minutes of the session spent on this case.")
    sessions_reviewed = models.ManyToManyField("courses.TherapySession", blank=True, related_name="+")
    actions_agreed = models.TextField(
        max_length=ACTIONS_MAX, blank=True,
        help_text="Actions agreed for this case: clinical content, part of the patient's record (subject access, "
                  "erasure); never copied into an audit event.")

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["course", "session"])]
        constraints = [
            models.UniqueConstraint(fields=["session", "course"], name="one_discussion_per_case_per_session"),
            models.CheckConstraint(condition=models.Q(minutes__gte=CASE_MINUTES_MIN, minutes__lte=MINUTES_MAX),
                                   name="supervision_case_minutes_bounded"),
        ]

    def __str__(self) -> str:
        return f"Case {self.course_id} in supervision {self.session_id}"


class SupervisionHourlyCost(models.Model):
    """What an hour of a grade's time costs, from a date (docs/costs.md): the same grades and the
    same "from a date until the next cost" rule as the cost per session (service.GradeCost)."""

    grade = models.ForeignKey("service.StaffGrade", on_delete=models.PROTECT, related_name="hourly_costs")
    effective_from = models.DateField()
    cost_per_hour = models.DecimalField(max_digits=8, decimal_places=2)
    source = models.CharField(max_length=200, blank=True, help_text="Where the figure comes from.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["grade", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["grade", "effective_from"], name="one_hourly_cost_per_grade_per_day"),
            models.CheckConstraint(condition=models.Q(cost_per_hour__gte=0), name="hourly_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.cost_per_hour} an hour from {self.effective_from}"
