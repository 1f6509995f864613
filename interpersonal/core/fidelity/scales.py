"""Fidelity rating scales as data: adherence and competence scales loaded from TOML, scored by one rule.

    >>> from interpersonal.core.fidelity import scales
    >>> example = scales.get("example_interpersonal_adherence")
    >>> s = example.score({item.id: 4 for item in example.items})
    >>> s.scorable, s.total, s.mean, s.passed
    (True, 4.0, 4.0, True)

A scale is a definition file (schema: docs/fidelity-recordings.md, "Rating scales"): its range (every
item is rated on the same whole-number points, e.g. 1–5), its items, how a rating's total is formed
(the ``sum`` or the ``mean`` of the items), the pass mark (the total at or above which a rating
passes) and the phase keys a rating is tagged with (e.g. ``ipaf``/``middle``/``ending``). The
licence decides whether item wording and anchors may be shipped: with ``licence.item_text = false``
the loader refuses any label or anchor, so a licensed scale is loaded as values only (item ids and
the range), exactly as the measures loader treats instruments (CONTRIBUTING.md, "Adding an
instrument").

The project ships ONE scale, written for this project as an example
(``scales/example_interpersonal_adherence.toml``); it is not a published instrument and no item
of it is taken from, or attributed to, the IPT Quality and Adherence Scale or the DIT adherence
and competence scale. A service loads its licensed scale from a directory named in
``INTERPERSONAL_SCALES_DIRS`` (``os.pathsep``-separated) and changes a documented setting (an
unconfirmed pass mark) in a settings file named in ``INTERPERSONAL_SCALES_SETTINGS``; call
:func:`reload` after changing either.

Errors::

    ScaleError
    ├── DefinitionError   a definition (or settings) file is malformed: names the file and field
    ├── UnknownScale      no scale with that id (also a LookupError)
    └── InvalidRatings    a rating names an item the scale does not have (also a ValueError)

A missing or out-of-range item rating is not an error: the score comes back unscorable
(``scorable=False``, no total, no pass) with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from interpersonal.core import _definitions
from interpersonal.core.measures import Licence  # one licence record for instruments and rating scales
from interpersonal.core.protocols import THERAPIES

__all__ = [
    "ANY_THERAPY",
    "BUILTIN_DIR",
    "DIRS_VARIABLE",
    "MAX_ITEMS",
    "MAX_POINTS",
    "SETTINGS_VARIABLE",
    "DefinitionError",
    "InvalidRatings",
    "Item",
    "Licence",
    "PassMark",
    "Scale",
    "ScaleError",
    "ScaleScore",
    "UnknownScale",
    "catalogue",
    "get",
    "load_file",
    "parse",
    "reload",
    "score",
]

BUILTIN_DIR = Path(__file__).with_name("scales")
DIRS_VARIABLE = "INTERPERSONAL_SCALES_DIRS"
SETTINGS_VARIABLE = "INTERPERSONAL_SCALES_SETTINGS"
SCHEMA_VERSION = 1
MAX_ITEMS = 100
"""More items than any adherence scale the project knows of; a bound, not a clinical fact."""
MAX_POINTS = 11
"""At most eleven points (0–10): a bound on forms, not a clinical fact."""
TEXT_MAX = 500
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
PROTECTED = frozenset({"id", "schema", "licence", "items", "range"})
"""Keys a settings file may not change: what a scale *is* stays in its definition."""

TotalRule = Literal["sum", "mean"]
ANY_THERAPY = "*"


class ScaleError(Exception):
    """Base class of every error this module raises."""


class DefinitionError(ScaleError):
    """A scale definition (or a settings override) is invalid."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source, self.field, self.problem = source, field, problem
        super().__init__(f"{source}: {field}: {problem}")


class UnknownScale(ScaleError, LookupError):
    def __init__(self, scale_id: str, known: tuple[str, ...] = ()) -> None:
        self.scale_id = scale_id
        hint = f" (known: {', '.join(known)})" if known else ""
        super().__init__(f"unknown rating scale {scale_id!r}{hint}")


class InvalidRatings(ScaleError, ValueError):
    def __init__(self, scale_id: str, item: str, problem: str) -> None:
        self.scale_id, self.item, self.problem = scale_id, item, problem
        super().__init__(f"{scale_id} item {item}: {problem}")


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    label: str | None = None
    """The item's wording, only when the licence allows it."""
    anchors: tuple[str, ...] = ()
    """One description per point, lowest first, only when the licence allows it (may be empty)."""


@dataclass(frozen=True, slots=True)
class PassMark:
    at_or_above: float
    """A rating passes when its total (the sum or the mean, by the scale's rule) is at or above this."""
    source: str
    confirmed: bool


