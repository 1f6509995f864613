"""Immutable, typed values of the measures library.

An :class:`Instrument` is built from one definition file by :mod:`._loader`, which
validates it; the constructors here check only what a value must hold on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal

Number = int | float


class Respondent(StrEnum):
    PATIENT = "patient"
    CLINICIAN = "clinician"


class Direction(StrEnum):
    """Which way a higher total points. Every shipped instrument is higher-is-worse."""

    HIGHER_IS_WORSE = "higher_is_worse"
    HIGHER_IS_BETTER = "higher_is_better"


@dataclass(frozen=True, slots=True)
class Sourced:
    """Where a value comes from, and whether that source has been confirmed.

    ``confirmed=False`` marks a value whose source could not be confirmed: it is a
    service-configurable setting (see docs/measures.md), flagged as such in the UI.
    """

    source: str
    confirmed: bool


@dataclass(frozen=True, slots=True)
class Option:
    value: int
    label: str | None = None
    loinc: str | None = None


@dataclass(frozen=True, slots=True)
class ItemVariant:
    """An alternative way of rating one item (HRSD-17 item 16: A by history, B by weight)."""

    id: str
    name: str
    options: tuple[Option, ...]


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    text: str | None
    options: tuple[Option, ...]
    scored: bool = True
    reverse: bool = False
    loinc: str | None = None
    variants: tuple[ItemVariant, ...] = ()
    note: str | None = None

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(o.value for o in self.options)

    @property
    def min(self) -> int:
        return min(self.values)

    @property
    def max(self) -> int:
        return max(self.values)

    def keyed(self, value: int) -> int:
        """The value as it counts towards the total (reverse-keyed items flipped)."""
        return self.min + self.max - value if self.reverse else value


@dataclass(frozen=True, slots=True)
class Group:
    """Items that count once, by their maximum (QIDS-SR16 sleep, appetite/weight, psychomotor)."""

    id: str
    name: str
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Scoring:
    """How components (single scored items, and groups) become a total.

    ``sum``: the sum of components. ``mean``: the mean of the components times
    ``multiplier`` (for instruments scored as mean × k).
    """

    method: Literal["sum", "mean"]
    groups: tuple[Group, ...] = ()
    multiplier: float = 1.0
    decimals: int = 0
    score_range: tuple[Number, Number] = (0, 0)


@dataclass(frozen=True, slots=True)
class MissingRule:
    """What to do with unanswered components.

    ``none``: every component must be answered. ``prorate``: up to ``max_missing``
    components may be missing; the total is the answered components scaled to the full
    count (the mean of answered items substituted for each missing one), then rounded
    by ``rounding`` (``half_up`` to ``Scoring.decimals`` places, or ``none``).
    """

    rule: Literal["none", "prorate"]
    max_missing: int
    rounding: Literal["half_up", "none"]
    sourced: Sourced
    rounding_confirmed: bool = True


@dataclass(frozen=True, slots=True)
class Band:
    """A severity band; both edges inclusive."""

    min: Number
    max: Number
    label: str

    def contains(self, total: Number) -> bool:
        return self.min <= total <= self.max


@dataclass(frozen=True, slots=True)
class Threshold:
    """A total at or above ``at_or_above`` (or at or below ``at_or_below``) meets it."""

    value: Number
    comparison: Literal["at_or_above", "at_or_below"]
    sourced: Sourced

    def met(self, total: Number) -> bool:
        if self.comparison == "at_or_above":
            return total >= self.value
        return total <= self.value


@dataclass(frozen=True, slots=True)
class ReliableChange:
    """A change of at least ``points`` (in either direction) is reliable."""

    points: Number
    sourced: Sourced


@dataclass(frozen=True, slots=True)
class JacobsonTruax:
    """Inputs of Jacobson & Truax (1991): the SD of the pre-treatment scores, the
    reliability, and the clinical-significance cut-off ``cutoff`` (criterion c, or the
    caseness cut-off where norms are lacking). A total on the functional side of the
    cut-off is strictly below it for higher-is-worse instruments."""

    sd: float
    reliability: float
    cutoff: float
    sourced: Sourced

    @property
    def s_diff(self) -> float:
        return float(self.sd * (2.0 ** 0.5) * ((1.0 - self.reliability) ** 0.5))


@dataclass(frozen=True, slots=True)
class RiskItem:
    item: str
    at_or_above: int
    label: str


@dataclass(frozen=True, slots=True)
class Subscale:
    id: str
    name: str
    items: tuple[str, ...]
    sourced: Sourced


@dataclass(frozen=True, slots=True)
class Licence:
    name: str
    item_text: bool
    url: str | None = None
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class Codes:
    loinc: str | None = None
    loinc_total: str | None = None
    snomed_total: str | None = None


@dataclass(frozen=True, slots=True)
class Instrument:
    id: str
    name: str
    abbreviation: str
    version: str
    construct: str
    respondent: Respondent
    recall_period: str
    citation: str
    licence: Licence
    codes: Codes
    direction: Direction
    items: tuple[Item, ...]
    scoring: Scoring
    missing: MissingRule
    bands: tuple[Band, ...]
    bands_sourced: Sourced | None
    caseness: Threshold | None
    remission: Threshold | None
    reliable_change: ReliableChange | None
    jacobson_truax: JacobsonTruax | None
    risk: tuple[RiskItem, ...]
    subscales: tuple[Subscale, ...]
    instructions: str | None = None
    source_file: str = ""

    @property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.scored)

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    def severity(self, total: Number) -> str | None:
        """The band holding ``total``. Bands tile the range, so a fractional total (a
        prorated score left unrounded by a service setting) falls in the last band whose
        minimum it reaches."""
        lo, hi = self.scoring.score_range
        if not self.bands or not lo <= total <= hi:
            return None
        found = self.bands[0]
        for band in self.bands:
            if band.min <= total:
                found = band
        return found.label

    def unanswered_risk(self, answered: Iterable[str]) -> tuple[str, ...]:
        """Ids of the risk items not among ``answered`` (item ids with a value). An
        unanswered risk item is unknown risk, never "no risk": wherever a score is shown,
        this is shown with it and the clinician is asked to enquire."""
        given = set(answered)
        return tuple(r.item for r in self.risk if r.item not in given)

    def unconfirmed(self) -> tuple[str, ...]:
        """Names of the values whose source is unconfirmed: service settings."""
        names = []
        for name, sourced in (
            ("missing", self.missing.sourced),
            ("bands", self.bands_sourced),
            ("caseness", self.caseness.sourced if self.caseness else None),
            ("remission", self.remission.sourced if self.remission else None),
            ("reliable_change", self.reliable_change.sourced if self.reliable_change else None),
            ("jacobson_truax", self.jacobson_truax.sourced if self.jacobson_truax else None),
        ):
            if sourced is not None and not sourced.confirmed:
                names.append(name)
        if self.missing.rule == "prorate" and not self.missing.rounding_confirmed:
            names.append("missing.rounding")
        names.extend(f"subscales.{s.id}" for s in self.subscales if not s.sourced.confirmed)
        return tuple(names)


@dataclass(frozen=True, slots=True)
class Score:
    """The result of scoring one answer set.

    ``total`` is None when the answers cannot be scored (``reason`` says why).
    ``complete`` is True when every scored component was answered; ``prorated`` when
    the total was scaled up for missing components under the instrument's missing rule.
    ``risk`` holds the ids of risk items at or above their threshold — reported even
    when the total cannot be computed. ``risk_unanswered`` holds the ids of risk items
    left unanswered (:meth:`Instrument.unanswered_risk`): the risk is unknown, and the
    total (prorated or not) says nothing about it.
    """

    instrument: str
    total: Number | None
    severity: str | None
    caseness: bool | None
    complete: bool
    prorated: bool
    risk: tuple[str, ...]
    subscales: Mapping[str, Number | None] = field(default_factory=lambda: MappingProxyType({}))
    answered: int = 0
    missing: tuple[str, ...] = ()
    reason: str | None = None
    risk_unanswered: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "total": self.total,
            "severity": self.severity,
            "caseness": self.caseness,
            "complete": self.complete,
            "prorated": self.prorated,
            "risk": list(self.risk),
            "subscales": dict(self.subscales),
            "answered": self.answered,
            "missing": list(self.missing),
            "reason": self.reason,
            "risk_unanswered": list(self.risk_unanswered),
        }


ReliableDirection = Literal["improved", "deteriorated", "no reliable change"]
JTCategory = Literal["recovered", "improved", "unchanged", "deteriorated"]


@dataclass(frozen=True, slots=True)
class Change:
    """Change between two scores of one instrument.

    Every field past ``after`` is None when either score has no total, or when the
    instrument defines no criterion for it (``remission`` on an instrument without one).
    """

    instrument: str
    before: Score
    after: Score
    difference: Number | None
    reliable_change: ReliableDirection | None
    rci: float | None
    jacobson_truax: JTCategory | None
    response: bool | None
    remission: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "difference": self.difference,
            "reliable_change": self.reliable_change,
            "rci": self.rci,
            "jacobson_truax": self.jacobson_truax,
            "response": self.response,
            "remission": self.remission,
        }
