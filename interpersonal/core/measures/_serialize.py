"""Plain-data views of instruments, for JSON output (CLI, web, API)."""

from __future__ import annotations

from typing import Any

from ._model import Instrument, Sourced


def _sourced(s: Sourced | None) -> dict[str, Any] | None:
    return None if s is None else {"source": s.source, "confirmed": s.confirmed}


def instrument_dict(inst: Instrument) -> dict[str, Any]:
    """Everything a definition says, as JSON-ready data (no item text where the licence forbids it)."""
    sc = inst.scoring
    return {
        "id": inst.id,
        "name": inst.name,
        "abbreviation": inst.abbreviation,
        "version": inst.version,
        "construct": inst.construct,
        "respondent": inst.respondent.value,
        "recall_period": inst.recall_period,
        "instructions": inst.instructions,
        "citation": inst.citation,
        "licence": {"name": inst.licence.name, "item_text": inst.licence.item_text, "url": inst.licence.url, "notes": inst.licence.notes},
        "codes": {"loinc": inst.codes.loinc, "loinc_total": inst.codes.loinc_total, "snomed_total": inst.codes.snomed_total},
        "direction": inst.direction.value,
        "items": [
            {
                "id": it.id,
                "text": it.text,
                "scored": it.scored,
                "reverse": it.reverse,
                "loinc": it.loinc,
                "note": it.note,
                "options": [{"value": o.value, "label": o.label, "loinc": o.loinc} for o in it.options],
                "variants": [
                    {"id": v.id, "name": v.name, "options": [{"value": o.value, "label": o.label} for o in v.options]}
                    for v in it.variants
                ],
            }
            for it in inst.items
        ],
        "scoring": {
            "method": sc.method,
            "range": list(sc.score_range),
            "groups": [{"id": g.id, "name": g.name, "items": list(g.items)} for g in sc.groups],
            "multiplier": sc.multiplier,
            "decimals": sc.decimals,
        },
        "missing": {
            "rule": inst.missing.rule,
            "max_missing": inst.missing.max_missing,
            "rounding": inst.missing.rounding,
            "rounding_confirmed": inst.missing.rounding_confirmed,
            **(_sourced(inst.missing.sourced) or {}),
        },
        "bands": [{"min": b.min, "max": b.max, "label": b.label} for b in inst.bands],
        "bands_source": _sourced(inst.bands_sourced),
        "caseness": None if inst.caseness is None else {inst.caseness.comparison: inst.caseness.value, **(_sourced(inst.caseness.sourced) or {})},
        "remission": None if inst.remission is None else {inst.remission.comparison: inst.remission.value, **(_sourced(inst.remission.sourced) or {})},
        "reliable_change": None if inst.reliable_change is None else {"points": inst.reliable_change.points, **(_sourced(inst.reliable_change.sourced) or {})},
        "jacobson_truax": None if inst.jacobson_truax is None else {
            "sd": inst.jacobson_truax.sd,
            "reliability": inst.jacobson_truax.reliability,
            "cutoff": inst.jacobson_truax.cutoff,
            "s_diff": round(inst.jacobson_truax.s_diff, 4),
            **(_sourced(inst.jacobson_truax.sourced) or {}),
        },
        "risk": [{"item": r.item, "at_or_above": r.at_or_above, "label": r.label} for r in inst.risk],
        "subscales": [{"id": s.id, "name": s.name, "items": list(s.items), **(_sourced(s.sourced) or {})} for s in inst.subscales],
        "unconfirmed": list(inst.unconfirmed()),
        "source_file": inst.source_file,
    }


def scoring_summary(inst: Instrument) -> str:
    """The scoring rule in words."""
    sc = inst.scoring
    scored = [i for i in inst.items if i.scored]
    grouped = {m for g in sc.groups for m in g.items}
    parts = []
    if sc.method == "sum":
        singles = [i.id for i in scored if i.id not in grouped]
        parts.append(f"Sum of items {_ids(singles)}" if singles else "Sum")
        parts.extend(f"plus {g.name.split(' (')[0].lower()}: the highest of items {_ids(list(g.items))}" for g in sc.groups)
    else:
        parts.append(f"Mean of the answered items x {sc.multiplier:g}")
    reverse = [i.id for i in scored if i.reverse]
    if reverse:
        parts.append(f"items {_ids(reverse)} reverse-keyed")
    unscored = [i.id for i in inst.items if not i.scored]
    if unscored:
        parts.append(f"item {_ids(unscored)} recorded, not scored")
    return "; ".join(parts) + f". Range {sc.score_range[0]}-{sc.score_range[1]}."


def missing_summary(inst: Instrument) -> str:
    m = inst.missing
    if m.rule == "none":
        return "Every scored item must be answered; otherwise not scored."
    rounding = "rounded to the nearest whole number, halves up" if m.rounding == "half_up" else "not rounded"
    return (
        f"Up to {m.max_missing} missing: the mean of the answered items replaces each missing one "
        f"(total prorated, {rounding}); more missing: not scored."
    )


def _ids(ids: list[str]) -> str:
    return ", ".join(ids)
