"""The audit browser's filters. Every field is bounded: text by length, the patient id by range,
and dates to a plausible window (docs/adr/0004-audit-events.md, 2026-12-04) — a year-1 or year-9999 date
is a form error, never a date sum that overflows into a server error."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

# The window a date filter may lie in: from before any event this service can hold (the audit
# trail began with the service, long after 2000) to a year ahead of today (a filter "to" a date in
# the near future is harmless, one in year 9999 overflows the end-of-day sum).
EARLIEST = dt.date(2000, 1, 1)
AHEAD = dt.timedelta(days=366)
PATIENT_ID_MAX = 2**63 - 1  # the column is a 64-bit integer


def latest() -> dt.date:
    return timezone.localdate() + AHEAD


def _in_window(value: dt.date | None) -> dt.date | None:
    if value is not None and not EARLIEST <= value <= latest():
        raise forms.ValidationError(
            f"Give a date between {EARLIEST:%-d %B %Y} and {latest():%-d %B %Y}.", code="out_of_window")
    return value


class AuditFilterForm(forms.Form):
    type = forms.CharField(required=False, max_length=64, label="Event type",
                           help_text="For example patient.viewed, or a prefix such as risk_alert.")
    actor = forms.CharField(required=False, max_length=150, label="User name")
    patient = forms.IntegerField(required=False, min_value=1, max_value=PATIENT_ID_MAX, label="Patient ID")
    date_from = forms.DateField(required=False, widget=DATE, label="From")
    date_to = forms.DateField(required=False, widget=DATE, label="To")

    def clean_date_from(self) -> dt.date | None:
        return _in_window(self.cleaned_data.get("date_from"))

    def clean_date_to(self) -> dt.date | None:
        return _in_window(self.cleaned_data.get("date_to"))

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            self.add_error("date_to", "The end of the range is before its start.")
        return cleaned
