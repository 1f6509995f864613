"""Referrals: the spine of care (docs/adr/0009-the-referral-is-the-spine-of-care.md).

One referral is one episode of care, as NHS Talking Therapies counts it (DOMAIN.md §6): it is
received (from a GP, another professional, or the patient), screened and triaged to a step and
a therapy, waits, is treated in one or more courses (a step-2 course stepped up to a step-3 one
stays in the same referral), and ends with one NHS end code. Measurements, risk alerts,
questionnaire links and contacts belong to a referral, and optionally to one of its courses:
screening scores and follow-up scores exist with no course.

Read only through referrals.access; changed only through referrals.actions.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from interpersonal.core.codes import EndReason


class InReferral(models.Model):
    """A row of a referral that may also belong to one of its courses: it joins the course's
    referral when none is given, and is refused if it names another one (the invariant every
    reading by referral relies on). ``bulk_create`` bypasses ``save``: its callers set both."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        course_id = getattr(self, "course_id", None)
        if course_id is not None:
            from interpersonal.web.courses.models import Course

            course_referral = Course.objects.filter(pk=course_id).values_list("referral_id", flat=True).first()
            if self.referral_id is None:  # type: ignore[attr-defined]
                self.referral_id = course_referral
            elif course_referral is not None and self.referral_id != course_referral:  # type: ignore[attr-defined]
                raise ValueError(f"{type(self).__name__}: course {course_id} belongs to referral {course_referral}, "
                                 f"not {self.referral_id}")  # type: ignore[attr-defined]
        super().save(*args, **kwargs)


class ReferralSource(models.TextChoices):
    SELF = "self", "Self-referral"
    GP = "gp", "GP"
    PRIMARY_CARE = "primary_care", "Other primary care"
    SECONDARY_CARE = "secondary_care", "Secondary care"
    OTHER = "other", "Other"


class SelfReferral(models.Model):
    """What a person sent with the public self-referral form (``/refer/``) beyond the patient and
    referral it made: how they want to be contacted, their consent, the reference they were shown,
    and whether they may already be registered (a possible duplicate, for staff to decide).

    ``duplicate_of`` is a patient's id, not a foreign key: a duplicate is resolved by erasing one
    record (privacy.erasure, "entered in error or duplicate"), and a foreign key between the two
    records would make each part of the other's erasure."""

    class ContactMethod(models.TextChoices):
        PHONE = "phone", "Phone call"
        TEXT = "text", "Text message"
        EMAIL = "email", "Email"
        LETTER = "letter", "Letter"

    class Match(models.TextChoices):
        NHS_NUMBER = "nhs_number", "the same NHS number"
        NAME_AND_BIRTH = "name_and_birth", "the same name and date of birth"

    class Duplicate(models.TextChoices):
        POSSIBLE = "possible", "Possible duplicate: not checked yet"
        NOT_DUPLICATE = "not_duplicate", "Checked: not the same person"
        DUPLICATE = "duplicate", "Checked: the same person (this record is to be erased)"

    referral = models.OneToOneField("referrals.Referral", on_delete=models.PROTECT, related_name="self_referral")
    reference = models.CharField(max_length=9, unique=True, help_text="Shown to the person when they sent the form.")
    submitted_at = models.DateTimeField()
    contact_method = models.CharField(max_length=10, choices=ContactMethod.choices)
    leave_message = models.BooleanField(help_text="Whether the service may leave a message saying who it is.")
    consented_at = models.DateTimeField(help_text="When the person agreed to be contacted about the referral.")
    nhs_number_given = models.CharField(
        max_length=10, blank=True,
        help_text="An NHS number the person gave that another patient's record already holds: kept here for "
                  "staff to check, not on the patient.",
    )
    duplicate_of = models.PositiveBigIntegerField(null=True, blank=True,
                                                  help_text="The id of the registered patient this one matched.")
    duplicate_match = models.CharField(max_length=16, blank=True, choices=Match.choices)
    duplicate = models.CharField(max_length=16, blank=True, choices=Duplicate.choices)
    duplicate_decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                             on_delete=models.PROTECT, related_name="+")
    duplicate_decided_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["duplicate"])]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(duplicate="") & models.Q(duplicate_of__isnull=True))
                | (~models.Q(duplicate="") & models.Q(duplicate_of__isnull=False)),
                name="self_referral_duplicate_names_a_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"self-referral {self.reference}"


