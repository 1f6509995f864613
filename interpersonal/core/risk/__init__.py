"""The structured risk assessment and the safety plan, as data a service may configure.

    >>> from interpersonal.core import risk
    >>> forms = risk.current()
    >>> forms.assessment.level.id, [c.id for c in forms.assessment.level.choices]
    ('overall_level', ['low', 'medium', 'high'])
    >>> forms.safety_plan.fields[0].label
    'Warning signs'

Two forms, each one definition file in ``definitions/`` (with its sources): the risk
assessment (``risk_assessment.toml``: the headings of NICE NG225's psychosocial assessment and
an overall level the clinician judges) and the safety plan (``safety_plan.toml``: Stanley &
Brown's Safety Planning Intervention, 2012). A service replaces either form's fields, name or
citation with a settings file named by ``INTERPERSONAL_RISK_SETTINGS`` holding a
``[risk_assessment]`` and/or ``[safety_plan]`` table (lists are replaced whole), as it changes
measures and protocols (docs/adr/0010-risk-forms-are-data.md); call :func:`reload` after
changing it.

A record made with a form keeps the :meth:`RiskForm.snapshot` of the fields it was recorded
with, so a later change of configuration never reinterprets it.

Errors::

    ValueError
    └── RiskConfigError   (a definition or a setting that does not validate: file, field, problem)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from interpersonal.core._definitions import LoadedOnce, deep_merge, read_toml

__all__ = [
    "ASSESSMENT",
    "BUILTIN_DIR",
    "KINDS",
    "LABEL_MAX",
    "SAFETY_PLAN",
    "SETTINGS_VARIABLE",
    "TEXT_MAX",
    "Choice",
    "Field",
    "RiskConfigError",
    "RiskForm",
    "RiskForms",
    "answered",
    "current",
    "load",
    "parse",
    "reload",
]

BUILTIN_DIR = Path(__file__).parent / "definitions"
SETTINGS_VARIABLE = "INTERPERSONAL_RISK_SETTINGS"
ASSESSMENT = "risk_assessment"
SAFETY_PLAN = "safety_plan"
KINDS = ("text", "choice")
TEXT_MAX = 5_000
"""The most a text answer may hold (bounds.NOTE: about two typed pages)."""
DEFAULT_TEXT_MAX = 2_000
LABEL_MAX = 200
FIELDS_MAX = 40
_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")


class RiskConfigError(ValueError):
    """A risk form definition or setting that does not validate."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        super().__init__(f"{source}: {field} {problem}")
        self.source, self.field, self.problem = source, field, problem


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Field:
    """One heading of a form: free text (up to ``max_length``) or one of ``choices``."""

    id: str
    label: str
    kind: Literal["text", "choice"] = "text"
    required: bool = False
    max_length: int = DEFAULT_TEXT_MAX
    help: str = ""
    choices: tuple[Choice, ...] = ()

    def choice_label(self, choice_id: str) -> str:
        """The label of ``choice_id`` (the id itself if it is not one of the choices)."""
        return next((c.label for c in self.choices if c.id == choice_id), choice_id)


@dataclass(frozen=True, slots=True)
class RiskForm:
    id: str
    name: str
    citation: str
    fields: tuple[Field, ...]
    level_field: str | None = None

    @property
    def level(self) -> Field:
        """The choice field that states the overall level (the risk assessment's)."""
        found = next((f for f in self.fields if f.id == self.level_field), None)
        if found is None:
            raise LookupError(f"{self.id} has no level field")
        return found

    def snapshot(self) -> list[dict[str, Any]]:
        """The fields as stored beside a record (ids, labels, kinds and choices): JSON."""
        return [{"id": f.id, "label": f.label, "kind": f.kind,
                 **({"choices": [{"id": c.id, "label": c.label} for c in f.choices]} if f.choices else {})}
                for f in self.fields]


@dataclass(frozen=True, slots=True)
class RiskForms:
    assessment: RiskForm
    safety_plan: RiskForm


def _text(data: Mapping[str, Any], key: str, source: str, where: str, *, required: bool = True,
          limit: int = LABEL_MAX) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise RiskConfigError(source, f"{where}{key}", "must be a non-empty string" if required else "must be a string")
    if len(value) > limit:
        raise RiskConfigError(source, f"{where}{key}", f"must be at most {limit} characters")
    return value.strip()


