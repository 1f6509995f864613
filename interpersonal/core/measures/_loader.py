"""Load and validate instrument definition files (TOML).

The schema is documented in docs/measures.md. Every problem raises
:class:`DefinitionError` naming the file and the field, e.g.
``phq9.toml: items[3].options: unknown option set 'freq'``.

A service may (a) add instruments by dropping ``*.toml`` definitions into a directory
named in ``INTERPERSONAL_MEASURES_DIRS`` (``os.pathsep``-separated), and (b) change the
documented settings of any instrument (unconfirmed values such as a reliable-change
criterion) in a settings file named by ``INTERPERSONAL_MEASURES_SETTINGS``: top-level
tables keyed by instrument id, deep-merged into the definition before validation.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, cast

from interpersonal.core import _definitions
from interpersonal.core.change import criterion_c

from ._errors import DefinitionError
from ._model import (
    Band,
    Codes,
    Direction,
    Group,
    Instrument,
    Item,
    ItemVariant,
    JacobsonTruax,
    Licence,
    MissingRule,
    Number,
    Option,
    ReliableChange,
    Respondent,
    RiskItem,
    Scoring,
    Sourced,
    Subscale,
    Threshold,
)

BUILTIN_DIR = Path(__file__).with_name("definitions")
SCHEMA_VERSION = 1
_ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


class _Reader:
    """Typed access to one table of a definition, naming the field on error."""

    def __init__(self, source: str, data: Mapping[str, Any], path: str = "") -> None:
        self.source = source
        self.data = data
        self.path = path
        self.seen: set[str] = set()

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str) -> DefinitionError:
        return DefinitionError(self.source, self._name(key), problem)

    def has(self, key: str) -> bool:
        return key in self.data

    def _get(self, key: str, required: bool) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if required:
                raise self.fail(key, "is required")
            return None
        return self.data[key]

    def string(self, key: str, *, required: bool = True) -> Any:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty string, not {value!r}")
        return value.strip()

    def integer(self, key: str, *, required: bool = True) -> Any:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number, not {value!r}")
        return value

    def number(self, key: str, *, required: bool = True) -> Any:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(key, f"must be a number, not {value!r}")
        return value

    def flag(self, key: str, *, default: bool) -> bool:
        value = self._get(key, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {value!r}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], *, default: str | None = None) -> Any:
        value = self._get(key, default is None)
        if value is None:
            return default
        if value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}, not {value!r}")
        return value

    def table(self, key: str, *, required: bool = True) -> _Reader | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail(key, "must be a table")
        return _Reader(self.source, value, self._name(key))

    def tables(self, key: str, *, required: bool = False) -> list[_Reader]:
        value = self._get(key, required)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.fail(key, "must be an array of tables")
        return [_Reader(self.source, v, f"{self._name(key)}[{i}]") for i, v in enumerate(value)]

    def strings(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        value = self._get(key, required)
        if value is None:
            return ()
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a non-empty list of strings")
        return tuple(value)

    def done(self) -> None:
        """Reject keys the schema does not know: a typo must not pass silently."""
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise self.fail(unknown[0], "is not a known field")


def _sourced(r: _Reader) -> Sourced:
    return Sourced(source=r.string("source"), confirmed=r.flag("confirmed", default=False))


def _options(r: _Reader, key: str, sets: Mapping[str, tuple[Option, ...]]) -> tuple[Option, ...]:
    """An item's options: the name of an option set, or an inline array of tables."""
    raw = r.data.get(key)
    if isinstance(raw, str):
        r.seen.add(key)
        if raw not in sets:
            raise r.fail(key, f"unknown option set {raw!r} (defined: {', '.join(sets) or 'none'})")
        return sets[raw]
    return _option_list(r.tables(key, required=True), r.fail, key)


def _option_list(readers: list[_Reader], fail: Any, key: str) -> tuple[Option, ...]:
    options = []
    for o in readers:
        options.append(Option(value=o.integer("value"), label=o.string("label", required=False), loinc=o.string("loinc", required=False)))
        o.done()
    values = [o.value for o in options]
    if len(values) < 2:
        raise fail(key, "needs at least two options")
    if len(set(values)) != len(values):
        raise fail(key, f"option values must be unique, got {values}")
    if sorted(values) != list(range(min(values), max(values) + 1)):
        raise fail(key, f"option values must be consecutive whole numbers, got {values}")
    return tuple(options)


