"""Find one patient, or one member of staff, for the records commands (subject access, erasure):
by database id, local ID or NHS number; errors are CommandErrors a person can act on."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from interpersonal.core.identifiers import InvalidNHSNumber, normalise_nhs_number
from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.patients.models import Patient


def add_patient_arguments(parser: CommandParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", type=int, help="The patient's database id (as in the audit trail).")
    which.add_argument("--local-id", help="The service's local ID.")
    which.add_argument("--nhs-number", help="The NHS number (spaces allowed).")


def patient_from_options(options: dict[str, Any]) -> Patient:
    if options.get("id") is not None:
        lookup: dict[str, Any] = {"pk": options["id"]}
    elif options.get("local_id"):
        lookup = {"local_id": options["local_id"].strip()}
    else:
        try:
            lookup = {"nhs_number": normalise_nhs_number(options.get("nhs_number") or "")}
        except InvalidNHSNumber as error:
            raise CommandError(f"--nhs-number: {error.reason}") from None
    patient = Patient.objects.filter(**lookup).first()
    if patient is None:
        raise CommandError("No patient matches: check the identifier against the request.")
    return patient


def records_officer(username: str) -> Any:
    """The active user ``username``, who must hold Permission.HANDLE_RECORDS_REQUESTS."""
    user = get_user_model()._default_manager.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"--by {username!r}: no active account has that username.")
    if not has_permission(user, Permission.HANDLE_RECORDS_REQUESTS):
        raise CommandError(f"--by {username!r}: the account is not a records officer "
                           "(records requests need the records officer role).")
    return user
