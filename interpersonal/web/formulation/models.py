"""The focus of a course: DIT's Interpersonal Affective Focus (IPAF) and IPT's initial-phase
work (timeline, interpersonal inventory, interpersonal formulation with focal areas, contract).

Written only by :mod:`interpersonal.web.formulation.actions`. Every editable row carries a
``version`` for optimistic locking; IPAF revisions are append-only (a new row per save).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

MOOD_MIN, MOOD_MAX = -5, 5
MOOD_SCALE_HELP = "Mood from −5 (very low) through 0 (neither low nor good) to +5 (very good)."
MAX_FOCAL_AREAS = 2


class IpafRevision(models.Model):
    """One saved version of a DIT course's IPAF. Never updated: each save adds a revision,
    so the history shows how the focus evolved across the phases."""

    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="ipaf_revisions")
    number = models.PositiveIntegerField(help_text="1, 2, 3… within the course.")
    self_representation = models.TextField(blank=True)
    other_representation = models.TextField(blank=True)
    affect = models.TextField(blank=True)
    defensive_function = models.TextField(blank=True)
    link_to_depression = models.TextField(blank=True)
    agreed_with_patient = models.BooleanField(default=False)
    agreed_on = models.DateField(null=True, blank=True)
    phase_id = models.CharField(max_length=64, blank=True, help_text="The course's protocol phase when saved.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    FIELDS = ("self_representation", "other_representation", "affect", "defensive_function",
              "link_to_depression", "agreed_with_patient", "agreed_on")

    class Meta:
        ordering = ["course", "number"]
        constraints = [models.UniqueConstraint(fields=["course", "number"], name="one_ipaf_revision_number_per_course")]

    def __str__(self) -> str:
        return f"IPAF revision {self.number} of course {self.course_id}"


class InventoryPerson(models.Model):
    """An important person in the IPT interpersonal inventory, under a label the patient chooses."""

    class Ring(models.TextChoices):
        INNER = "inner", "Inner"
        MIDDLE = "middle", "Middle"
        OUTER = "outer", "Outer"

    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="inventory_people")
    label = models.CharField(max_length=60, help_text="The patient's label, not necessarily a name.")
    relationship = models.CharField(max_length=120, blank=True)
    ring = models.CharField(max_length=8, choices=Ring.choices, default=Ring.MIDDLE)
    quality = models.CharField(max_length=300, blank=True)
    support = models.CharField(max_length=300, blank=True)
    conflict = models.CharField(max_length=300, blank=True)
    expectations = models.CharField(max_length=300, blank=True)
    change_wanted = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    removed_at = models.DateTimeField(null=True, blank=True)

    FIELDS = ("label", "relationship", "ring", "quality", "support", "conflict", "expectations", "change_wanted")

    class Meta:
        ordering = ["course", "position", "id"]

    def __str__(self) -> str:
        return f"inventory person {self.pk} of course {self.course_id}"


class TimelineEvent(models.Model):
    """A life event and the mood around it, for the IPT timeline."""

    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="timeline_events")
    occurred_on = models.DateField()
    event = models.TextField()
    mood = models.SmallIntegerField(help_text=MOOD_SCALE_HELP)
    version = models.PositiveIntegerField(default=1)
    removed_at = models.DateTimeField(null=True, blank=True)

    FIELDS = ("occurred_on", "event", "mood")

    class Meta:
        ordering = ["course", "occurred_on", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(mood__gte=MOOD_MIN, mood__lte=MOOD_MAX), name="timeline_mood_in_range"),
        ]

    def __str__(self) -> str:
        return f"timeline event {self.pk} of course {self.course_id}"


class IptFormulation(models.Model):
    """The interpersonal formulation of an IPT course, its focal areas and the treatment contract."""

    course = models.OneToOneField("courses.Course", on_delete=models.PROTECT, related_name="ipt_formulation")
    formulation = models.TextField(blank=True)
    contract_sessions = models.PositiveSmallIntegerField(null=True, blank=True)
    contract_start = models.DateField(null=True, blank=True)
    contract_end = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    FIELDS = ("formulation", "contract_sessions", "contract_start", "contract_end")

    def __str__(self) -> str:
        return f"IPT formulation of course {self.course_id}"


class FocalArea(models.Model):
    """One of IPT's four focal areas chosen for the course (at most two; enforced in the action)."""

    class Area(models.TextChoices):
        GRIEF = "grief", "Grief"
        ROLE_DISPUTE = "role_dispute", "Role dispute"
        ROLE_TRANSITION = "role_transition", "Role transition"
        INTERPERSONAL_DEFICITS = "interpersonal_deficits", "Interpersonal deficits / sensitivities"

    class DisputeStage(models.TextChoices):
        RENEGOTIATION = "renegotiation", "Renegotiation"
        IMPASSE = "impasse", "Impasse"
        DISSOLUTION = "dissolution", "Dissolution"

    formulation = models.ForeignKey(IptFormulation, on_delete=models.CASCADE, related_name="focal_areas")
    area = models.CharField(max_length=32, choices=Area.choices)
    dispute_stage = models.CharField(max_length=16, choices=DisputeStage.choices, blank=True,
                                     help_text="Only for a role dispute, and required for one.")
    goals = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["formulation", "position", "id"]

    def __str__(self) -> str:
        return f"{self.get_area_display()} (formulation {self.formulation_id})"