@dataclass(frozen=True, slots=True)
class ScaleScore:
    scale: str
    scorable: bool
    total: float | None
    """The sum of the item ratings, or their mean, by the scale's rule (None when unscorable)."""
    mean: float | None
    passed: bool | None
    reason: str | None
    """Why the rating cannot be scored (None when it can)."""
    ratings: Mapping[str, int | None]


@dataclass(frozen=True, slots=True)
class Scale:
    id: str
    title: str
    version: str
    example: bool
    """True for a scale written for this project as an example: not a published instrument."""
    therapy: str | None
    """The therapy (a protocol's ``therapy`` key) the scale rates, or None for any."""
    licence: Licence
    minimum: int
    maximum: int
    items: tuple[Item, ...]
    total_rule: TotalRule
    pass_mark: PassMark
    phases_by_therapy: Mapping[str, tuple[str, ...]]
    """The phase keys a rating is tagged with, per therapy key (``"*"``: any therapy)."""
    citation: str
    description: str | None = None

    def phases_for(self, therapy: str) -> tuple[str, ...]:
        """The phase keys a rating of a course of ``therapy`` may carry (empty: the scale does not fit it)."""
        if self.therapy is not None and therapy != self.therapy:
            return ()
        return self.phases_by_therapy.get(therapy, self.phases_by_therapy.get(ANY_THERAPY, ()))

    @property
    def phases(self) -> tuple[str, ...]:
        """Every phase key the scale knows, in definition order."""
        return tuple(dict.fromkeys(p for keys in self.phases_by_therapy.values() for p in keys))

    def fits(self, therapy: str) -> bool:
        return bool(self.phases_for(therapy))

    @property
    def points(self) -> tuple[int, ...]:
        return tuple(range(self.minimum, self.maximum + 1))

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    @property
    def total_range(self) -> tuple[float, float]:
        if self.total_rule == "sum":
            return float(self.minimum * len(self.items)), float(self.maximum * len(self.items))
        return float(self.minimum), float(self.maximum)

    def score(self, ratings: Mapping[str, Any]) -> ScaleScore:
        """Item ratings -> total, mean and pass. An unknown item raises :class:`InvalidRatings`;
        a missing, non-whole or out-of-range rating makes the score unscorable, saying which."""
        unknown = sorted(set(ratings) - set(self.item_ids))
        if unknown:
            raise InvalidRatings(self.id, unknown[0], f"is not an item of this scale (items: {', '.join(self.item_ids)})")
        kept: dict[str, int | None] = {}
        problems: list[str] = []
        for item in self.items:
            value = ratings.get(item.id)
            if value is None:
                kept[item.id] = None
                problems.append(f"item {item.id} is not rated")
            elif isinstance(value, bool) or not isinstance(value, int):
                kept[item.id] = None
                problems.append(f"item {item.id} must be a whole number from {self.minimum} to {self.maximum}, not {value!r}")
            elif not self.minimum <= value <= self.maximum:
                kept[item.id] = value
                problems.append(f"item {item.id} is {value}, outside the scale's range {self.minimum}–{self.maximum}")
            else:
                kept[item.id] = value
        if problems:
            return ScaleScore(self.id, False, None, None, None, "Unscorable: " + "; ".join(problems) + ".", kept)
        values = [v for v in kept.values() if v is not None]
        total_sum = sum(values)
        exact_mean = Fraction(total_sum, len(values))
        exact_total = exact_mean if self.total_rule == "mean" else Fraction(total_sum)
        passed = exact_total >= Fraction(str(self.pass_mark.at_or_above))
        total: float = float(exact_total) if self.total_rule == "mean" else total_sum
        return ScaleScore(self.id, True, total, float(exact_mean), passed, None, kept)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "version": self.version, "example": self.example,
            "therapy": self.therapy, "licence": {"name": self.licence.name, "item_text": self.licence.item_text,
                                                 "url": self.licence.url, "notes": self.licence.notes},
            "range": [self.minimum, self.maximum], "total": self.total_rule,
            "pass_mark": {"at_or_above": self.pass_mark.at_or_above, "source": self.pass_mark.source,
                          "confirmed": self.pass_mark.confirmed},
            "phases": {k: list(v) for k, v in self.phases_by_therapy.items()},
            "items": [{"id": i.id, "label": i.label, "anchors": list(i.anchors)} for i in self.items],
            "citation": self.citation,
        }


# --- Reading a definition -------------------------------------------------------------------


