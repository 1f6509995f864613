"""Patients. Read only through patients.access, changed only through patients.actions. How a
patient came to the service (source, date, problem) is on each of their referrals (referrals.models)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Patient(models.Model):
    local_id = models.CharField("local ID", max_length=20, unique=True)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    nhs_number = models.CharField("NHS number", max_length=10, null=True, blank=True, unique=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    gp_practice = models.CharField("GP practice", max_length=200, blank=True)
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="allocated_patients",
        help_text="The clinician the patient is allocated to before and between courses.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["family_name", "given_name", "id"]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name} ({self.local_id})"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"
