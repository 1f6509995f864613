"""Staff accounts. A user's role (roles.py) decides what they may see; deny by default."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    THERAPIST = "therapist", "Therapist"
    SUPERVISOR = "supervisor", "Supervisor"
    SERVICE_LEAD = "service_lead", "Service lead"
    ADMINISTRATOR = "administrator", "Administrator"
    RECORDS_OFFICER = "records_officer", "Records officer"


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A member of staff. With no role, a user can sign in and see nothing clinical."""

    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="members")
    supervisor = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supervisees",
        help_text="The clinical supervisor who may read this therapist's cases.",
    )

    class Meta:
        db_table = "accounts_user"

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username