class _Table:
    """Typed access to one table of a definition, naming the field on error; unknown keys are refused."""

    def __init__(self, source: str, data: Mapping[str, Any], path: str = "") -> None:
        self.source, self.data, self.path = source, data, path
        self.seen: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str) -> DefinitionError:
        return DefinitionError(self.source, self.name(key), problem)

    def get(self, key: str, *, required: bool) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if required:
                raise self.fail(key, "is required")
            return None
        return self.data[key]

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self.get(key, required=required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty string, not {value!r}")
        if len(value) > TEXT_MAX and key not in ("citation", "notes", "description", "source"):
            raise self.fail(key, f"must be at most {TEXT_MAX} characters")
        return value.strip()

    def required_text(self, key: str) -> str:
        value = self.text(key)
        assert value is not None  # noqa: S101 - text(required=True) never returns None
        return value

    def flag(self, key: str, *, default: bool) -> bool:
        value = self.get(key, required=False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {value!r}")
        return value

    def table(self, key: str) -> _Table:
        value = self.get(key, required=True)
        if not isinstance(value, Mapping):
            raise self.fail(key, "must be a table")
        return _Table(self.source, value, self.name(key))

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise self.fail(unknown[0], "is not a known field")


def _identifier(t: _Table, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value or not set(value) <= _ID_CHARS or not value[0].isalnum():
        raise t.fail(key, f"must be lower-case letters, digits and underscores: {value!r}")
    if len(value) > 40:
        raise t.fail(key, "must be at most 40 characters")
    return value


def _anchors(t: _Table, key: str, points: int, allowed: bool) -> tuple[str, ...]:
    raw = t.get(key, required=False)
    if raw is None:
        return ()
    if not allowed:
        raise t.fail(key, "the licence does not allow anchor wording (licence.item_text = false): give item ids only")
    if not isinstance(raw, list) or not all(isinstance(a, str) and a.strip() for a in raw):
        raise t.fail(key, "must be a list of non-empty strings, one per point")
    if len(raw) != points:
        raise t.fail(key, f"must give one anchor per point of the range: {points} expected, {len(raw)} given")
    if any(len(a) > TEXT_MAX for a in raw):
        raise t.fail(key, f"each anchor must be at most {TEXT_MAX} characters")
    return tuple(a.strip() for a in raw)


def _phase_list(t: _Table, key: str, raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise t.fail(key, "must be a non-empty list of phase keys")
    phases = tuple(_identifier(t, key, p) for p in raw)
    if len(set(phases)) != len(phases):
        raise t.fail(key, f"phase keys must be unique, got {list(phases)}")
    return phases


def _phases(t: _Table, therapy: str | None) -> Mapping[str, tuple[str, ...]]:
    """``phases``: a list of keys (for the scale's therapy, or any), or a table of lists keyed by
    therapy (a scale used for several therapies, each with its own phases)."""
    raw = t.get("phases", required=True)
    if isinstance(raw, Mapping):
        if not raw:
            raise t.fail("phases", "must name at least one therapy's phases")
        for key in raw:
            if key not in THERAPIES:
                raise t.fail(f"phases.{key}", f"is not a therapy key ({', '.join(THERAPIES)})")
            if therapy is not None and key != therapy:
                raise t.fail(f"phases.{key}", f"the scale is for {therapy} only")
        return {key: _phase_list(t, f"phases.{key}", value) for key, value in raw.items()}
    return {ANY_THERAPY: _phase_list(t, "phases", raw)}


def parse(data: Mapping[str, Any], source: str) -> Scale:
    """Build a :class:`Scale` from a parsed definition, validating every field."""
    t = _Table(source, data)
    schema = t.get("schema", required=True)
    if schema != SCHEMA_VERSION:
        raise t.fail("schema", f"this version reads schema {SCHEMA_VERSION}, not {schema!r}")
    scale_id = _identifier(t, "id", t.get("id", required=True))
    title = t.required_text("title")
    version = t.required_text("version")
    example = t.flag("example", default=False)
    if example and "example" not in title.lower():
        raise t.fail("title", "an example scale must say so in its title")
    therapy_raw = t.get("therapy", required=False)
    if therapy_raw is not None and therapy_raw not in THERAPIES:
        raise t.fail("therapy", f"must be one of {', '.join(THERAPIES)} (a protocol's therapy key), not {therapy_raw!r}")
    citation = t.required_text("citation")
    description = t.text("description", required=False)

    lt = t.table("licence")
    licence = Licence(name=lt.required_text("name"), item_text=lt.flag("item_text", default=False),
                      url=lt.text("url", required=False), notes=lt.text("notes", required=False))
    lt.done()

    raw_range = t.get("range", required=True)
    if (not isinstance(raw_range, list) or len(raw_range) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in raw_range)):
        raise t.fail("range", f"must be two whole numbers [lowest, highest], not {raw_range!r}")
    minimum, maximum = raw_range
    if minimum < 0 or maximum <= minimum:
        raise t.fail("range", f"must rise from a lowest point of 0 or more: [{minimum}, {maximum}] is not a range")
    points = maximum - minimum + 1
    if points > MAX_POINTS:
        raise t.fail("range", f"must have at most {MAX_POINTS} points, not {points}")

    default_anchors = _anchors(t, "anchors", points, licence.item_text)
    raw_items = t.get("items", required=True)
    if not isinstance(raw_items, list) or not raw_items or not all(isinstance(i, Mapping) for i in raw_items):
        raise t.fail("items", "must be a non-empty array of tables ([[items]])")
    if len(raw_items) > MAX_ITEMS:
        raise t.fail("items", f"must have at most {MAX_ITEMS} items, not {len(raw_items)}")
    items: list[Item] = []
    for n, raw in enumerate(raw_items):
        it = _Table(source, raw, f"items[{n}]")
        item_id = _identifier(it, "id", it.get("id", required=True))
        if item_id in {i.id for i in items}:
            raise it.fail("id", f"{item_id!r} is given twice")
        label_raw = it.get("label", required=False)
        if label_raw is not None and not licence.item_text:
            raise it.fail("label", "the licence does not allow item text (licence.item_text = false): give item ids only")
        label = it.text("label", required=False)
        anchors = _anchors(it, "anchors", points, licence.item_text) or default_anchors
        it.done()
        items.append(Item(id=item_id, label=label, anchors=anchors))

    total_rule: TotalRule
    rule = t.get("total", required=True)
    if rule == "sum":
        total_rule = "sum"
    elif rule == "mean":
        total_rule = "mean"
    else:
        raise t.fail("total", f"must be 'sum' or 'mean' of the items, not {rule!r}")

    pt = t.table("pass_mark")
    mark = pt.get("at_or_above", required=True)
    if isinstance(mark, bool) or not isinstance(mark, int | float):
        raise pt.fail("at_or_above", f"must be a number, not {mark!r}")
    pass_mark = PassMark(at_or_above=float(mark), source=pt.required_text("source"),
                         confirmed=pt.flag("confirmed", default=False))
    pt.done()
    low, high = (minimum, maximum) if total_rule == "mean" else (minimum * len(items), maximum * len(items))
    if not low <= pass_mark.at_or_above <= high:
        raise pt.fail("at_or_above", f"{mark} is outside the range of the {total_rule} of the items ({low}–{high})")

    phases_by_therapy = _phases(t, therapy_raw)
    t.done()
    return Scale(id=scale_id, title=title, version=version, example=example,
                 therapy=therapy_raw, licence=licence, minimum=minimum, maximum=maximum, items=tuple(items),
                 total_rule=total_rule, pass_mark=pass_mark, phases_by_therapy=phases_by_therapy, citation=citation, description=description)


# --- The catalogue --------------------------------------------------------------------------


def _load() -> dict[str, Scale]:
    dirs, settings = _definitions.configured_directories(BUILTIN_DIR, DIRS_VARIABLE, SETTINGS_VARIABLE)
    loaded = _definitions.load_directories(dirs, settings, kind="rating scale", protected=PROTECTED,
                                           parse=parse, error=DefinitionError)
    return dict(sorted(loaded.items()))


_catalogue: _definitions.LoadedOnce[dict[str, Scale]] = _definitions.LoadedOnce(_load)


def reload() -> None:
    """Forget the loaded scales; the next call reads the definition files again."""
    _catalogue.forget()


def catalogue(*, therapy: str | None = None) -> tuple[Scale, ...]:
    """Every scale by id; with ``therapy``, those for that therapy or for any therapy."""
    return tuple(s for s in _catalogue.get().values() if therapy is None or s.fits(therapy))


def get(scale_id: str) -> Scale:
    found = _catalogue.get()
    try:
        return found[scale_id]
    except (KeyError, TypeError):
        raise UnknownScale(str(scale_id), tuple(found)) from None


def score(scale_id: str, ratings: Mapping[str, Any]) -> ScaleScore:
    return get(scale_id).score(ratings)


def load_file(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scale:
    """Load and validate one definition file without adding it to the catalogue."""
    p = Path(path)
    data = _definitions.read_toml(p, DefinitionError)
    if overrides:
        data = _definitions.deep_merge(data, overrides)
    return parse(data, p.name)
