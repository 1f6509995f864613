"""Shared by the records commands (subject access, erasure, retention): find one patient (by
database id, local ID or NHS number) or the records officer named by ``--by``, ask for
confirmation on a terminal, and name the operating-system user who ran the command. Errors are
CommandErrors a person can act on."""

from __future__ import annotations

import getpass
import os
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
    """The patient named by ``--id``, ``--local-id`` or ``--nhs-number``."""
    if options.get("nhs_number") is not None:
        try:
            lookup: dict[str, Any] = {"nhs_number": normalise_nhs_number(options["nhs_number"])}
        except InvalidNHSNumber as error:
            raise CommandError(f"--nhs-number: {error.reason}") from None
        what = f"NHS number {options['nhs_number']}"
    elif options.get("local_id") is not None:
        lookup, what = {"local_id": options["local_id"].strip()}, f"local ID {options['local_id']}"
    else:
        lookup, what = {"pk": options["id"]}, f"id {options['id']}"
    patient = Patient.objects.filter(**lookup).first()
    if patient is None:
        raise CommandError(f"There is no patient with {what}: check the identifier against the request.")
    return patient


def records_officer(username: str) -> Any:
    """The user ``username``, who must be active and hold Permission.HANDLE_RECORDS_REQUESTS."""
    user = get_user_model()._default_manager.filter(username=username).first()
    if user is None:
        raise CommandError(f"There is no user {username!r}.")
    if not has_permission(user, Permission.HANDLE_RECORDS_REQUESTS):  # an inactive user has no permission
        raise CommandError(f"{username} is not an active records officer: only a records officer can handle "
                           "records requests.")
    return user


def os_user() -> str:
    """Who ran the command on this machine: ``--by`` names a records officer without signing them in."""
    try:
        return getpass.getuser()[:64]
    except (KeyError, OSError):  # no user name for this uid (e.g. in some containers)
        return f"uid {os.getuid()}"


def confirm(stdin: Any, stdout: Any, question: str) -> bool:
    """Ask on a terminal; refuse (False) when there is none to ask on."""
    if not stdin.isatty():
        return False
    stdout.write(f"{question} Type 'yes' to go on: ", ending="")
    stdout.flush()
    return stdin.readline().strip().lower() == "yes"
