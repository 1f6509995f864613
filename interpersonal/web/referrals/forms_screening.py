"""Screening and triage forms: they parse; referrals.screening validates and writes.

Every field keeps its bound (interpersonal/web/bounds.py, docs/bounds.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from interpersonal.core import pathways
from interpersonal.core.codes import Attendance, Medium
from interpersonal.web import bounds
from interpersonal.web.referrals.models_screening import Decision, PreferenceOption, SuitabilityRule
from interpersonal.web.referrals.screening import therapy_choices

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
YES_NO = [("yes", "Yes"), ("no", "No")]


def _yes_no(label: str, help_text: str = "") -> forms.TypedChoiceField:
    """A required yes/no asked as two radio buttons, never pre-selected."""
    return forms.TypedChoiceField(label=label, choices=YES_NO, coerce=lambda v: v == "yes", widget=forms.RadioSelect,
                                  help_text=help_text, error_messages={"required": "Answer yes or no."})


class VersionField(forms.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(widget=forms.HiddenInput, min_value=0, max_value=bounds.INT_MAX, **kwargs)


class ContactForm(forms.Form):
    """A screening or assessment contact that has happened (never treatment)."""

    date = bounds.DateField(window=bounds.PAST_CLINICAL, widget=DATE)
    time = forms.TimeField(widget=TIME)
    attendance = forms.TypedChoiceField(
        choices=[("", "Choose…")] + [(str(a.value), f"{a.value} · {a.label}") for a in Attendance], coerce=int,
        help_text="NHS Talking Therapies attendance code.", error_messages={"required": "Choose the attendance code."},
    )
    duration_minutes = forms.IntegerField(label="Duration (minutes)", required=False,
                                          min_value=bounds.SESSION_MINUTES[0], max_value=bounds.SESSION_MINUTES[1])
    medium = forms.ChoiceField(choices=[(m.value, m.label) for m in Medium], initial=Medium.TELEPHONE.value)
    notes = forms.CharField(max_length=bounds.NOTE, required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def scheduled_at(self) -> dt.datetime:
        naive = dt.datetime.combine(self.cleaned_data["date"], self.cleaned_data["time"])
        return timezone.make_aware(naive, timezone.get_current_timezone())


class DecisionForm(forms.Form):
    """The clinician's answers to the questions only they can answer, then their decision. The
    "check" button evaluates the rules with these answers and saves nothing."""

    clinician_risk = _yes_no(
        "Is the suicide risk significant or imminent?",
        "Your judgement after asking about risk (PHQ-9 item 9 is a screening question, not a risk assessment).",
    )
    under_secondary_care = _yes_no("Is the patient already under secondary mental health care?")
    problem_descriptor = forms.CharField(
        label="Problem descriptor (ICD-10)", max_length=8, required=False,
        help_text="The provisional diagnosis, e.g. F32 (depressive episode), F41.1 (generalised anxiety disorder).",
    )
    decision = forms.ChoiceField(label="Decision", choices=Decision.choices, widget=forms.RadioSelect,
                                 help_text="The rules suggest; you decide. Every decision but “suitable” discharges "
                                           "the referral with its NHS end reason.",
                                 error_messages={"required": "Choose the decision."})
    reason = forms.CharField(label="Reason", max_length=bounds.NOTE, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": "Give the reason for the decision."})
    version = VersionField()

    def __init__(self, *args: Any, checking: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.checking = checking

    def full_clean(self) -> None:
        """Checking against the rules needs only the judgement: the decision and reason wait."""
        super().full_clean()
        if self.checking and self._errors is not None:
            for name in ("decision", "reason"):
                self._errors.pop(name, None)


def therapy_select_choices() -> list[tuple[str, Any]]:
    """The therapies grouped by step (an <optgroup> each)."""
    return [("", "Choose…")] + [
        (f"Step {step}", [(p.id, p.name) for p in therapy_choices(step)]) for step in (2, 3) if therapy_choices(step)
    ]


class TriageForm(forms.Form):
    step = forms.TypedChoiceField(
        choices=[("2", "Step 2: low intensity"), ("3", "Step 3: high intensity")], coerce=int, widget=forms.RadioSelect,
        error_messages={"required": "Choose the step."},
    )
    therapy = forms.ChoiceField(error_messages={"required": "Choose a therapy."},
                                help_text="A therapy of the chosen step.")
    reason = forms.CharField(label="Reason for this step and therapy", max_length=bounds.NOTE,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": "Give the reason for the triage."})
    preferred_therapy = forms.ChoiceField(label="The patient's preference",
                                          error_messages={"required": "Choose the patient's preference."})
    preference = forms.CharField(label="The patient's preference in their words", max_length=bounds.NOTE,
                                 required=False, widget=forms.Textarea(attrs={"rows": 2}))
    therapist = forms.TypedChoiceField(label="Allocate to", coerce=int, empty_value=None, required=False,
                                       help_text="Leave as it is to keep the current allocation.")
    version = VersionField()

    def __init__(self, *args: Any, clinicians: list[tuple[int, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["therapy"].choices = therapy_select_choices()
        self.fields["preferred_therapy"].choices = [("", "Choose…"), (PreferenceOption.NO_PREFERENCE,
                                                                       PreferenceOption.LABEL)] + [
            (p.id, p.name) for p in therapy_choices()]
        self.fields["therapist"].choices = [("", "Keep the current allocation")] + [(str(pk), n) for pk, n in clinicians]


class SendScreeningForm(forms.Form):
    instruments = forms.MultipleChoiceField(
        label="Questionnaires", widget=forms.CheckboxSelectMultiple,
        help_text="Only self-report questionnaires whose licence lets us show the questions can be sent by link.",
        error_messages={"required": "Choose at least one questionnaire."},
    )
    valid_days = forms.IntegerField(
        label="The link works for (days)", min_value=1, max_value=31,
        help_text="Between 1 and 31 days. After that the patient sees a page asking them to contact you.",
    )


class AcknowledgeForm(forms.Form):
    note = forms.CharField(label="What was done", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


# --- the service's rules ----------------------------------------------------------------------

class RuleForm(forms.Form):
    """A suitability rule; the parameter fields used depend on its kind (the others are ignored)."""

    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(label="What the rule looks at", choices=[(k.value, k.label) for k in pathways.RuleKind])
    outcome = forms.ChoiceField(label="What it suggests when it applies",
                                choices=[(o.value, o.label) for o in pathways.Outcome])
    years = forms.IntegerField(label="Minimum age: years", required=False, min_value=0, max_value=30,
                               help_text="Minimum age rules only.")
    months = forms.IntegerField(label="Minimum age: and months", required=False, min_value=0, max_value=11,
                                help_text="Minimum age rules only: 17 years and 9 months is 17 and 9.")
    phq9_item9_at_least = forms.TypedChoiceField(
        label="Risk: PHQ-9 item 9 at or above", required=False, coerce=int, empty_value=None,
        choices=[("", "Not used"), ("1", "1 (several days)"), ("2", "2 (more than half the days)"),
                 ("3", "3 (nearly every day)")], help_text="Risk rules only.",
    )
    clinician_judgement = forms.BooleanField(
        label="Risk: the screening clinician judges the risk significant or imminent", required=False,
        help_text="Risk rules only.",
    )
    codes = forms.CharField(label="Problem descriptors (ICD-10)", max_length=bounds.SHORT_TEXT * 2, required=False,
                            help_text="Problem descriptor rules only: codes or ranges separated by commas, "
                                      "e.g. F20-F29, F31, F43.1.")
    message = forms.CharField(label="Message to the screening clinician", max_length=bounds.NOTE,
                              widget=forms.Textarea(attrs={"rows": 2}))
    description = forms.CharField(label="Why the service has this rule", max_length=bounds.NOTE, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    source = forms.CharField(label="Source", max_length=500, required=False)
    confirmed = forms.BooleanField(label="Confirmed as this service's policy", required=False,
                                   help_text="Until then the rule is shown as an unconfirmed default [U].")
    active = forms.BooleanField(label="Active (checked at screening)", required=False)
    position = forms.IntegerField(label="Order", min_value=0, max_value=32_767,
                                  help_text="Rules are checked and listed from the lowest number.")
    version = VersionField(required=False)

    @classmethod
    def initial_for(cls, rule: SuitabilityRule) -> dict[str, Any]:
        params = rule.params or {}
        return {
            "name": rule.name, "kind": rule.kind, "outcome": rule.outcome, "message": rule.message,
            "description": rule.description, "source": rule.source, "confirmed": rule.confirmed,
            "active": rule.active, "position": rule.position, "version": rule.version,
            "years": params.get("years"), "months": params.get("months"),
            "phq9_item9_at_least": params.get("phq9_item9_at_least"),
            "clinician_judgement": params.get("clinician_judgement", False),
            "codes": ", ".join(params.get("codes", [])),
        }

    def params(self) -> dict[str, Any]:
        """The parameters of the chosen kind, as referrals.screening.save_rule takes them."""
        data = self.cleaned_data
        kind = data.get("kind")
        if kind == pathways.RuleKind.MIN_AGE:
            return {"years": data.get("years"), "months": data.get("months") or 0}
        if kind == pathways.RuleKind.RISK:
            return {"phq9_item9_at_least": data.get("phq9_item9_at_least"),
                    "clinician_judgement": bool(data.get("clinician_judgement"))}
        if kind == pathways.RuleKind.PROBLEM_DESCRIPTOR:
            return {"codes": [c.strip() for c in (data.get("codes") or "").split(",") if c.strip()]}
        return {}

    def rule_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"name": data["name"], "kind": data["kind"], "outcome": data["outcome"], "params": self.params(),
                "message": data["message"], "description": data["description"], "source": data["source"],
                "confirmed": data["confirmed"], "active": data["active"], "position": data["position"]}
