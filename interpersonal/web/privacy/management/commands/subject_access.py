"""``interpersonal subject_access (--id N | --local-id X | --nhs-number N) --by USERNAME --out DIR``:
the patient's subject access copy (interpersonal.web.privacy.subject_access) as JSON and PDF.
Audited as ``patient.subject_access`` (one event per file, via="cli")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from interpersonal.web.operations.files import private_files
from interpersonal.web.privacy import reference as case_reference
from interpersonal.web.privacy import subject_access
from interpersonal.web.privacy.lookup import add_patient_arguments, patient_from_options, records_officer


class Command(BaseCommand):
    help = "Write everything held about one patient as JSON and PDF (a subject access copy)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_patient_arguments(parser)
        parser.add_argument("--by", required=True, help="Username of the records officer making the copy (audited).")
        parser.add_argument("--out", required=True, type=Path, help="Directory to write (created if missing).")
        parser.add_argument("--format", choices=("json", "pdf", "both"), default="both")
        parser.add_argument("--reference", default="", help="The information-governance case reference.")

    @private_files()
    def handle(self, *args: Any, **options: Any) -> None:
        by = records_officer(options["by"])
        patient = patient_from_options(options)
        try:
            reference = case_reference.clean(options["reference"], required=False, patient=patient)
        except ValueError as error:
            raise CommandError(f"--reference: {error}") from None
        formats = ("json", "pdf") if options["format"] == "both" else (options["format"],)
        out: Path = options["out"]
        out.mkdir(parents=True, exist_ok=True)
        copy = subject_access.collect(patient)  # rendered outside a transaction: see views.subject_access_copy
        bodies = {fmt: subject_access.to_json(copy) if fmt == "json"
                  else subject_access.to_pdf(patient, copy, reference=reference) for fmt in formats}
        for fmt, body in bodies.items():
            path = out / subject_access.filename(patient, fmt)
            with transaction.atomic():  # a failed write rolls its event back
                subject_access.record_copy(patient, by=by, fmt=fmt, reference=reference, via="cli")
                path.write_bytes(body)
            self.stdout.write(f"Wrote {path}")
