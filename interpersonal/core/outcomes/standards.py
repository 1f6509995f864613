"""National standards for the rates of an outcomes report, as dated data (``standards.toml``).

    >>> from datetime import date
    >>> from interpersonal.core.outcomes import standards
    >>> standards.current().in_force(date(2025, 3, 31))["reliable_recovery_rate"].target
    0.48

A standard is a target for one rate (``recovery_rate`` ≥ 50%…), in force from a date until a
later one for the same rate replaces it; each carries its label, source, the source's date and
whether the figure was read in that source (``confirmed``). The report judges each rate against
the standard in force on its reference date and writes ``<rate>_target`` and ``<rate>_met``
beside it (service.py). A service replaces the whole list with a TOML file of ``[[standards]]``
entries: ``INTERPERSONAL_OUTCOMES_SETTINGS`` (rules.py) or ``interpersonal report --standards``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from interpersonal.core import measures
from interpersonal.core._definitions import LoadedOnce

from . import rules

__all__ = ["STANDARDS_FILE", "Standard", "Standards", "current", "load", "parse", "reload"]

STANDARDS_FILE = Path(__file__).with_name("standards.toml")
RATES = (
    "recovery_rate", "reliable_recovery_rate", "reliable_improvement_rate", "reliable_deterioration_rate",
    "no_reliable_change_rate", "waited_6_weeks_rate", "waited_18_weeks_rate", "unplanned_ending_rate",
    "attendance_rate", "dna_rate",
)
"""The rates a standard may be set for (the report's rates). Each is met at or above its target."""


@dataclass(frozen=True, slots=True)
class Standard:
    rate: str
    target: float
    label: str
    source: str
    source_date: date | None
    confirmed: bool
    in_force_from: date | None = None
    """None: a standing standard, in force until a dated one replaces it."""

    def met(self, value: float | None) -> bool | None:
        return None if value is None else value >= self.target

    def to_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate, "target": self.target, "label": self.label, "source": self.source,
            "source_date": self.source_date.isoformat() if self.source_date else None, "confirmed": self.confirmed,
            "in_force_from": self.in_force_from.isoformat() if self.in_force_from else None,
        }


@dataclass(frozen=True, slots=True)
class Standards:
    entries: tuple[Standard, ...]

    def in_force(self, on: date) -> dict[str, Standard]:
        """``{rate: standard}`` in force on ``on``: per rate, the latest entry in force by then."""
        found: dict[str, Standard] = {}
        for s in sorted(self.entries, key=lambda s: s.in_force_from or date.min):
            if (s.in_force_from or date.min) <= on:
                found[s.rate] = s
        return found


def _error(source: str, field: str, problem: str) -> measures.DefinitionError:
    return measures.DefinitionError(source, field, problem)


def _date(value: Any, source: str, where: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    raise _error(source, where, f"must be a date (YYYY-MM-DD); got {value!r}")


def parse(entries: Sequence[Mapping[str, Any]], source: str = "standards.toml") -> Standards:
    """Validate ``[[standards]]`` entries."""
    known = {"rate", "target", "label", "source", "source_date", "confirmed", "in_force_from"}
    found: list[Standard] = []
    seen: set[tuple[str, date | None]] = set()
    for i, entry in enumerate(entries):
        where = f"standards[{i}]"
        if not isinstance(entry, Mapping):
            raise _error(source, where, "must be a table")
        if unknown := set(entry) - known:
            raise _error(source, where, f"unknown field(s) {', '.join(sorted(unknown))}")
        rate, target = entry.get("rate"), entry.get("target")
        if rate not in RATES:
            raise _error(source, f"{where}.rate", f"must be one of {', '.join(RATES)}; got {rate!r}")
        if isinstance(target, bool) or not isinstance(target, int | float) or not 0 <= target <= 1:
            raise _error(source, f"{where}.target", f"must be a fraction from 0 to 1; got {target!r}")
        text = {k: entry.get(k) for k in ("label", "source")}
        for k, v in text.items():
            if not isinstance(v, str) or not v.strip():
                raise _error(source, f"{where}.{k}", "is required")
        confirmed = entry.get("confirmed")
        if not isinstance(confirmed, bool):
            raise _error(source, f"{where}.confirmed", "must be true or false")
        start = _date(entry.get("in_force_from"), source, f"{where}.in_force_from")
        if (rate, start) in seen:
            raise _error(source, where, f"a second standard for {rate} in force from {start or 'the start'}")
        seen.add((rate, start))
        found.append(Standard(
            rate=rate, target=float(target), label=str(text["label"]).strip(), source=str(text["source"]).strip(),
            source_date=_date(entry.get("source_date"), source, f"{where}.source_date"), confirmed=confirmed,
            in_force_from=start,
        ))
    return Standards(tuple(found))


def load(path: Path | None = None) -> Standards:
    """The standards of ``path`` (a TOML file of ``[[standards]]``), or the shipped ones."""
    data = rules.read_settings(path or STANDARDS_FILE)
    entries = data.get("standards")
    if not isinstance(entries, list):
        raise _error((path or STANDARDS_FILE).name, "standards", "must be an array of tables ([[standards]])")
    return parse(entries, (path or STANDARDS_FILE).name)


def _load_in_force() -> Standards:
    settings = rules.settings_path()
    if settings is not None and "standards" in rules.read_settings(settings):
        return load(settings)
    return load()


_standards: LoadedOnce[Standards] = LoadedOnce(_load_in_force)


def current() -> Standards:
    """The shipped standards, or the ``[[standards]]`` of INTERPERSONAL_OUTCOMES_SETTINGS."""
    return _standards.get()


def reload() -> None:
    _standards.forget()
