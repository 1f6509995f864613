"""``interpersonal erase_patient (--id N | --local-id X | --nhs-number N) --reason R --reference REF
--by USERNAME [--yes]``: erase one patient's record (interpersonal.web.privacy.erasure;
docs/privacy.md "Erasure and retention"). Prints what would be deleted; without ``--yes`` it asks
on a terminal and refuses anywhere else. Audited as ``patient.erased``."""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from interpersonal.web.privacy.erasure import ErasureRefused, Reason, clean_reference, erase_patient, preview, problems
from interpersonal.web.privacy.lookup import (
    add_patient_arguments,
    confirm,
    os_user,
    patient_from_options,
    records_officer,
)


def counts_text(counts: dict[str, int]) -> str:
    return "\n".join(f"  {label:<32} {n}" for label, n in counts.items() if n)


class Command(BaseCommand):
    help = "Erase one patient's record (entered in error, past retention, or an upheld erasure request)."
    stealth_options = ("stdin",)  # tests answer the confirmation through a stand-in terminal

    def add_arguments(self, parser: CommandParser) -> None:
        add_patient_arguments(parser)
        parser.add_argument("--reason", required=True, choices=Reason.values, help="Why the record is erased.")
        parser.add_argument("--reference", required=True, help="The case reference, e.g. the IG case number (1–64 characters).")
        parser.add_argument("--by", required=True, help="The username of the records officer erasing.")
        parser.add_argument("--yes", action="store_true", help="Erase without asking.")

    def handle(self, *args: Any, id: int | None, local_id: str | None, nhs_number: str | None, reason: str,
               reference: str, by: str, yes: bool, **options: Any) -> None:
        user = records_officer(by)
        try:
            reference = clean_reference(reference)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        patient = patient_from_options({"id": id, "local_id": local_id, "nhs_number": nhs_number})
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
                                   expected_version=patient.version, via="cli", os_user=os_user())
        except (ErasureRefused, ValueError, PermissionDenied) as exc:
            raise CommandError(f"Not erased. {exc}") from None
        self.stdout.write(f"Erased {patient.local_id} (id {result.patient_id}): {result.total} rows deleted; "
                          "the audit trail keeps its events and one patient.erased event.")
