"""The dashboard's filters: a GET form that parses; the aggregates apply them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from interpersonal.web import bounds
from interpersonal.web.courses.forms import DATE, protocol_choices

ANY = [("", "All")]


class LongSelect(forms.Select):
    """A ``<select>`` rendered in one pass rather than one template per option: a service of 2,500
    therapists gives the lead 2,500 options, which Django's option templates took 0.3 s to render
    (bench/dashboard.py). Flat choices only; the same markup and attributes as ``forms.Select``."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None,
               renderer: Any = None) -> SafeString:
        chosen = "" if value is None else str(value)
        options = format_html_join("", "<option value=\"{}\"{}>{}</option>", (
            (key, " selected" if str(key) == chosen else "", label) for key, label in self.choices))
        return format_html("<select{}>{}</select>", flatatt(self.build_attrs(self.attrs, {**(attrs or {}), "name": name})),
                           options)


class FilterForm(forms.Form):
    since = bounds.DateField(window=bounds.CLINICAL, widget=DATE, required=False, label="From")
    until = bounds.DateField(window=bounds.CLINICAL, widget=DATE, required=False, label="To")
    provider = forms.ChoiceField(required=False)
    therapy = forms.ChoiceField(required=False)
    therapist = forms.ChoiceField(required=False, widget=LongSelect)

    def __init__(self, *args: Any, providers: list[str], therapists: list[str] | list[tuple[str, str]],
                 named: bool = False, **kwargs: Any) -> None:
        """``therapists``: pseudonymous ids ("T12"), or (id, label) pairs naming them for the lead."""
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = ANY + [(p, p) for p in providers]
        self.fields["therapy"].choices = ANY + protocol_choices()
        self.fields["therapist"].choices = ANY + [(t, t) if isinstance(t, str) else t for t in therapists]
        self.fields["therapist"].help_text = "By name." if named else "Pseudonymous staff id, e.g. T12."

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end of the period is before its start.")
        return data

    def filters(self) -> dict[str, Any]:
        """The keyword arguments of ``aggregates.report``/``aggregates.funnel``; empty when invalid."""
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
