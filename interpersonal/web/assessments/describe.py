"""Instrument rules in words, for people reading the catalogue."""

from __future__ import annotations

from interpersonal.core import measures

_SETTING_NAMES = {
    "missing": "missing-item rule",
    "missing.rounding": "rounding of prorated totals",
    "bands": "severity bands",
    "caseness": "caseness cut-off",
    "remission": "remission cut-off",
    "reliable_change": "reliable change",
    "jacobson_truax": "Jacobson–Truax inputs",
}


def number(value: float) -> str:
    """A number without a needless ``.0``."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _items(ids: tuple[str, ...] | list[str]) -> str:
    return ("item " if len(ids) == 1 else "items ") + ", ".join(ids)


def unconfirmed_settings(instrument: measures.Instrument) -> list[str]:
    names = {s.id: s.name for s in instrument.subscales}
    out = []
    for key in instrument.unconfirmed():
        if key.startswith("subscales."):
            sub = key.removeprefix("subscales.")
            name = names.get(sub, sub)
            out.append(name if "subscale" in name.lower() else f"subscale {name}")
        else:
            out.append(_SETTING_NAMES.get(key, key.replace("_", " ").replace(".", ": ")))
    return out


def n_components(instrument: measures.Instrument) -> int:
    grouped = {m for g in instrument.scoring.groups for m in g.items}
    return len([i for i in instrument.scored_items if i.id not in grouped]) + len(instrument.scoring.groups)


def scoring_rule(instrument: measures.Instrument) -> list[str]:
    """The scoring rule as sentences: sum / groups by maximum / mean × k, reverse keying."""
    scoring = instrument.scoring
    n = n_components(instrument)
    lines = []
    if scoring.method == "sum":
        lines.append(f"The total is the sum of {n} components (each scored item, or group of items, counts once).")
    else:
        k = number(scoring.multiplier)
        lines.append(
            f"The total is the mean of the {n} components multiplied by {k}, given to {scoring.decimals} decimal places."
        )
    for group in scoring.groups:
        lines.append(f"{group.name} ({_items(group.items)}) counts once, by the highest value among its items.")
    reverse = [i.id for i in instrument.items if i.reverse]
    if reverse:
        lines.append(f"Reverse-keyed: {_items(reverse)} (a value v counts as minimum + maximum − v).")
    unscored = [i.id for i in instrument.items if not i.scored]
    if unscored:
        lines.append(f"Recorded but not scored: {_items(unscored)}.")
    lo, hi = scoring.score_range
    lines.append(f"Totals range from {number(lo)} to {number(hi)}.")
    return lines


def missing_rule(instrument: measures.Instrument) -> str:
    rule = instrument.missing
    if rule.rule == "none":
        return "Every item must be answered; with any item missing no total is calculated."
    rounding = (
        "rounded half up"
        + (f" to {instrument.scoring.decimals} decimal places" if instrument.scoring.decimals else " to a whole number")
        if rule.rounding == "half_up"
        else "not rounded"
    )
    return (
        f"Up to {rule.max_missing} of {n_components(instrument)} components may be missing: the total is prorated "
        f"(the mean of the answered components stands in for each missing one), {rounding}. "
        f"With more missing, no total is calculated."
    )


def rounding_unconfirmed(instrument: measures.Instrument) -> bool:
    return "missing.rounding" in instrument.unconfirmed()


def threshold(t: measures.Threshold) -> str:
    return f"{'at or above' if t.comparison == 'at_or_above' else 'at or below'} {number(t.value)}"


def components(instrument: measures.Instrument, ids: tuple[str, ...]) -> list[str]:
    """Component ids (items, or groups such as QIDS 'sleep') as names."""
    groups = {g.id: g.name for g in instrument.scoring.groups}
    return [groups.get(c, f"item {c}") for c in ids]
