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
    """A team of staff. A retired team takes no new members; its members keep working (and keep
    the team until an administrator moves them)."""

    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class User(AbstractUser):
    """A member of staff. With no role, a user can sign in and see nothing clinical."""

    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="members")
    created_by_demo = models.BooleanField(
        default=False, editable=False,
        help_text="Made by seed_demo, which creates and updates only accounts marked so.",
    )

    class Meta:
        db_table = "accounts_user"

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def individual_supervisor(self) -> User | None:
        """The current individual supervisor (supervision.reach; one query, not cached): what the staff
        form shows. Reach comes from every current relationship, of any kind — never from this alone."""
        from interpersonal.web.supervision.reach import individual_supervisor

        return individual_supervisor(self)  # type: ignore[no-any-return]


class AccessGrant(models.Model):
    """A proposed widening of someone's reach into patient records (ADR 0008).

    An administrator's change that would let an account read patients it could not read before —
    a new account with a clinical role, a role that holds a caseload or supervises, a supervisor
    assigned to a therapist (an individual one from the staff form, or any supervision relationship), an account with a clinical role let in again, a reset of a clinical
    account's sign-in — has no effect until a different person with clinical authority (or the
    superuser) confirms it. The proposed values are stored here; ``actions.confirm_grant`` applies
    them. Narrowing reach is never a grant: it takes effect at once.
    """

    class Kind(models.TextChoices):
        NEW_ACCOUNT = "new_account", "New account with a clinical role"
        ACCESS_CHANGE = "access_change", "Role, supervisor or sign-in widened"
        SIGN_IN_RESET = "sign_in_reset", "Reset of a clinical account's sign-in"
        SECOND_FACTOR_RESET = "second_factor_reset", "Removal of a clinical account's authenticator app"
        CASELOAD_HANDOVER = "caseload_handover", "Hand-over of a caseload to this clinician"
        SUPERVISION = "supervision", "A supervisor for this clinician"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        CONFIRMED = "confirmed", "Confirmed"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn: the account was changed after the request"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_grants",
                             help_text="The account whose reach would widen (or whose supervisor would).")
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    supervisor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="The requested individual supervisor (supervision.SupervisionRelationship once confirmed); for "
                  "a supervision request, the supervisor of ``relationship``.")
    relationship = models.ForeignKey(
        "supervision.SupervisionRelationship", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="For a supervision request: the relationship that takes effect when confirmed.")
    is_active = models.BooleanField(default=True)
    handover_from = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="For a caseload hand-over: the clinician whose active cases would move to ``user``.",
    )
    requested_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    code_hash = models.CharField(
        max_length=64, blank=True, editable=False,
        help_text="HMAC of the enrolment code shown to the requester, when confirming issues a link (ADR 0008).",
    )

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.user.username} ({self.get_status_display().lower()})"


class EnrolmentLink(models.Model):
    """A one-time link with which a member of staff sets their own password (and then enrols
    their own second factor). Only the SHA-256 of its random token is stored; it expires after
    ``enrolment.VALID_FOR`` and works once. A clinical account's link works only with the enrolment
code the requesting administrator was shown (``code_hash``)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="enrolment_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    code_hash = models.CharField(
        max_length=64, blank=True,
        help_text="HMAC of the enrolment code that must accompany the link; blank for an account with no reach.",
    )
    wrong_codes = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Enrolment link for {self.user.username}"
