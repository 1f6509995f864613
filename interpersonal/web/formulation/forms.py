"""Formulation forms: they parse; formulation.actions validates and writes."""

from __future__ import annotations

from typing import Any

from django import forms

from interpersonal.web import bounds
from interpersonal.web.formulation.models import MOOD_MAX, MOOD_MIN, MOOD_SCALE_HELP, FocalArea, InventoryPerson

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
SHORT = forms.Textarea(attrs={"rows": 2})
LONG = forms.Textarea(attrs={"rows": 4})


class IpafForm(forms.Form):
    self_representation = forms.CharField(label="(a) Representation of self", max_length=bounds.NOTE, required=False, widget=LONG,
                                          help_text="How the patient experiences themselves in the pattern.")
    other_representation = forms.CharField(label="(b) Representation of the other", max_length=bounds.NOTE, required=False, widget=LONG,
                                           help_text="How the other person is experienced.")
    affect = forms.CharField(label="(c) Affect linking them", max_length=bounds.NOTE, required=False, widget=LONG)
    defensive_function = forms.CharField(label="(d) Defensive function", max_length=bounds.NOTE, required=False, widget=LONG,
                                         help_text="What the pattern protects the patient from.")
    link_to_depression = forms.CharField(label="Link to the depression", max_length=bounds.NOTE, required=False, widget=LONG)
    agreed_with_patient = forms.BooleanField(label="Agreed with the patient", required=False)
    agreed_on = bounds.DateField(window=bounds.PAST_CLINICAL, label="Agreed on", required=False, widget=DATE,
                                help_text="Leave blank for today when ticking “agreed”.")
    based_on = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0, max_value=bounds.INT_MAX)


class PersonForm(forms.Form):
    label = forms.CharField(max_length=60, help_text="The patient's own label; it need not be a name.")
    relationship = forms.CharField(max_length=120, required=False)
    ring = forms.ChoiceField(label="Closeness", choices=InventoryPerson.Ring.choices, initial=InventoryPerson.Ring.MIDDLE,
                             widget=forms.RadioSelect, help_text="Inner: closest; outer: least close.")
    quality = forms.CharField(max_length=300, required=False, widget=SHORT)
    support = forms.CharField(max_length=300, required=False, widget=SHORT)
    conflict = forms.CharField(max_length=300, required=False, widget=SHORT)
    expectations = forms.CharField(max_length=300, required=False, widget=SHORT)
    change_wanted = forms.CharField(label="Change wanted", max_length=300, required=False, widget=SHORT)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0, max_value=bounds.INT_MAX)

    def values(self) -> dict[str, Any]:
        return {f: self.cleaned_data[f] for f in InventoryPerson.FIELDS}


MOOD_CHOICES = [(m, f"{m:+d}" if m else "0") for m in range(MOOD_MAX, MOOD_MIN - 1, -1)]


class EventForm(forms.Form):
    occurred_on = bounds.DateField(window=bounds.LIFE_EVENT, label="Date", widget=DATE)
    event = forms.CharField(max_length=1000, widget=SHORT)
    mood = forms.TypedChoiceField(choices=MOOD_CHOICES, coerce=int, initial=0, help_text=MOOD_SCALE_HELP)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0, max_value=bounds.INT_MAX)

    def values(self) -> dict[str, Any]:
        return {f: self.cleaned_data[f] for f in ("occurred_on", "event", "mood")}


AREA_CHOICES = [("", "None"), *list(FocalArea.Area.choices)]
STAGE_CHOICES = [("", "Not a role dispute"), *list(FocalArea.DisputeStage.choices)]


class IptFormulationForm(forms.Form):
    formulation = forms.CharField(label="Interpersonal formulation", max_length=bounds.LONG_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 6}),
                                  help_text="Links the depression to what is happening in the patient's relationships.")
    area_1 = forms.ChoiceField(label="Focal area 1", choices=AREA_CHOICES, required=False)
    stage_1 = forms.ChoiceField(label="Role dispute stage (area 1)", choices=STAGE_CHOICES, required=False)
    goals_1 = forms.CharField(label="Goals (area 1)", max_length=bounds.NOTE, required=False, widget=LONG)
    area_2 = forms.ChoiceField(label="Focal area 2", choices=AREA_CHOICES, required=False,
                               help_text="IPT works on one focal area, at most two.")
    stage_2 = forms.ChoiceField(label="Role dispute stage (area 2)", choices=STAGE_CHOICES, required=False)
    goals_2 = forms.CharField(label="Goals (area 2)", max_length=bounds.NOTE, required=False, widget=LONG)
    contract_sessions = forms.IntegerField(label="Sessions agreed", required=False, min_value=1, max_value=500)
    contract_start = bounds.DateField(window=bounds.CLINICAL, label="Expected first session", required=False, widget=DATE)
    contract_end = bounds.DateField(window=bounds.CLINICAL, label="Expected last session", required=False, widget=DATE)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0, max_value=bounds.INT_MAX)

    def focal_areas(self) -> list[dict[str, str]]:
        d = self.cleaned_data
        return [{"area": d[f"area_{n}"], "dispute_stage": d[f"stage_{n}"], "goals": d[f"goals_{n}"]}
                for n in (1, 2) if d[f"area_{n}"] or d[f"stage_{n}"] or d[f"goals_{n}"].strip()]

    @staticmethod
    def initial_from(values: dict[str, Any], version: int) -> dict[str, Any]:
        initial = {k: values[k] for k in ("formulation", "contract_sessions", "contract_start", "contract_end")}
        for n, a in enumerate(values["focal_areas"][:2], 1):
            initial |= {f"area_{n}": a["area"], f"stage_{n}": a["dispute_stage"], f"goals_{n}": a["goals"]}
        return initial | {"version": version}
