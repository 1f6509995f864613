"""``interpersonal erase_patient (--id N | --local-id X | --nhs-number N) --reason R --reference REF
--by USERNAME [--yes]``: erase one patient's record (interpersonal.web.privacy.erasure;
docs/privacy.md "Erasure and retention"). Prints what would be deleted; without ``--yes`` it asks
on a terminal and refuses anywhere else. Audited as ``patient.erased``."""

from __future__ import annotations

import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from interpersonal.core.identifiers import InvalidNHSNumber, normalise_nhs_number
from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.patients.models import Patient
from interpersonal.web.privacy.erasure import ErasureRefused, Reason, clean_reference, erase_patient, preview, problems


def staff_member(username: str) -> Any:
    """The active user ``username`` holding the records-requests permission, or CommandError."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"There is no user {username!r}.")
    if not has_permission(user, Permission.HANDLE_RECORDS_REQUESTS):
        raise CommandError(f"{username} is not an active records officer: only a records officer can erase records.")
    return user


def confirm(stdin: Any, stdout: Any, question: str) -> bool:
    """Ask on a terminal; refuse (False) when there is none to ask on."""
    if not stdin.isatty():
        return False
    stdout.write(f"{question} Type 'yes' to go on: ", ending="")
    stdout.flush()
    return stdin.readline().strip().lower() == "yes"


def counts_text(counts: dict[str, int]) -> str:
    return "\n".join(f"  {label:<32} {n}" for label, n in counts.items() if n)


class Command(BaseCommand):
    help = "Erase one patient's record (entered in error, past retention, or an upheld erasure request)."
    stealth_options = ("stdin",)  # tests answer the confirmation through a stand-in terminal

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--id", type=int, help="The patient's id.")
        which.add_argument("--local-id", help="The patient's local ID, e.g. P000123.")
        which.add_argument("--nhs-number", help="The patient's NHS number.")
        parser.add_argument("--reason", required=True, choices=Reason.values, help="Why the record is erased.")
        parser.add_argument("--reference", required=True, help="The case reference, e.g. the IG case number (1–64 characters).")
        parser.add_argument("--by", required=True, help="The username of the records officer erasing.")
        parser.add_argument("--yes", action="store_true", help="Erase without asking.")

    def handle(self, *args: Any, id: int | None, local_id: str | None, nhs_number: str | None, reason: str,
               reference: str, by: str, yes: bool, **options: Any) -> None:
        user = staff_member(by)
        try:
            reference = clean_reference(reference)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        patient = self._patient(id, local_id, nhs_number)
        found = problems(patient, reason)
        if found:
            raise CommandError("Not erased. " + " ".join(found))
        counts = preview(patient.pk)
        self.stdout.write(f"Erasing {patient.local_id} (id {patient.pk}, reason {reason}, reference {reference}) "
                          f"deletes {sum(counts.values())} rows:\n{counts_text(counts)}")
        if not yes and not confirm(options.get("stdin", sys.stdin), self.stdout, f"Erase {patient.local_id}?"):
            raise CommandError("Nothing erased: confirm on a terminal, or run again with --yes.")
        try:
            result = erase_patient(patient.pk, by=user, reason=reason, reference=reference,
                                   expected_version=patient.version)
        except (ErasureRefused, ValueError, PermissionDenied) as exc:
            raise CommandError(f"Not erased. {exc}") from None
        self.stdout.write(f"Erased {patient.local_id} (id {result.patient_id}): {result.total} rows deleted; "
                          "the audit trail keeps its events and one patient.erased event.")

    def _patient(self, pk: int | None, local_id: str | None, nhs_number: str | None) -> Patient:
        if nhs_number is not None:
            try:
                found = Patient.objects.filter(nhs_number=normalise_nhs_number(nhs_number)).first()
            except InvalidNHSNumber as exc:
                raise CommandError(f"--nhs-number: {exc}") from None
            what = f"NHS number {nhs_number}"
        elif local_id is not None:
            found, what = Patient.objects.filter(local_id=local_id.strip()).first(), f"local ID {local_id}"
        else:
            found, what = Patient.objects.filter(pk=pk).first(), f"id {pk}"
        if found is None:
            raise CommandError(f"There is no patient with {what}: nothing was erased.")
        return found
