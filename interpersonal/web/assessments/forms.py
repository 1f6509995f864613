"""A scoring form built from an :class:`~interpersonal.core.measures.Instrument`.

One optional radio group per item (missing items exercise the missing-item rule); an
item rated in more than one way (HRSD-17 item 16) also asks which variant was used.
Where the licence forbids item text, fields carry item numbers and values only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms

from interpersonal.core import measures


def answer_field_name(item: measures.Item) -> str:
    return f"item_{item.id}"


def variant_field_name(item: measures.Item) -> str:
    return f"item_{item.id}_variant"


@dataclass(frozen=True, slots=True)
class OptionRow:
    """One answer value and what it means: its label, or each variant's label."""

    value: int
    label: str | None
    variant_labels: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True, slots=True)
class ItemRow:
    item: measures.Item
    number: str
    text: str | None
    options: tuple[OptionRow, ...]
    variants: tuple[tuple[str, str], ...]


def item_rows(instrument: measures.Instrument) -> tuple[ItemRow, ...]:
    """What may be shown of each item: text and labels only where the licence allows."""
    show_text = instrument.licence.item_text
    rows = []
    for item in instrument.items:
        options = []
        for option in item.options:
            variant_labels = tuple(
                (variant.id, _label_for(variant.options, option.value) if show_text else None)
                for variant in item.variants
            )
            options.append(OptionRow(option.value, option.label if show_text else None, variant_labels))
        variants = tuple((v.id, v.name if show_text else f"Variant {v.id}") for v in item.variants)
        rows.append(ItemRow(item, item.id, item.text if show_text else None, tuple(options), variants))
    return tuple(rows)


def _label_for(options: tuple[measures.Option, ...], value: int) -> str | None:
    return next((o.label for o in options if o.value == value), None)


def _choice_label(row: OptionRow) -> str:
    parts = [str(row.value)]
    if row.label:
        parts.append(row.label)
    parts.extend(f"{variant}: {label}" for variant, label in row.variant_labels if label)
    return " — ".join(parts)


class ScoreForm(forms.Form):
    """Bound to POST data, ``is_valid()`` scores the answers with the core engine;
    the result is in :attr:`score`. Tampered values are field errors."""

    def __init__(self, instrument: measures.Instrument, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        self.rows = item_rows(instrument)
        self.score: measures.Score | None = None
        for row in self.rows:
            label = f"Item {row.number}" + (f": {row.text}" if row.text else "")
            self.fields[answer_field_name(row.item)] = forms.TypedChoiceField(
                label=label,
                choices=[(str(o.value), _choice_label(o)) for o in row.options],
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )
            if row.variants:
                self.fields[variant_field_name(row.item)] = forms.ChoiceField(
                    label=f"Item {row.number}: rated",
                    choices=list(row.variants),
                    required=False,
                    widget=forms.RadioSelect,
                )

    def fieldsets(self) -> list[tuple[ItemRow, forms.BoundField, forms.BoundField | None]]:
        """Each item with its answer field and (if rated in variants) its variant field."""
        return [
            (
                row,
                self[answer_field_name(row.item)],
                self[variant_field_name(row.item)] if row.variants else None,
            )
            for row in self.rows
        ]

    def answers(self) -> dict[str, int | None]:
        return {item.id: self.cleaned_data.get(answer_field_name(item)) for item in self.instrument.items}

    def variants(self) -> dict[str, str]:
        """The variant used for each item rated in variants and answered."""
        return {
            item.id: self.cleaned_data[variant_field_name(item)]
            for item in self.instrument.items
            if item.variants and self.cleaned_data.get(variant_field_name(item))
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        for item in self.instrument.items:
            if (
                item.variants
                and cleaned.get(answer_field_name(item)) is not None
                and not cleaned.get(variant_field_name(item))
            ):
                self.add_error(variant_field_name(item), f"Item {item.id} is answered: say which way it was rated.")
        if self.errors:
            return cleaned
        try:
            self.score = measures.score(self.instrument.id, self.answers())
        except measures.InvalidAnswers as exc:
            raise forms.ValidationError(f"Item {exc.item}: {exc.problem}", code="invalid_answers") from exc
        return cleaned
