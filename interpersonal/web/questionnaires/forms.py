"""Forms for questionnaire links: the patient's answers, and the clinician's send form.

Answer fields accept only the item's own option values, so a tampered value is refused
here (400) before any action runs; an empty answer is a skip, allowed until submitting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from interpersonal.core import measures
from interpersonal.web.courses.models import TherapySession


def answer_field(item: measures.Item, *, label: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, choices=[(o.value, o.label or str(o.value)) for o in item.options], coerce=int,
        empty_value=None, required=False, widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose one of the answers shown."},
    )


class QuestionForm(forms.Form):
    """One question on its own screen."""

    def __init__(self, item: measures.Item, data: Mapping[str, Any] | None = None, *, saved: int | None = None) -> None:
        super().__init__(data, initial={"answer": saved})
        self.item = item
        self.fields["answer"] = answer_field(item, label=item.text or f"Question {item.id}")

    @property
    def answer(self) -> int | None:
        return self.cleaned_data.get("answer")


def field_name(instrument_id: str, item_id: str) -> str:
    return f"{instrument_id}-{item_id}"


class AllQuestionsForm(forms.Form):
    """Every question of the link on one page; unanswered ones are left for later."""

    def __init__(self, instruments: Sequence[measures.Instrument], data: Mapping[str, Any] | None = None, *,
                 draft: Mapping[str, Mapping[str, int]] | None = None) -> None:
        draft = draft or {}
        initial = {field_name(i.id, it.id): draft.get(i.id, {}).get(it.id) for i in instruments for it in i.items}
        super().__init__(data, initial=initial)
        self.instruments = instruments
        for inst in instruments:
            for item in inst.items:
                self.fields[field_name(inst.id, item.id)] = answer_field(item, label=item.text or f"Question {item.id}")

    def sections(self) -> list[tuple[measures.Instrument, list[forms.BoundField]]]:
        return [(i, [self[field_name(i.id, it.id)] for it in i.items]) for i in self.instruments]

    def answers(self) -> dict[str, dict[str, int]]:
        """The answers given, by measure (unanswered questions are left out, not cleared)."""
        out: dict[str, dict[str, int]] = {}
        for inst in self.instruments:
            given = {it.id: self.cleaned_data[field_name(inst.id, it.id)] for it in inst.items}
            out[inst.id] = {k: v for k, v in given.items() if v is not None}
        return out


COPY = "copy"


class SendForm(forms.Form):
    """What to send, for which session, for how long, and how the patient gets it. A channel
    that does not reach the patient (``unavailable``: channel → reason) is refused here too, not
    only shown disabled."""

    channel = forms.ChoiceField(
        label="How the patient gets the link", widget=forms.RadioSelect,
        choices=[("email", "E-mail"), ("sms", "Text message"), (COPY, "Copy the link and send it yourself")],
        required=False, help_text="Left out, the link is shown to copy (as before this choice existed).",
    )
    instruments = forms.MultipleChoiceField(
        label="Questionnaires", widget=forms.CheckboxSelectMultiple,
        help_text="Only self-report questionnaires whose licence lets us show the questions can be sent by link.",
        error_messages={"required": "Choose at least one questionnaire."},
    )
    session = forms.ModelChoiceField(
        queryset=TherapySession.objects.none(), required=False,
        empty_label="The next booked session",
        label="For session", help_text="The answers are recorded against this session (with none booked, against the "
                                       "next one). One open link per session.",
    )
    valid_days = forms.IntegerField(
        label="The link works for (days)", min_value=1, max_value=31,
        help_text="Between 1 and 31 days. After that the patient sees a page asking them to contact you.",
    )

    def __init__(self, data: Mapping[str, Any] | None = None, *, choices: Iterable[measures.Instrument],
                 sessions: Any, default: Sequence[str], unavailable: Mapping[str, str] | None = None) -> None:
        self.unavailable = dict(unavailable or {})
        first = next((c for c in ("email", "sms") if c not in self.unavailable), COPY)
        super().__init__(data, initial={"instruments": list(default), "channel": first,
                                        "valid_days": settings.INTERPERSONAL_LINK_VALID_DAYS})
        self.fields["instruments"].choices = [(i.id, f"{i.abbreviation}: {i.name}") for i in choices]
        self.fields["session"].queryset = sessions
        self.fields["session"].label_from_instance = lambda s: f"{timezone.localtime(s.scheduled_at):%a %d %b %Y, %H:%M}"

    def clean_channel(self) -> str:
        channel: str = self.cleaned_data["channel"] or COPY
        if channel in self.unavailable:
            raise forms.ValidationError(self.unavailable[channel] + ".")
        return channel

    def channel_options(self) -> list[dict[str, Any]]:
        """The channel radios with, for each, whether it can be chosen and why not."""
        chosen = self["channel"].value()
        return [{"value": value, "label": label, "id": f"id_channel_{n}", "checked": value == chosen,
                 "reason": self.unavailable.get(value, "")}
                for n, (value, label) in enumerate(self.fields["channel"].choices)]


class ResendForm(forms.Form):
    """Send an open link again, by e-mail or text message."""

    channel = forms.ChoiceField(choices=[("email", "E-mail"), ("sms", "Text message")])
