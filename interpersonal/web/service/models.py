"""The waiting list's own records and the service's operational settings (docs/waiting.md,
docs/costs.md).

- :class:`OptInInvitation`: a referral awaiting contact was asked to opt in (by letter, e-mail or
  SMS) by a date; whether and when the patient did. Keyed to the referral (referrals.Referral is
  another app's: nothing here changes it except through ``referrals.actions``).
- :class:`StaffGrade` and :class:`GradeCost`: what one attended treatment session by a member of
  staff of a grade costs, from a date (dated, so a pay award changes costs from then on only).
- :class:`StaffProfile`: a clinician's grade and weekly capacity (treatment sessions a week).

Written only by :mod:`interpersonal.web.service.actions` (and the opt-in message task).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

COST_MAX_DIGITS = 8
"""Up to £999,999.99 a session: far above any real cost, far below a column overflow."""
WEEKLY_CAPACITY_MAX = 60
"""Treatment sessions a week one clinician can hold, at most (a full-time week of 45-minute sessions)."""


class OptInInvitation(models.Model):
    """An invitation to opt in to the service: the patient is asked to get in touch by
    ``respond_by``. The latest invitation of a referral governs it; a referral whose latest
    invitation has passed its date without an opt-in may be discharged (never automatically)."""

    class Channel(models.TextChoices):
        LETTER = "letter", "Letter (printed and posted)"
        EMAIL = "email", "E-mail"
        SMS = "sms", "Text message (SMS)"

    class Delivery(models.TextChoices):
        TO_PRINT = "to_print", "To print and post"
        QUEUED = "queued", "Waiting to be sent"
        SENT = "sent", "Sent"
        NO_CONTACT = "no_contact", "Not sent: no e-mail address or mobile number"
        FAILED = "failed", "Could not be sent"

    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="opt_in_invitations")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    sent_on = models.DateField(help_text="The invitation's date (the letter's date).")
    respond_by = models.DateField(help_text="The date by which the patient is asked to opt in.")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    delivery = models.CharField(max_length=12, choices=Delivery.choices)
    delivered_at = models.DateTimeField(null=True, blank=True)
    opted_in_on = models.DateField(null=True, blank=True)
    opted_in_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                             on_delete=models.PROTECT, related_name="+")
    opted_in_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["referral", "created_at"]), models.Index(fields=["respond_by"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(respond_by__gte=models.F("sent_on")),
                                   name="opt_in_respond_by_not_before_sent"),
            models.CheckConstraint(
                condition=models.Q(opted_in_on__isnull=True) | models.Q(opted_in_on__gte=models.F("sent_on")),
                name="opt_in_not_before_invited"),
        ]

    def __str__(self) -> str:
        return f"opt-in invitation {self.pk} of referral {self.referral_id} ({self.channel}, by {self.respond_by})"

    @property
    def opted_in(self) -> bool:
        return self.opted_in_on is not None


class StaffGrade(models.Model):
    """A staff grade whose sessions cost the same (e.g. "Band 7 high-intensity therapist")."""

    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GradeCost(models.Model):
    """The cost of one attended treatment session by a clinician of ``grade``, for sessions dated
    from ``effective_from`` until the grade's next cost takes effect."""

    grade = models.ForeignKey(StaffGrade, on_delete=models.PROTECT, related_name="costs")
    effective_from = models.DateField()
    cost_per_session = models.DecimalField(max_digits=COST_MAX_DIGITS, decimal_places=2)
    source = models.CharField(max_length=200, blank=True,
                              help_text="Where the figure comes from (a pay scale, a unit-cost publication).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["grade", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["grade", "effective_from"], name="one_cost_per_grade_and_date"),
            models.CheckConstraint(condition=models.Q(cost_per_session__gt=0), name="grade_cost_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.grade}: £{self.cost_per_session} a session from {self.effective_from}"


class StaffProfile(models.Model):
    """A clinician's grade (for costs) and weekly capacity (for open slots)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_profile")
    grade = models.ForeignKey(StaffGrade, null=True, blank=True, on_delete=models.PROTECT, related_name="staff")
    weekly_capacity = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Treatment sessions a week this clinician can hold.")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekly_capacity__isnull=True) | models.Q(weekly_capacity__lte=WEEKLY_CAPACITY_MAX),
                name="weekly_capacity_bounded"),
        ]

    def __str__(self) -> str:
        return f"profile of user {self.user_id}"
