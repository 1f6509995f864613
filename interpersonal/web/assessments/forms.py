"""A scoring form built from an :class:`~interpersonal.core.measures.Instrument`.

One optional radio group per item (missing items exercise the missing-item rule); an
item rated in more than one way (HRSD-17 item 16) also asks which variant was used.
Where the licence forbids item text, fields carry item numbers and values only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

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


NOT_SCORED = ' <span class="badge">not scored</span>'
_ROWS_CACHE: dict[int, tuple[measures.Instrument, tuple[ItemRow, ...]]] = {}
_HTML_CACHE: dict[tuple[int, str | None, Any], tuple[measures.Instrument, SafeString]] = {}


def item_rows(instrument: measures.Instrument) -> tuple[ItemRow, ...]:
    """What may be shown of each item: text and labels only where the licence allows.

    Instruments are immutable: the rows are worked out once per instrument object."""
    cached = _ROWS_CACHE.get(id(instrument))
    if cached is not None and cached[0] is instrument:
        return cached[1]
    rows = _item_rows(instrument)
    _ROWS_CACHE[id(instrument)] = (instrument, rows)
    return rows


def _item_rows(instrument: measures.Instrument) -> tuple[ItemRow, ...]:
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


def _radios(field: forms.BoundField) -> str:
    """A RadioSelect's options as Django renders them (input.html + attrs.html), each
    wrapped in its label as ``_score_fields.html`` did."""
    esc = conditional_escape
    name = esc(field.html_name)
    auto_id = field.auto_id
    value = field.value()
    selected = "" if value is None else str(value)
    extra = ' aria-invalid="true"' if field.errors else ""
    out = []
    found = False
    for index, (choice_value, label) in enumerate(field.field.choices):
        checked = ""
        if not found and str(choice_value) == selected:
            checked, found = " checked", True
        choice_value = esc(str(choice_value))
        if auto_id:
            option_id = esc(f"{auto_id}_{index}")
            out.append(f'<label class="choice" for="{option_id}"><input type="radio" name="{name}" '
                       f'value="{choice_value}" id="{option_id}"{extra}{checked}> <span>{esc(label)}</span></label>')
        else:
            out.append(f'<label class="choice" for=""><input type="radio" name="{name}" '
                       f'value="{choice_value}"{extra}{checked}> <span>{esc(label)}</span></label>')
    return "".join(out)


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

    def fields_html(self) -> SafeString:
        """The item fieldsets (what ``assessments/_score_fields.html`` used to render with
        one widget template per radio button), built in Python. The markup is Django's
        RadioSelect markup; an unbound form's is the same every time, so it is kept per
        instrument, prefix and auto_id."""
        if self.is_bound:
            return self._fields_html()
        key = (id(self.instrument), self.prefix, self.auto_id)
        cached = _HTML_CACHE.get(key)
        if cached is not None and cached[0] is self.instrument:
            return cached[1]
        html = self._fields_html()
        _HTML_CACHE[key] = (self.instrument, html)
        return html

    def _fields_html(self) -> SafeString:
        esc = conditional_escape
        prefix = f"{esc(self.prefix)}-" if self.prefix else ""
        parts = ["  "]
        for row, field, variant_field in self.fieldsets():
            errors = "".join(f'<p class="field-error">{esc(e)}</p>' for e in field.errors)
            error_class = " item--error" if field.errors or (variant_field is not None and variant_field.errors) else ""
            parts.append(
                f'\n  <fieldset class="item{error_class}" id="fieldset-{prefix}{esc(row.number)}">\n'
                f'    <legend><span class="item__number">Item {esc(row.number)}</span>'
                f'{f" {esc(row.text)}" if row.text else ""}'
                f"{'' if row.item.scored else NOT_SCORED}</legend>\n"
                f"    {errors}\n    "
            )
            if variant_field is not None:
                variant_errors = "".join(f'<p class="field-error">{esc(e)}</p>' for e in variant_field.errors)
                parts.append(
                    '\n    <fieldset class="variant">\n      <legend>Rated</legend>\n'
                    f'      {variant_errors}\n      <div class="choices choices--inline">\n'
                    f"      {_radios(variant_field)}\n      </div>\n    </fieldset>\n    "
                )
            parts.append(f'\n    <div class="choices">\n    {_radios(field)}\n    </div>\n  </fieldset>\n  ')
        return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped

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


class RiskAssessmentForm(forms.Form):
    """The risk assessment and safety plan, one field per configured heading (core.risk):
    ``a_<id>`` for the assessment's, ``p_<id>`` for the safety plan's. Bounded by each field's
    own ``max_length`` (core.risk.TEXT_MAX at most) and by a review date within a year."""

    reviews = forms.IntegerField(min_value=0, max_value=2**31 - 1, required=False, widget=forms.HiddenInput)
    alert = forms.IntegerField(min_value=0, max_value=2**31 - 1, required=False, widget=forms.HiddenInput)

    def __init__(self, data: Any = None, *, config: Any = None, **kwargs: Any) -> None:
        from interpersonal.core import risk
        from interpersonal.web import bounds

        super().__init__(data, **kwargs)
        self.config = config or risk.current()
        for prefix, form in (("a_", self.config.assessment), ("p_", self.config.safety_plan)):
            for f in form.fields:
                name = prefix + f.id
                if f.kind == "choice":
                    self.fields[name] = forms.ChoiceField(
                        label=f.label, required=f.required, help_text=f.help, widget=forms.RadioSelect,
                        choices=[(c.id, c.label) for c in f.choices])
                else:
                    rows = 4 if f.max_length > 1000 else 2
                    self.fields[name] = forms.CharField(
                        label=f.label, required=f.required, help_text=f.help, max_length=f.max_length,
                        widget=forms.Textarea(attrs={"rows": rows}))
        self.fields["review_due"] = bounds.DateField(window=bounds.CLINICAL, label="Review by")
        self.order_fields(["reviews", "alert"])

    def assessment_fields(self) -> list[Any]:
        return [self[n] for n in self.fields if n.startswith("a_")]

    def safety_plan_fields(self) -> list[Any]:
        return [self[n] for n in self.fields if n.startswith("p_")]

    def answers(self, prefix: str) -> dict[str, str]:
        return {n[len(prefix):]: v or "" for n, v in self.cleaned_data.items() if n.startswith(prefix)}
