"""Patients. Read only through patients.access, changed only through patients.actions. How a
patient came to the service (source, date, problem) is on each of their referrals (referrals.models)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from interpersonal.core import demographics as mds


def _choices(codes: mds.CodeList) -> list[tuple[str, str]]:
    return [(code, f"{label} ({code})") for code, label in codes]


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
    # NHS Talking Therapies data set person characteristics (interpersonal.core.demographics cites
    # each list): empty means not yet asked, which is submitted as "not known".
    gender_identity = models.CharField(max_length=mds.GENDER_IDENTITY.max_length, blank=True,
                                       choices=_choices(mds.GENDER_IDENTITY))
    ethnic_category = models.CharField(max_length=mds.ETHNIC_CATEGORY.max_length, blank=True,
                                       choices=_choices(mds.ETHNIC_CATEGORY))
    preferred_language = models.CharField(max_length=mds.PREFERRED_LANGUAGE.max_length, blank=True,
                                          choices=_choices(mds.PREFERRED_LANGUAGE))
    interpreter_required = models.BooleanField(null=True, blank=True, help_text="Empty: not yet asked.")
    disabilities = models.JSONField(default=list, blank=True,
                                    help_text="DISABILITY CODEs, sorted (core.demographics.clean_disabilities).")
    employment_status = models.CharField(max_length=mds.EMPLOYMENT_STATUS.max_length, blank=True,
                                         choices=_choices(mds.EMPLOYMENT_STATUS))
    # Consent to contact, one channel at a time: True given, False refused, None not yet asked.
    contact_by_phone = models.BooleanField("may be phoned", null=True, blank=True)
    contact_by_sms = models.BooleanField("may be sent text messages", null=True, blank=True)
    contact_by_email = models.BooleanField("may be e-mailed", null=True, blank=True)
    contact_by_letter = models.BooleanField("may be sent letters", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["family_name", "given_name", "id"]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name} ({self.local_id})"

    @property
    def disability_labels(self) -> list[str]:
        return [f"{mds.DISABILITY.label(code)} ({code})" for code in self.disabilities or [] if code in mds.DISABILITY]

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"