def _threshold(r: _Reader | None) -> Threshold | None:
    if r is None:
        return None
    above, below = r.has("at_or_above"), r.has("at_or_below")
    if above == below:
        raise r.fail("at_or_above", "give exactly one of at_or_above / at_or_below")
    comparison: Literal["at_or_above", "at_or_below"] = "at_or_above" if above else "at_or_below"
    t = Threshold(value=r.number(comparison), comparison=comparison, sourced=_sourced(r))
    r.done()
    return t


def parse(data: Mapping[str, Any], source: str) -> Instrument:
    """Build an :class:`Instrument` from a parsed definition, validating every field."""
    r = _Reader(source, data)
    schema = r.integer("schema")
    if schema != SCHEMA_VERSION:
        raise r.fail("schema", f"this version reads schema {SCHEMA_VERSION}, not {schema}")
    instrument_id = r.string("id")
    if not set(instrument_id) <= _ID_CHARS or not instrument_id[0].isalpha():
        raise r.fail("id", f"must be lower-case letters, digits and underscores, starting with a letter: {instrument_id!r}")

    licence_r = cast(_Reader, r.table("licence"))
    licence = Licence(
        name=licence_r.string("name"),
        item_text=licence_r.flag("item_text", default=False),
        url=licence_r.string("url", required=False),
        notes=licence_r.string("notes", required=False),
    )
    licence_r.done()

    codes_r = r.table("codes", required=False)
    codes = Codes()
    if codes_r is not None:
        codes = Codes(
            loinc=codes_r.string("loinc", required=False),
            loinc_total=codes_r.string("loinc_total", required=False),
            snomed_total=codes_r.string("snomed_total", required=False),
        )
        codes_r.done()

    sets: dict[str, tuple[Option, ...]] = {}
    sets_r = r.table("option_sets", required=False)
    if sets_r is not None:
        for name in sets_r.data:
            set_r = cast(_Reader, sets_r.table(name))
            sets[name] = _option_list(set_r.tables("options", required=True), set_r.fail, "options")
            set_r.done()
        sets_r.done()

    items: list[Item] = []
    for ir in r.tables("items", required=True):
        item_id = ir.string("id")
        text = ir.string("text", required=False)
        if text is not None and not licence.item_text:
            raise ir.fail("text", "the licence does not allow item text (licence.item_text = false)")
        variants = []
        for vr in ir.tables("variants"):
            variants.append(ItemVariant(id=vr.string("id"), name=vr.string("name"), options=_options(vr, "options", sets)))
            vr.done()
        item = Item(
            id=item_id,
            text=text,
            options=_options(ir, "options", sets),
            scored=ir.flag("scored", default=True),
            reverse=ir.flag("reverse", default=False),
            loinc=ir.string("loinc", required=False),
            variants=tuple(variants),
            note=ir.string("note", required=False),
        )
        for v in item.variants:
            if v.options and tuple(o.value for o in v.options) != item.values:
                raise ir.fail("variants", f"variant {v.id!r} must allow the same values as the item")
        ir.done()
        items.append(item)
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise r.fail("items", f"item ids must be unique, got {ids}")
    expected = [str(n) for n in range(1, len(ids) + 1)]
    if ids != expected:
        raise r.fail("items", f"item ids must be the form's numbers '1'..'{len(ids)}' in order, got {ids}")
    if not licence.item_text:
        for it in items:
            for o in it.options:
                if o.label and not o.label.strip().isdigit():
                    raise r.fail(f"items[{int(it.id) - 1}].options", "the licence does not allow option text; give values only")
    by_id = {i.id: i for i in items}

    scoring_r = cast(_Reader, r.table("scoring"))
    method = scoring_r.choice("method", ("sum", "mean"))
    groups = []
    grouped: set[str] = set()
    for gr in scoring_r.tables("groups"):
        members = gr.strings("items")
        for m in members:
            if m not in by_id:
                raise gr.fail("items", f"unknown item {m!r}")
            if not by_id[m].scored:
                raise gr.fail("items", f"item {m!r} is not scored")
            if m in grouped:
                raise gr.fail("items", f"item {m!r} is in more than one group")
            grouped.add(m)
        group_id = gr.string("id")
        if group_id in by_id:
            raise gr.fail("id", f"{group_id!r} is also an item id")
        groups.append(Group(id=group_id, name=gr.string("name"), items=members))
        gr.done()
    multiplier = scoring_r.number("multiplier", required=False)
    if method == "sum" and multiplier is not None:
        raise scoring_r.fail("multiplier", "only a mean-scored instrument takes a multiplier")
    decimals = scoring_r.integer("decimals", required=False) or 0
    declared = scoring_r.data.get("range")
    scoring_r.seen.add("range")
    if not (isinstance(declared, list) and len(declared) == 2 and all(isinstance(v, int | float) and not isinstance(v, bool) for v in declared)):
        raise scoring_r.fail("range", "must be [minimum, maximum]")
    scoring_r.done()

    components = _components(items, groups)
    lo: Number
    hi: Number
    if method == "sum":
        lo = sum(c[0] for c in components)
        hi = sum(c[1] for c in components)
    else:
        k = float(multiplier if multiplier is not None else 1.0)
        lo = min(c[0] for c in components) * k
        hi = max(c[1] for c in components) * k
    if (lo, hi) != (declared[0], declared[1]):
        raise scoring_r.fail("range", f"declared {declared} but the items give [{lo}, {hi}]")
    scoring = Scoring(
        method=method,
        groups=tuple(groups),
        multiplier=float(multiplier if multiplier is not None else 1.0),
        decimals=decimals,
        score_range=(declared[0], declared[1]),
    )

    missing_r = cast(_Reader, r.table("missing"))
    rule = missing_r.choice("rule", ("none", "prorate"))
    max_missing = missing_r.integer("max_missing", required=rule == "prorate") or 0
    if rule == "none" and max_missing:
        raise missing_r.fail("max_missing", "rule 'none' allows no missing items")
    if rule == "prorate" and not 0 < max_missing < len(components):
        raise missing_r.fail("max_missing", f"must be between 1 and {len(components) - 1}")
    missing = MissingRule(
        rule=rule,
        max_missing=max_missing,
        rounding=missing_r.choice("rounding", ("half_up", "none"), default="half_up"),
        sourced=_sourced(missing_r),
        rounding_confirmed=missing_r.flag("rounding_confirmed", default=True),
    )
    missing_r.done()

    bands = []
    for br in r.tables("bands"):
        bands.append(Band(min=br.number("min"), max=br.number("max"), label=br.string("label")))
        br.done()
    bands_sourced = None
    if bands:
        bands_source_r = cast(_Reader, r.table("bands_source"))
        bands_sourced = _sourced(bands_source_r)
        bands_source_r.done()
        _check_bands(r, bands, scoring)

    rc_r = r.table("reliable_change", required=False)
    reliable_change = None
    if rc_r is not None:
        points = rc_r.number("points")
        if points <= 0:
            raise rc_r.fail("points", "must be positive")
        reliable_change = ReliableChange(points=points, sourced=_sourced(rc_r))
        rc_r.done()

    jt_r = r.table("jacobson_truax", required=False)
    jacobson_truax = None
    if jt_r is not None:
        sd, rel = jt_r.number("sd"), jt_r.number("reliability")
        if sd <= 0:
            raise jt_r.fail("sd", "must be positive")
        if not 0 < rel < 1:
            raise jt_r.fail("reliability", "must be between 0 and 1")
        if jt_r.has("cutoff") == jt_r.has("norms"):
            raise jt_r.fail("cutoff", "give exactly one of cutoff / norms")
        if jt_r.has("norms"):
            nr = cast(_Reader, jt_r.table("norms"))
            mc, sc, mn, sn = (nr.number(k) for k in ("clinical_mean", "clinical_sd", "normal_mean", "normal_sd"))
            nr.done()
            cutoff = criterion_c(mc, sc, mn, sn)
        else:
            cutoff = jt_r.number("cutoff")
        jacobson_truax = JacobsonTruax(sd=float(sd), reliability=float(rel), cutoff=float(cutoff), sourced=_sourced(jt_r))
        jt_r.done()

    risks = []
    for rr in r.tables("risk"):
        item_id = rr.string("item")
        if item_id not in by_id:
            raise rr.fail("item", f"unknown item {item_id!r}")
        at = rr.integer("at_or_above")
        if at not in by_id[item_id].values or at == by_id[item_id].min:
            raise rr.fail("at_or_above", f"must be one of the item's values above its minimum: {by_id[item_id].values[1:]}")
        risks.append(RiskItem(item=item_id, at_or_above=at, label=rr.string("label")))
        rr.done()

    subscales = []
    for sr in r.tables("subscales"):
        members = sr.strings("items")
        for m in members:
            if m not in by_id or not by_id[m].scored:
                raise sr.fail("items", f"unknown or unscored item {m!r}")
        subscales.append(Subscale(id=sr.string("id"), name=sr.string("name"), items=members, sourced=_sourced(sr)))
        sr.done()

    instrument = Instrument(
        id=instrument_id,
        name=r.string("name"),
        abbreviation=r.string("abbreviation"),
        version=r.string("version"),
        construct=r.string("construct"),
        respondent=Respondent(r.choice("respondent", tuple(x.value for x in Respondent))),
        recall_period=r.string("recall_period"),
        citation=r.string("citation"),
        licence=licence,
        codes=codes,
        direction=Direction(r.choice("direction", tuple(x.value for x in Direction), default="higher_is_worse")),
        items=tuple(items),
        scoring=scoring,
        missing=missing,
        bands=tuple(bands),
        bands_sourced=bands_sourced,
        caseness=_threshold(r.table("caseness", required=False)),
        remission=_threshold(r.table("remission", required=False)),
        reliable_change=reliable_change,
        jacobson_truax=jacobson_truax,
        risk=tuple(risks),
        subscales=tuple(subscales),
        instructions=r.string("instructions", required=False),
        source_file=source,
    )
    r.done()
    return instrument


