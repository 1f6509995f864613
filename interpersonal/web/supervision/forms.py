"""Forms of the supervision pages: bounded fields (web/bounds.py), errors in the house style."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from interpersonal.web import bounds
from interpersonal.web.accounts.models import Role
from interpersonal.web.supervision.models import (
    ACTIONS_MAX,
    CASE_MINUTES_MIN,
    MINUTES_MAX,
    MINUTES_MIN,
    SupervisionRelationship,
    SupervisionSession,
)

MAX_CASES = 12
"""Cases one session can name on the form: more than a group of six discusses in a morning."""


def _name(user: Any) -> str:
    return str(user.display_name)


ID_MAX = 2**63 - 1
"""The largest primary key a 64-bit column holds: a larger number is no choice, not a crash."""


class _KnownIds:
    """A model choice field that refuses an id no database column can hold before looking it up
    (SQLite raises OverflowError on such a number instead of finding nothing)."""

    def clean(self, value: Any) -> Any:
        for v in value if isinstance(value, list | tuple) else [value]:
            text = str(v).strip()
            if text.lstrip("-").isdigit() and abs(int(text)) > ID_MAX:
                raise forms.ValidationError(self.error_messages["invalid_choice"],  # type: ignore[attr-defined]
                                            code="invalid_choice", params={"value": text[:20]})
        return super().clean(value)  # type: ignore[misc]


class ChoiceOfOne(_KnownIds, forms.ModelChoiceField):
    """One model chosen by id."""


class ChoiceOfMany(_KnownIds, forms.ModelMultipleChoiceField):
    """Several models chosen by id."""


class LogSessionForm(forms.Form):
    date = bounds.DateField(window=bounds.PAST_CLINICAL, widget=forms.DateInput(attrs={"type": "date"}))
    format = forms.ChoiceField(choices=SupervisionSession.Format.choices, widget=forms.RadioSelect,
                               initial=SupervisionSession.Format.INDIVIDUAL)
    minutes = forms.IntegerField(min_value=MINUTES_MIN, max_value=MINUTES_MAX,
                                 help_text=f"The whole session, {MINUTES_MIN} to {MINUTES_MAX} minutes.")
    supervisees = ChoiceOfMany(
        queryset=get_user_model().objects.none(), widget=forms.CheckboxSelectMultiple,
        help_text="One for individual supervision, two or more for a group.")
    actions_agreed = forms.CharField(
        max_length=ACTIONS_MAX, required=False, widget=forms.Textarea(attrs={"rows": 3}),
        label="Actions about their practice",
        help_text="Not about a named case: write those against the case below, so they stay with its record.")

    def __init__(self, *args: Any, supervisees: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["supervisees"]
        field.queryset = supervisees
        field.label_from_instance = _name


def _session_numbers(value: str) -> list[int]:
    numbers = [int(n) for n in re.findall(r"\d+", value or "")]
    if re.sub(r"[\d,\s]", "", value or ""):
        raise forms.ValidationError("Give session numbers separated by commas, such as 3, 4.")
    if any(n < 1 or n > bounds.SESSIONS_MAX for n in numbers):
        raise forms.ValidationError(f"Session numbers run from 1 to {bounds.SESSIONS_MAX}.")
    return sorted(set(numbers))


class CaseForm(forms.Form):
    course = ChoiceOfOne(queryset=None, required=False, empty_label="—", label="Case")
    minutes = forms.IntegerField(min_value=CASE_MINUTES_MIN, max_value=MINUTES_MAX, required=False,
                                 label="Minutes on this case")
    sessions = forms.CharField(max_length=200, required=False, label="Sessions reviewed",
                               help_text="Session numbers of the course, such as 3, 4.")
    actions_agreed = forms.CharField(max_length=ACTIONS_MAX, required=False, label="Actions agreed for this case",
                                     widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, courses: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["course"]
        field.queryset = courses
        field.label_from_instance = lambda c: f"{c.patient.local_id} · {c.definition.name} · {c.therapist.display_name}"

    def clean_sessions(self) -> list[int]:
        return _session_numbers(self.cleaned_data.get("sessions", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("course") is not None and not data.get("minutes"):
            self.add_error("minutes", "Say how many minutes were spent on this case.")
        if data.get("course") is None and (data.get("minutes") or data.get("sessions") or data.get("actions_agreed")):
            self.add_error("course", "Choose the case these belong to.")
        return data


CaseFormSet = forms.formset_factory(CaseForm, extra=3, max_num=MAX_CASES, validate_max=True, absolute_max=MAX_CASES)


def _supervisors() -> Any:
    return get_user_model().objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("last_name", "first_name")


class AddRelationshipForm(forms.Form):
    supervisor = ChoiceOfOne(queryset=get_user_model().objects.none())
    kind = forms.ChoiceField(choices=SupervisionRelationship.Kind.choices, widget=forms.RadioSelect,
                             initial=SupervisionRelationship.Kind.INDIVIDUAL)
    started = bounds.DateField(window=bounds.CLINICAL, widget=forms.DateInput(attrs={"type": "date"}),
                               label="From", help_text="Within a year of today.")
    cases = ChoiceOfMany(queryset=None, required=False, widget=forms.CheckboxSelectMultiple,
                                           help_text="Accreditation supervision only: the cases the accreditation "
                                                     "is on (case numbers, no names).")

    def __init__(self, *args: Any, supervisee: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from interpersonal.web.courses.models import Course

        self.fields["supervisor"].queryset = _supervisors().exclude(pk=supervisee.pk)
        self.fields["supervisor"].label_from_instance = _name
        # An administrator sees no clinical content: a case is named by its course number only.
        self.fields["cases"].queryset = Course.objects.filter(therapist_id=supervisee.pk).order_by("-started_on", "-pk")
        self.fields["cases"].label_from_instance = lambda c: f"Course {c.pk} (from {c.started_on:%-d %b %Y})"


class EndRelationshipForm(forms.Form):
    ended = bounds.DateField(window=bounds.CLINICAL, widget=forms.DateInput(attrs={"type": "date"}),
                             label="Ends on", help_text="From this day the supervisor no longer reads their cases.")


class HourlyCostForm(forms.Form):
    grade = ChoiceOfOne(queryset=None)
    cost_per_hour = forms.DecimalField(min_value=0, max_value=999_999, decimal_places=2, max_digits=8,
                                       label="Cost of an hour (£)")
    effective_from = bounds.DateField(window=bounds.CLINICAL, widget=forms.DateInput(attrs={"type": "date"}),
                                      label="From")
    source = forms.CharField(max_length=bounds.SHORT_TEXT, required=False,
                             help_text="Where the figure comes from (a pay scale, a unit-cost publication).")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from interpersonal.web.service.models import StaffGrade

        self.fields["grade"].queryset = StaffGrade.objects.order_by("name")