class SelfReferralAttempt(models.Model):
    """A POST to the self-referral form, for rate limiting (the client address is an HMAC keyed by
    the secret key, never the address). Rows older than the window are deleted as new ones come."""

    client = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"self-referral attempt at {self.at:%Y-%m-%d %H:%M:%S}"


class Referral(models.Model):
    class Status(models.TextChoices):
        AWAITING_TRIAGE = "awaiting_triage", "Awaiting screening and triage"
        WAITING = "waiting", "Waiting for treatment"
        IN_TREATMENT = "in_treatment", "In treatment"
        DISCHARGED = "discharged", "Discharged"

    OPEN = (Status.AWAITING_TRIAGE, Status.WAITING, Status.IN_TREATMENT)

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="referrals")
    source = models.CharField(max_length=20, choices=ReferralSource.choices)
    referrer = models.CharField(
        max_length=200, blank=True,
        help_text="Who referred (name and organisation), when not the patient.",
    )
    received_on = models.DateField(help_text="The referral date: every waiting-time clock starts here.")
    presenting_problem = models.TextField(blank=True, help_text="The problem as the referrer or patient described it.")
    problem_descriptor = models.CharField(
        max_length=8, blank=True,
        help_text="The provisional diagnosis (ICD-10 code, e.g. F32 depressive episode, F43.1 PTSD): it chooses "
                  "the anxiety-disorder-specific measure.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AWAITING_TRIAGE)
    # Triage: the step and therapy the referral waits for, why, and what the patient wanted.
    step = models.PositiveSmallIntegerField(null=True, blank=True, help_text="2 (low intensity) or 3 (high intensity).")
    therapy = models.CharField(max_length=32, blank=True, help_text="The protocol id triaged to.")
    triage_reason = models.TextField(blank=True)
    patient_preference = models.TextField(blank=True, help_text="The patient's preference, in their words or as chosen.")
    triaged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    triaged_at = models.DateTimeField(null=True, blank=True)
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals",
        help_text="The clinician the referral is allocated to (assessment, then treatment).",
    )
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=24, blank=True,
                                  choices=[(r.value, r.label) for r in EndReason if r.ends_referral])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-received_on", "-id"]
        indexes = [
            models.Index(fields=["status", "received_on"]),
            models.Index(fields=["patient", "received_on"]),
            models.Index(fields=["therapist", "status"]),
        ]
        constraints = [
            # One pathway at a time: a patient re-referred while a referral is open joins that one.
            models.UniqueConstraint(fields=["patient"], condition=~models.Q(status="discharged"),
                                    name="one_open_referral_per_patient"),
            models.CheckConstraint(condition=models.Q(step__isnull=True) | models.Q(step__in=(2, 3)),
                                   name="referral_step_2_or_3"),
            models.CheckConstraint(
                condition=(models.Q(status="discharged", ended_on__isnull=False) & ~models.Q(end_reason=""))
                | (~models.Q(status="discharged") & models.Q(ended_on__isnull=True, end_reason="")),
                name="referral_ended_iff_discharged",
            ),
        ]

    def __str__(self) -> str:
        return f"referral {self.pk} ({self.get_status_display().lower()}) received {self.received_on:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.DISCHARGED

    @property
    def end_reason_enum(self) -> EndReason | None:
        return EndReason(self.end_reason) if self.end_reason else None


# Screening, suitability rules and triage (docs/screening.md): their own module, one app.
from interpersonal.web.referrals.models_screening import (  # noqa: E402, F401
    ScreeningDecision,
    SuitabilityRule,
    Triage,
)
