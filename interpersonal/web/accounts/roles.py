"""Roles as code: what each role may do. Deny by default.

A permission not listed for a role is refused. Superusers without a role count as
administrators: they manage accounts, and see no clinical content.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from interpersonal.web.accounts.models import Role


class Permission(StrEnum):
    VIEW_MEASURES = "measures.view"
    """The instrument catalogue and the scoring calculator (no patient data)."""
    HOLD_CASELOAD = "caseload.hold"
    """See and change one's own caseload: patients, courses, sessions, measures."""
    SUPERVISE = "cases.supervise"
    """Read (not change) supervisees' cases; acknowledge their risk alerts."""
    VIEW_SERVICE_AGGREGATES = "service.aggregates"
    """Counts and rates across the service, never an identifiable record."""
    MANAGE_ACCOUNTS = "accounts.manage"
    """Create users, set roles and teams; no clinical content."""
    VIEW_AUDIT = "audit.view"
    """Browse and filter the audit trail (identifiers only, no clinical text)."""
    HANDLE_RECORDS_REQUESTS = "records.requests"
    """Information governance: find one patient by identifier, produce their subject access
    copy, erase a record (entered in error, past retention) — never browse caseloads."""
    CONFIRM_ACCESS_GRANTS = "accounts.confirm_grants"
    """Clinical authority: confirm or decline another person's request to widen someone's reach
    into patient records (ADR 0008). Never one's own request, never a grant to oneself."""
    TRIAGE_REFERRALS = "referrals.triage"
    """Work the referral inbox and screen and triage referrals not yet in treatment (awaiting
    triage or waiting), whoever they are allocated to: read them (the patient's details and what
    they asked for), record referrals received from GPs and other professionals, screening
    measures and contacts, the suitability decision, the step and therapy (docs/screening.md).
    Opens identifiable records: a reach permission (ADR 0008). The allocated clinician may screen
    and triage their own referrals."""
    CONFIGURE_SERVICE_RULES = "service.rules"
    """Edit the service's configurable rules (suitability rules): no patient data."""
    VIEW_REFERRAL_QUEUE = "referrals.queue"
    """See the referral inbox as a queue: how long each referral has waited, its source and its
    flags, by referral number only: no name, no identifier, no clinical text."""


DESCRIPTIONS: dict[Permission, str] = {
    Permission.VIEW_MEASURES: "Use the measures catalogue and the scoring calculator (no patient data).",
    Permission.HOLD_CASELOAD: "See and change your own caseload: patients, courses, sessions, measures.",
    Permission.SUPERVISE: "Read your supervisees' cases and acknowledge their risk alerts.",
    Permission.VIEW_SERVICE_AGGREGATES: "See counts and rates across the service, never an identifiable record.",
    Permission.MANAGE_ACCOUNTS: "Manage staff accounts, roles and teams; no clinical content.",
    Permission.VIEW_AUDIT: "Browse and filter the audit trail (identifiers only).",
    Permission.HANDLE_RECORDS_REQUESTS: (
        "Handle records requests: find a patient by identifier, produce their subject access copy, "
        "erase a record entered in error or past its retention period."
    ),
    Permission.CONFIRM_ACCESS_GRANTS: (
        "Confirm or decline requests to give a colleague access to patient records (never your own request)."
    ),
    Permission.TRIAGE_REFERRALS: (
        "Work the referral inbox and screen and triage referrals not yet in treatment, whoever they are "
        "allocated to: record referrals from GPs and other professionals, screening measures, the suitability "
        "decision, the step and therapy."
    ),
    Permission.CONFIGURE_SERVICE_RULES: "Edit the service's suitability rules (no patient data).",
    Permission.VIEW_REFERRAL_QUEUE: (
        "See the referral inbox as a queue (waiting times, sources, flags) by referral number, without names."
    ),
}

REACH_PERMISSIONS = frozenset({Permission.HOLD_CASELOAD, Permission.SUPERVISE, Permission.HANDLE_RECORDS_REQUESTS,
                               Permission.TRIAGE_REFERRALS})
"""Permissions that open identifiable patient records: granting one is a clinical decision."""


@dataclass(frozen=True, slots=True)
class RoleDefinition:
    role: Role
    description: str
    permissions: frozenset[Permission]


THERAPIST = RoleDefinition(
    Role.THERAPIST,
    "Delivers courses: sees and records their own caseload only.",
    frozenset({Permission.VIEW_MEASURES, Permission.HOLD_CASELOAD}),
)
SUPERVISOR = RoleDefinition(
    Role.SUPERVISOR,
    "A therapist who also supervises: their own caseload, read access to their supervisees' cases, and the "
    "screening and triage of referrals not yet in treatment.",
    frozenset({Permission.VIEW_MEASURES, Permission.HOLD_CASELOAD, Permission.SUPERVISE,
               Permission.CONFIRM_ACCESS_GRANTS, Permission.TRIAGE_REFERRALS}),
)
SERVICE_LEAD = RoleDefinition(
    Role.SERVICE_LEAD,
    "Runs the service: aggregate outcomes and activity, the referral queue without names, the service's "
    "suitability rules; no identifiable records.",
    frozenset({Permission.VIEW_MEASURES, Permission.VIEW_SERVICE_AGGREGATES, Permission.CONFIGURE_SERVICE_RULES,
               Permission.VIEW_REFERRAL_QUEUE}),
)
ADMINISTRATOR = RoleDefinition(
    Role.ADMINISTRATOR,
    "Manages users and teams, reviews the audit trail and edits the service's suitability rules; no clinical content.",
    frozenset({Permission.VIEW_MEASURES, Permission.MANAGE_ACCOUNTS, Permission.VIEW_AUDIT,
               Permission.CONFIGURE_SERVICE_RULES}),
)
RECORDS_OFFICER = RoleDefinition(
    Role.RECORDS_OFFICER,
    "Information governance: subject access requests, erasure and retention, one patient at a time.",
    frozenset({Permission.VIEW_MEASURES, Permission.HANDLE_RECORDS_REQUESTS}),
)
ROLES: dict[str, RoleDefinition] = {
    r.role.value: r for r in (THERAPIST, SUPERVISOR, SERVICE_LEAD, ADMINISTRATOR, RECORDS_OFFICER)
}


def permissions_for(user: Any) -> frozenset[Permission]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    definition = ROLES.get(user.role)
    if definition is None:
        return ADMINISTRATOR.permissions if user.is_superuser else frozenset()
    return definition.permissions


def has_permission(user: Any, permission: Permission) -> bool:
    return permission in permissions_for(user)


def reach_of(role: str) -> frozenset[Permission]:
    """The record-opening permissions a role holds (empty for a role that opens no record)."""
    definition = ROLES.get(role)
    return definition.permissions & REACH_PERMISSIONS if definition else frozenset()