def _field(raw: Any, source: str, n: int) -> Field:
    where = f"fields[{n}]."
    if not isinstance(raw, Mapping):
        raise RiskConfigError(source, f"fields[{n}]", "must be a table")
    unknown = set(raw) - {"id", "label", "kind", "required", "max_length", "help", "choices"}
    if unknown:
        raise RiskConfigError(source, f"{where}{sorted(unknown)[0]}", "is not a field setting")
    field_id = raw.get("id")
    if not isinstance(field_id, str) or not _ID.fullmatch(field_id):
        raise RiskConfigError(source, f"{where}id", "must be lower-case letters, digits and _ (at most 40)")
    label = _text(raw, "label", source, where)
    kind = raw.get("kind", "text")
    if kind not in KINDS:
        raise RiskConfigError(source, f"{where}kind", f"must be one of {', '.join(KINDS)}")
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise RiskConfigError(source, f"{where}required", "must be true or false")
    max_length = raw.get("max_length", DEFAULT_TEXT_MAX)
    if isinstance(max_length, bool) or not isinstance(max_length, int) or not 1 <= max_length <= TEXT_MAX:
        raise RiskConfigError(source, f"{where}max_length", f"must be a whole number from 1 to {TEXT_MAX}")
    choices: list[Choice] = []
    raw_choices = raw.get("choices", [])
    if kind == "choice":
        if not isinstance(raw_choices, list) or len(raw_choices) < 2:
            raise RiskConfigError(source, f"{where}choices", "must list at least two choices")
        for i, c in enumerate(raw_choices):
            if not isinstance(c, Mapping) or not isinstance(c.get("id"), str) or not _ID.fullmatch(c["id"]):
                raise RiskConfigError(source, f"{where}choices[{i}].id",
                                      "must be lower-case letters, digits and _ (at most 40)")
            choices.append(Choice(c["id"], _text(c, "label", source, f"{where}choices[{i}].")))
        if len({c.id for c in choices}) != len(choices):
            raise RiskConfigError(source, f"{where}choices", "repeat an id")
    elif raw_choices:
        raise RiskConfigError(source, f"{where}choices", "are only for a choice field")
    return Field(field_id, label, kind, required, max_length,
                 _text(raw, "help", source, where, required=False, limit=TEXT_MAX), tuple(choices))


def parse(data: Mapping[str, Any], source: str, *, expected_id: str) -> RiskForm:
    """One form from its definition (``data``), validated; ``source`` names it in errors."""
    if data.get("id") != expected_id:
        raise RiskConfigError(source, "id", f"must be {expected_id!r}")
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise RiskConfigError(source, "fields", "must list at least one field")
    if len(raw_fields) > FIELDS_MAX:
        raise RiskConfigError(source, "fields", f"must list at most {FIELDS_MAX} fields")
    fields = tuple(_field(f, source, n) for n, f in enumerate(raw_fields))
    ids = [f.id for f in fields]
    if repeated := sorted({i for i in ids if ids.count(i) > 1}):
        raise RiskConfigError(source, "fields", f"repeat the id {repeated[0]!r}")
    level_field = data.get("level_field")
    if expected_id == ASSESSMENT:
        level = next((f for f in fields if f.id == level_field), None)
        if level is None or level.kind != "choice" or not level.required:
            raise RiskConfigError(source, "level_field", "must name a required choice field (the overall level)")
    elif level_field is not None:
        raise RiskConfigError(source, "level_field", "is only for the risk assessment")
    return RiskForm(expected_id, _text(data, "name", source, ""), _text(data, "citation", source, "", limit=TEXT_MAX),
                    fields, level_field)


def load(settings: Path | None = None) -> RiskForms:
    """The built-in forms, with the tables of ``settings`` merged over them."""
    override: dict[str, Any] = {}
    if settings is not None:
        override = read_toml(settings, RiskConfigError)
        if unknown := sorted(set(override) - {ASSESSMENT, SAFETY_PLAN}):
            raise RiskConfigError(settings.name, unknown[0], f"is not a risk form ({ASSESSMENT} or {SAFETY_PLAN})")
    forms = []
    for form_id in (ASSESSMENT, SAFETY_PLAN):
        path = BUILTIN_DIR / f"{form_id}.toml"
        data, source = read_toml(path, RiskConfigError), path.name
        table = override.get(form_id)
        if table is not None:
            if not isinstance(table, Mapping):
                raise RiskConfigError(settings.name if settings else "", form_id, "must be a table")
            if "id" in table:
                raise RiskConfigError(settings.name if settings else "", f"{form_id}.id", "may not be changed")
            data, source = deep_merge(data, table), f"{source} + {settings.name if settings else ''}"
        forms.append(parse(data, source, expected_id=form_id))
    return RiskForms(*forms)


def settings_path() -> Path | None:
    value = os.environ.get(SETTINGS_VARIABLE, "").strip()
    return Path(value) if value else None


_forms: LoadedOnce[RiskForms] = LoadedOnce(lambda: load(settings_path()))


def current() -> RiskForms:
    """The forms in force (the definitions with INTERPERSONAL_RISK_SETTINGS), loaded once."""
    return _forms.get()


def reload() -> None:
    """Forget the loaded forms (after changing the settings file)."""
    _forms.forget()


def answered(fields: Sequence[Mapping[str, Any]], values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, answer) for each stored field snapshot, in its order: a choice shown by its label
    as it was when recorded; an empty answer as ""."""
    out = []
    for f in fields:
        value = values.get(f.get("id", ""), "")
        if f.get("kind") == "choice":
            value = next((c.get("label", "") for c in f.get("choices", []) if c.get("id") == value), value)
        out.append((str(f.get("label", "")), str(value or "")))
    return out