def _components(items: Iterable[Item], groups: Iterable[Group]) -> list[tuple[int, int]]:
    """(min, max) of every scoring component: each ungrouped scored item, each group."""
    grouped = {m for g in groups for m in g.items}
    by_id = {i.id: i for i in items}
    comps = [(i.min, i.max) for i in by_id.values() if i.scored and i.id not in grouped]
    for g in groups:
        comps.append((max(by_id[m].min for m in g.items), max(by_id[m].max for m in g.items)))
    return comps


def _check_bands(r: _Reader, bands: list[Band], scoring: Scoring) -> None:
    """Bands must tile the score range exactly: no gap, no overlap, in order."""
    step: Number = 1 if scoring.decimals == 0 and scoring.method == "sum" else 10 ** -scoring.decimals
    lo, hi = scoring.score_range
    if bands[0].min != lo:
        raise r.fail("bands[0].min", f"must start at the range minimum {lo}")
    if bands[-1].max != hi:
        raise r.fail(f"bands[{len(bands) - 1}].max", f"must end at the range maximum {hi}")
    for i, band in enumerate(bands):
        if band.max < band.min:
            raise r.fail(f"bands[{i}]", "max is below min")
    for i, (a, b) in enumerate(itertools.pairwise(bands)):
        if not math.isclose(b.min, a.max + step):
            raise r.fail(f"bands[{i + 1}].min", f"must be {a.max + step} (the band before ends at {a.max})")


def read_toml(path: Path) -> dict[str, Any]:
    return _definitions.read_toml(path, DefinitionError)


def load_directories(directories: Iterable[Path], settings: Path | None = None) -> dict[str, Instrument]:
    """Every instrument definition in ``directories`` (ids unique), with ``settings`` overrides."""
    return _definitions.load_directories(
        directories, settings, kind="instrument", protected=frozenset({"id", "items", "schema"}), parse=parse, error=DefinitionError,
    )


def configured_directories() -> tuple[list[Path], Path | None]:
    """The built-in directory, then any from INTERPERSONAL_MEASURES_DIRS; the settings file."""
    return _definitions.configured_directories(
        BUILTIN_DIR, "INTERPERSONAL_MEASURES_DIRS", "INTERPERSONAL_MEASURES_SETTINGS"
    )
