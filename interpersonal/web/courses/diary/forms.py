"""Diary forms: they parse; courses.diary.actions validates and writes."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from interpersonal.core.codes import Attendance, Medium
from interpersonal.web import bounds
from interpersonal.web.courses.diary.actions import INTERVAL_DAYS, SERIES_MAX, local_time
from interpersonal.web.courses.forms import DATE, TIME
from interpersonal.web.courses.models import ROOM_MAX

EXPECTED_MAX = 40
"""An ISO 8601 time with its offset and microseconds is 32 characters."""


def _code_choices(*codes: Attendance) -> list[tuple[str, str]]:
    return [(str(c.value), f"{c.value} · {c.label}") for c in codes]


class BookSeriesForm(forms.Form):
    first_day = bounds.DateField(window=bounds.CLINICAL, widget=DATE, label="First appointment")
    time = forms.TimeField(widget=TIME, label="Time")
    count = forms.IntegerField(label="Number of appointments", min_value=1, max_value=SERIES_MAX)
    every_days = forms.IntegerField(label="Every (days)", min_value=INTERVAL_DAYS[0], max_value=INTERVAL_DAYS[1],
                                    initial=7, help_text="7 for weekly, 14 for fortnightly.")
    duration_minutes = forms.IntegerField(label="Length (minutes)", min_value=bounds.SESSION_MINUTES[0],
                                          max_value=bounds.SESSION_MINUTES[1], initial=50)
    medium = forms.ChoiceField(choices=[(m.value, m.label) for m in Medium], initial=Medium.FACE_TO_FACE.value)
    room = forms.CharField(max_length=ROOM_MAX, required=False, help_text="Optional: where face-to-face sessions are held.")


class _Expected(forms.Form):
    """The appointment's time as the clinician saw it: a change is refused if it moved meanwhile."""

    expected = forms.CharField(max_length=EXPECTED_MAX, widget=forms.HiddenInput)

    def clean_expected(self) -> dt.datetime:
        try:
            value = dt.datetime.fromisoformat(self.cleaned_data["expected"])
        except ValueError:
            raise forms.ValidationError("The appointment you saw did not come back whole: reload the page.") from None
        if timezone.is_naive(value):
            raise forms.ValidationError("The appointment you saw did not come back whole: reload the page.")
        return value


class RescheduleForm(_Expected):
    date = bounds.DateField(window=bounds.CLINICAL, widget=DATE, label="New date")
    time = forms.TimeField(widget=TIME, label="New time")
    room = forms.CharField(max_length=ROOM_MAX, required=False)

    def to(self) -> dt.datetime:
        """The new time (ValidationError on a time the clocks skip, shown on the form)."""
        return local_time(self.cleaned_data["date"], self.cleaned_data["time"])


class CancelForm(_Expected):
    code = forms.TypedChoiceField(
        label="Cancelled by", coerce=int, widget=forms.RadioSelect,
        choices=_code_choices(Attendance.CANCELLED_BY_PATIENT, Attendance.CANCELLED_BY_PROVIDER),
        error_messages={"required": "Choose who cancelled: the patient (code 2) or the service (code 4)."})


class MarkForm(_Expected):
    code = forms.TypedChoiceField(
        label="What happened", coerce=int, widget=forms.RadioSelect,
        choices=_code_choices(Attendance.ATTENDED_ON_TIME, Attendance.ATTENDED_LATE, Attendance.DID_NOT_ATTEND,
                              Attendance.ARRIVED_LATE_NOT_SEEN),
        error_messages={"required": "Choose what happened at the appointment."})


class WeekForm(forms.Form):
    """The week view's query: which week, whose diary or which room."""

    week = bounds.DateField(window=bounds.CLINICAL, widget=DATE, required=False)
    therapist = forms.IntegerField(required=False, min_value=1, max_value=bounds.INT_MAX, widget=forms.HiddenInput)
    room = forms.CharField(max_length=ROOM_MAX, required=False)
