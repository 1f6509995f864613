"""The dashboard's filters: a GET form that parses; the core applies them."""

from __future__ import annotations

from typing import Any

from django import forms

from interpersonal.web import bounds
from interpersonal.web.courses.forms import DATE, protocol_choices

ANY = [("", "All")]


class FilterForm(forms.Form):
    since = bounds.DateField(window=bounds.CLINICAL, widget=DATE, required=False, label="From")
    until = bounds.DateField(window=bounds.CLINICAL, widget=DATE, required=False, label="To")
    provider = forms.ChoiceField(required=False)
    therapy = forms.ChoiceField(required=False)
    therapist = forms.ChoiceField(required=False, help_text="Pseudonymous staff id, e.g. T12.")

    def __init__(self, *args: Any, providers: list[str], therapists: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = ANY + [(p, p) for p in providers]
        self.fields["therapy"].choices = ANY + protocol_choices()
        self.fields["therapist"].choices = ANY + [(t, t) for t in therapists]

    def filters(self) -> dict[str, Any]:
        """The keyword arguments of ``service.report``/``service.funnel``; empty when invalid."""
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
