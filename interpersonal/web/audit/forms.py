"""The audit browser's filters. Every field is bounded: text by length, the patient id by range,
and dates to the clinical window of ``interpersonal.web.bounds`` (1 January 2000 to a year ahead;
docs/bounds.md) — a year-1 or year-9999 date is a form error, never a date sum that overflows
into a server error."""

from __future__ import annotations

from django import forms

from interpersonal.web import bounds

PATIENT_ID_MAX = 2**63 - 1  # the column is a 64-bit integer


class AuditFilterForm(forms.Form):
    type = forms.CharField(required=False, max_length=64, label="Event type",
                           help_text="For example patient.viewed, or a prefix such as risk_alert.")
    actor = forms.CharField(required=False, max_length=150, label="User name")
    patient = forms.IntegerField(required=False, min_value=1, max_value=PATIENT_ID_MAX, label="Patient ID")
    date_from = bounds.DateField(window=bounds.CLINICAL, required=False, label="From")
    date_to = bounds.DateField(window=bounds.CLINICAL, required=False, label="To")

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            self.add_error("date_to", "The end of the range is before its start.")
        return cleaned
