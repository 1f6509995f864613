from __future__ import annotations

from django import forms

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditFilterForm(forms.Form):
    type = forms.CharField(required=False, max_length=64, label="Event type",
                           help_text="For example patient.viewed, or a prefix such as risk_alert.")
    actor = forms.CharField(required=False, max_length=150, label="User name")
    patient = forms.IntegerField(required=False, min_value=1, label="Patient ID")
    date_from = forms.DateField(required=False, widget=DATE, label="From")
    date_to = forms.DateField(required=False, widget=DATE, label="To")

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            self.add_error("date_to", "The end of the range is before its start.")
        return cleaned
