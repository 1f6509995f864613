"""The one scoring engine: every instrument is scored by the rules its definition gives."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from interpersonal.core import change as stats

from ._errors import InvalidAnswers
from ._model import Change, Direction, Instrument, Number, Score

Answers = Mapping[str, int | None]


class Compiled:
    """An instrument prepared for fast scoring: allowed values and components by id."""

    __slots__ = ("allowed", "allowed_text", "components", "instrument", "item_ids", "multiplier", "n_components")

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.allowed = {i.id: frozenset(i.values) for i in instrument.items}
        self.allowed_text = {i.id: ", ".join(str(v) for v in i.values) for i in instrument.items}
        self.item_ids = ", ".join(i.id for i in instrument.items)
        grouped = {m for g in instrument.scoring.groups for m in g.items}
        # A component is a tuple of (item id, reverse, min+max): one for an item, several for a group.
        comps: list[tuple[str, tuple[tuple[str, bool, int], ...]]] = []
        for item in instrument.items:
            if item.scored and item.id not in grouped:
                comps.append((item.id, ((item.id, item.reverse, item.min + item.max),)))
        for group in instrument.scoring.groups:
            members = tuple((m, instrument.item(m).reverse, instrument.item(m).min + instrument.item(m).max) for m in group.items)
            comps.append((group.id, members))
        self.components = tuple(comps)
        self.n_components = len(comps)
        self.multiplier = Fraction(str(instrument.scoring.multiplier))


def validate(compiled: Compiled, answers: Answers) -> dict[str, int]:
    """The answered items as {id: value}; raises InvalidAnswers on anything unscorable."""
    iid = compiled.instrument.id
    if not isinstance(answers, Mapping):
        raise InvalidAnswers(iid, "(all)", f"answers must be a mapping of item id to value, not {type(answers).__name__}")
    given: dict[str, int] = {}
    allowed = compiled.allowed
    for key, value in answers.items():
        if not isinstance(key, str) or key not in allowed:
            raise InvalidAnswers(iid, str(key), f"is not an item of {iid} (items: {compiled.item_ids})")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidAnswers(iid, key, f"value must be a whole number, one of {compiled.allowed_text[key]}; got {value!r}")
        if value not in allowed[key]:
            raise InvalidAnswers(iid, key, f"value {value} is not allowed; allowed: {compiled.allowed_text[key]}")
        given[key] = value
    return given


def _half_up(x: Fraction, decimals: int) -> Fraction:
    scale = Fraction(10) ** decimals
    return Fraction(int((x * scale + Fraction(1, 2)) // 1)) / scale


def _number(x: Fraction, decimals: int) -> Number:
    if x.denominator == 1:
        return int(x)
    return round(float(x), max(decimals, 6))


def score_compiled(compiled: Compiled, answers: Answers) -> Score:
    inst = compiled.instrument
    given = validate(compiled, answers)

    risk = tuple(r.item for r in inst.risk if given.get(r.item, -1) >= r.at_or_above)
    risk_unanswered = inst.unanswered_risk(given)

    values: dict[str, int] = {}
    missing: list[str] = []
    for comp_id, members in compiled.components:
        best: int | None = None
        for item_id, reverse, flip in members:
            v = given.get(item_id)
            if v is None:
                continue
            keyed = flip - v if reverse else v
            values[item_id] = keyed
            if best is None or keyed > best:
                best = keyed
        if best is None:
            missing.append(comp_id)
        else:
            values[comp_id] = best  # a group's id never clashes with an item id ("sleep" vs "1")

    n_missing = len(missing)
    answered = compiled.n_components - n_missing
    complete = n_missing == 0
    rule = inst.missing
    subscales = MappingProxyType(
        {s.id: (sum(values[m] for m in s.items) if all(m in given for m in s.items) else None) for s in inst.subscales}
    )

    if not complete and (rule.rule == "none" or n_missing > rule.max_missing):
        allowed = "no missing items" if rule.rule == "none" else f"at most {rule.max_missing} missing"
        return Score(
            instrument=inst.id, total=None, severity=None, caseness=None, complete=False, prorated=False,
            risk=risk, subscales=subscales, answered=answered, missing=tuple(missing),
            reason=f"{n_missing} of {compiled.n_components} items missing; {inst.abbreviation} allows {allowed}",
            risk_unanswered=risk_unanswered,
        )

    raw = sum(values[c] for c, _ in compiled.components if c in values)
    decimals = inst.scoring.decimals
    exact: Fraction
    if inst.scoring.method == "mean":
        exact = Fraction(raw, answered) * compiled.multiplier
    else:
        exact = Fraction(raw * compiled.n_components, answered)
    if exact.denominator != 1 and rule.rounding == "half_up":
        exact = _half_up(exact, decimals)
    total = _number(exact, decimals)
    return Score(
        instrument=inst.id,
        total=total,
        severity=inst.severity(total),
        caseness=inst.caseness.met(total) if inst.caseness else None,
        complete=complete,
        prorated=not complete,
        risk=risk,
        subscales=subscales,
        answered=answered,
        missing=tuple(missing),
        risk_unanswered=risk_unanswered,
    )


def change_between(inst: Instrument, before: Score, after: Score) -> Change:
    """Change between two scores of ``inst`` (see :class:`Change`)."""
    if before.total is None or after.total is None:
        return Change(inst.id, before, after, None, None, None, None, None, None)
    b, a = before.total, after.total
    worse_up = inst.direction is Direction.HIGHER_IS_WORSE
    reliable = (
        stats.reliable_by_points(b, a, inst.reliable_change.points, higher_is_worse=worse_up)
        if inst.reliable_change
        else None
    )
    jt = inst.jacobson_truax
    rci = category = None
    if jt is not None:
        rci = round(stats.rci(b, a, jt.sd, jt.reliability), 4)
        category = stats.jacobson_truax_category(
            b, a, sd=jt.sd, reliability=jt.reliability, cutoff=jt.cutoff, higher_is_worse=worse_up
        )
    return Change(
        instrument=inst.id,
        before=before,
        after=after,
        difference=_number(Fraction(str(a)) - Fraction(str(b)), inst.scoring.decimals),
        reliable_change=reliable,
        rci=rci,
        jacobson_truax=category,
        response=stats.response(b, a) if worse_up else None,
        remission=inst.remission.met(a) if inst.remission else None,
    )


def total_score(inst: Instrument, total: Any) -> Score:
    """A Score holding only a total (for change between stored totals)."""
    lo, hi = inst.scoring.score_range
    if isinstance(total, bool) or not isinstance(total, int | float) or not lo <= total <= hi:
        raise InvalidAnswers(inst.id, "total", f"must be a number from {lo} to {hi}; got {total!r}")
    return Score(
        instrument=inst.id, total=total, severity=inst.severity(total),
        caseness=inst.caseness.met(total) if inst.caseness else None,
        complete=True, prorated=False, risk=(), answered=0,
    )
