"""Forms of the records pages (information governance)."""

from __future__ import annotations

from typing import Any

from django import forms

from interpersonal.core.identifiers import InvalidNHSNumber, normalise_nhs_number
from interpersonal.web import bounds
from interpersonal.web.privacy import reference as case_reference

REFERENCE_HELP = case_reference.HELP


def clean_reference(value: str, *, required: bool, patient: object = None) -> str:
    try:
        return case_reference.clean(value, required=required, patient=patient)
    except ValueError as error:
        raise forms.ValidationError(str(error)) from None


class FindPatientForm(forms.Form):
    identifier = forms.CharField(
        max_length=40, label="NHS number or local ID",
        help_text="The exact NHS number (spaces allowed) or the service's local ID. There is no browsing: one record at a time.",
    )

    def clean_identifier(self) -> dict[str, str]:
        text = self.cleaned_data["identifier"].strip()
        digits = text.replace(" ", "").replace("-", "")
        if digits.isdigit() and len(digits) == 10:
            try:
                return {"nhs_number": normalise_nhs_number(text)}
            except InvalidNHSNumber as error:
                raise forms.ValidationError(f"That is not a valid NHS number: {error.reason}.") from None
        if not text:
            raise forms.ValidationError("Enter an NHS number or a local ID.")
        return {"local_id": text}


class SubjectAccessForm(forms.Form):
    format = forms.ChoiceField(choices=[("pdf", "PDF"), ("json", "JSON")])
    reference = forms.CharField(required=False, max_length=case_reference.MAX_LENGTH, label="Case reference", help_text=REFERENCE_HELP)

    def __init__(self, *args: object, patient: object = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.patient = patient

    def clean_reference(self) -> str:
        return clean_reference(self.cleaned_data.get("reference", ""), required=False, patient=self.patient)


class EraseForm(forms.Form):
    """Erase one record: why, the case reference, and the local ID typed again to confirm."""

    reason = forms.ChoiceField(widget=forms.RadioSelect, label="Why is this record being erased?",
                               error_messages={"required": "Choose why the record is being erased."})
    reference = forms.CharField(max_length=case_reference.MAX_LENGTH, label="Case reference", help_text=REFERENCE_HELP,
                                error_messages={"required": "Enter the case reference."})
    confirm = forms.CharField(max_length=40, label="Type the record's local ID to confirm",
                              error_messages={"required": "Type the record's local ID to confirm the erasure."},
                              help_text="Erasure cannot be undone: the record is deleted everywhere but in backups.")
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=bounds.INT_MAX)

    def __init__(self, *args: object, patient: Any, **kwargs: object) -> None:
        from interpersonal.web.privacy.erasure import Reason

        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.patient = patient
        self.local_id = patient.local_id
        self.fields["reason"].choices = Reason.choices

    def clean_reference(self) -> str:
        return clean_reference(self.cleaned_data.get("reference", ""), required=True, patient=self.patient)

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].strip()
        if typed != self.local_id:
            raise forms.ValidationError(f"Type the local ID exactly as shown ({self.local_id}) to confirm the erasure.")
        return typed
