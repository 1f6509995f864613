"""The dashboard's tables and charts, from ``service.report`` and ``service.funnel`` output.

One table definition serves the page and its CSV download, so the two cannot disagree.
Rates stay fractions here; templates show percentages, CSVs the raw fraction.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from interpersonal.core import protocols
from interpersonal.core.outcomes.service import Z_95, Z_998, control_limits

NAMES = ("metrics", "by_therapy", "by_month", "funnel")

# (key, label, national standard or None, what it is over)
METRICS: tuple[tuple[str, str, float | None, str], ...] = (
    ("recovery_rate", "Recovery", 0.50, "finished, paired, at caseness"),
    ("reliable_recovery_rate", "Reliable recovery", None, "finished, paired, at caseness"),
    ("reliable_improvement_rate", "Reliable improvement", None, "finished, paired"),
    ("reliable_deterioration_rate", "Reliable deterioration", None, "finished, paired"),
    ("waited_6_weeks_rate", "Waited ≤ 6 weeks for treatment", 0.75, "finished"),
    ("waited_18_weeks_rate", "Waited ≤ 18 weeks for treatment", 0.95, "finished"),
    ("attendance_rate", "Attendance", None, "treatment appointments"),
    ("dna_rate", "Did not attend", None, "treatment appointments"),
    ("unplanned_ending_rate", "Unplanned endings", None, "finished"),
)
GROUP_COLUMNS = ("finished", "finished_paired", "recovery_rate", "reliable_improvement_rate",
                 "reliable_deterioration_rate", "mean_sessions", "phq9_effect_size")
BENCHMARK_THERAPIES = ("dit", "ipt")
DIT_TRIAL = {
    "citation": "Fonagy et al. 2020, Psychological Medicine 50:1010–19 (DIT pilot trial)",
    "d": 0.70, "comparison": "DIT vs low-intensity treatment at 6 months, HRSD-17 (between groups)",
    "csc_dit": 0.51, "csc_lit": 0.09,
}


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def protocol_name(protocol_id: str) -> str:
    try:
        return protocols.get(protocol_id).name
    except Exception:  # an unknown id in old data: show it as stored
        return protocol_id


def met(value: float | None, standard: float | None) -> bool | None:
    return None if value is None or standard is None else value >= standard


def metric_rows(overall: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [{"key": k, "label": label, "value": overall.get(k), "standard": std, "over": over,
             "met": met(overall.get(k), std), "kind": "rate"} for k, label, std, over in METRICS]
    rows.append({"key": "mean_sessions", "label": "Sessions attended per finished course", "value": overall.get("mean_sessions"),
                 "standard": None, "over": "finished", "met": None, "kind": "number"})
    for m, name in (("phq9", "PHQ-9"), ("gad7", "GAD-7")):
        rows.append({"key": f"{m}_effect_size", "label": f"Pre–post effect size d, {name}",
                     "value": overall.get(f"{m}_effect_size"), "ci": (overall.get(f"{m}_effect_size_ci_low"),
                                                                     overall.get(f"{m}_effect_size_ci_high")),
                     "withheld": overall.get(f"{m}_effect_size_withheld"),
                     "standard": None, "over": "finished, paired", "met": None, "kind": "d"})
    return rows


def build(report: dict[str, Any], months: dict[str, Any], funnel: list[dict[str, Any]]) -> dict[str, Table]:
    overall = report["overall"]
    metrics = Table(("metric", "value", "ci_low", "ci_high", "national_standard", "standard_met", "over"), [
        (r["key"], r["value"], *(r.get("ci") or (None, None)), r["standard"], r["met"], r["over"])
        for r in metric_rows(overall)])
    by_therapy = Table(("therapy", *GROUP_COLUMNS),
                       [(t, *(g.get(c) for c in GROUP_COLUMNS)) for t, g in report["by_therapy"].items()])
    by_month = Table(("month", *GROUP_COLUMNS), [(m, *(g.get(c) for c in GROUP_COLUMNS)) for m, g in months.items()])
    funnel_columns = ("therapist_id", "therapist_name", "finished_eligible", "recovered", "rate", "mean",
                      "lower_95", "upper_95", "lower_998", "upper_998", "signal")
    funnel_table = Table(funnel_columns, [tuple(row.get(c) for c in funnel_columns) for row in funnel])
    return {"metrics": metrics, "by_therapy": by_therapy, "by_month": by_month, "funnel": funnel_table}


def benchmark(by_therapy: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"therapy": t, "name": protocol_name(t), "n": by_therapy.get(t, {}).get("finished_paired", 0),
             "recovery_rate": by_therapy.get(t, {}).get("recovery_rate"),
             "phq9_d": by_therapy.get(t, {}).get("phq9_effect_size"),
             "ci": (by_therapy.get(t, {}).get("phq9_effect_size_ci_low"), by_therapy.get(t, {}).get("phq9_effect_size_ci_high")),
             "withheld": by_therapy.get(t, {}).get("phq9_effect_size_withheld")}
            for t in BENCHMARK_THERAPIES]


# -- Vega-Lite ------------------------------------------------------------------------------

def spec_json(spec: dict[str, Any]) -> SafeString:
    """JSON safe inside <script type="application/json">: no '<', '>' or '&' survive."""
    text = json.dumps(spec, ensure_ascii=False, separators=(",", ":"))
    return mark_safe(text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026"))  # noqa: S308


def trend_spec(months: dict[str, Any]) -> dict[str, Any]:
    values = [{"month": m, "rate": g.get("recovery_rate"), "n": g.get("finished_paired")}
              for m, g in months.items() if g.get("recovery_rate") is not None]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json", "width": "container", "height": 220,
        "description": "Recovery rate by month of ending, with the national standard of 50%.",
        "layer": [
            {"data": {"values": values}, "mark": {"type": "line", "point": True},
             "encoding": {"x": {"field": "month", "type": "temporal", "timeUnit": "yearmonth", "title": "Month ended"},
                          "y": {"field": "rate", "type": "quantitative", "title": "Recovery rate",
                                "axis": {"format": "%"}, "scale": {"domain": [0, 1]}},
                          "tooltip": [{"field": "month"}, {"field": "rate", "format": ".0%"}, {"field": "n", "title": "Courses"}]}},
            {"data": {"values": [{"y": 0.5}]}, "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#b10e1e"},
             "encoding": {"y": {"field": "y", "type": "quantitative"}}},
        ],
    }


# -- The funnel plot: outliers marked and named, usable with hundreds of therapists ----------

WITHIN, ABOVE_95, ABOVE_998, BELOW_95, BELOW_998 = "within", "above_95", "above_998", "below_95", "below_998"
SIGNALS = {  # signal: (label, colour, shape) — colour AND shape, never colour alone
    ABOVE_998: ("Above the 99.8% limit", "#00703c", "triangle-up"),
    ABOVE_95: ("Above the 95% limit", "#5fa37a", "triangle-up"),
    WITHIN: ("Within the limits", "#8b9297", "circle"),
    BELOW_95: ("Below the 95% limit", "#d4800b", "triangle-down"),
    BELOW_998: ("Below the 99.8% limit", "#b10e1e", "triangle-down"),
}
LABELLED_MAX = 12
"""At most this many points carry a name on the plot (the furthest outside the 99.8% limits); every
point has a tooltip, and the list and table below name them all."""
FUNNEL_PAGE = 25
FUNNEL_SORTS = {  # query value: (column label, key function); "-" before the value reverses it
    "therapist": ("Therapist", lambda r: r["label"].casefold()),
    "n": ("Courses", lambda r: r["finished_eligible"]),
    "rate": ("Rate", lambda r: -1.0 if r["rate"] is None else r["rate"]),
    "signal": ("Signal", lambda r: -abs(r["z"]) if r["z"] is not None else 0.0),
}


def signal(row: dict[str, Any]) -> str | None:
    """Where a therapist's rate falls against the control limits at their n (None without a rate)."""
    rate = row["rate"]
    if rate is None or row["lower_95"] is None:
        return None
    if rate > row["upper_998"]:
        return ABOVE_998
    if rate < row["lower_998"]:
        return BELOW_998
    if rate > row["upper_95"]:
        return ABOVE_95
    if rate < row["lower_95"]:
        return BELOW_95
    return WITHIN


def _z(row: dict[str, Any]) -> float | None:
    """How far outside: (rate − mean) / the binomial SE at n (0 when the mean is 0 or 1)."""
    rate, mean, n = row["rate"], row["mean"], row["finished_eligible"]
    if rate is None or mean is None or not n:
        return None
    se = math.sqrt(mean * (1 - mean) / n)
    return (rate - mean) / se if se else 0.0


def funnel_rows(rows: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """The funnel's rows with ``therapist_name`` (for who may see names, else empty), ``label`` (the
    name or the pseudonymous id), ``signal`` and its ``signal_label``, and ``z``."""
    out = []
    for row in rows:
        s = signal(row)
        name = names.get(row["therapist_id"], "")
        label = name or ("No therapist yet" if row["therapist_id"] == "unknown" else row["therapist_id"])
        out.append({**row, "therapist_name": name, "label": label, "signal": s,
                    "signal_label": SIGNALS[s][0] if s else "—", "z": _z(row)})
    return out


def outliers(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The therapists outside each limit, furthest first: the text list beside the plot (outside the
    99.8% limits first; "outside the 95% limit" lists those not also outside the 99.8%)."""
    groups = [(ABOVE_998, "▲", "Above the 99.8% limit"), (BELOW_998, "▼", "Below the 99.8% limit"),
              (ABOVE_95, "△", "Above the 95% limit only"), (BELOW_95, "▽", "Below the 95% limit only")]
    ordered = sorted((r for r in rows if r["signal"] not in (None, WITHIN)), key=lambda r: -abs(r["z"] or 0))
    return [{"signal": key, "symbol": symbol, "label": label, "rows": [r for r in ordered if r["signal"] == key]}
            for key, symbol, label in groups]


def funnel_page(rows: list[dict[str, Any]], sort: str, page: int) -> dict[str, Any]:
    """One page of the funnel's table in the order asked for (``sort`` a key of FUNNEL_SORTS,
    "-" first to reverse; unknown values fall back to "signal")."""
    key = sort.lstrip("-")
    if key not in FUNNEL_SORTS:
        sort, key = "signal", "signal"
    ordered = sorted(rows, key=lambda r: (FUNNEL_SORTS[key][1](r), r["label"].casefold()), reverse=sort.startswith("-"))
    pages = max(1, math.ceil(len(ordered) / FUNNEL_PAGE))
    page = min(max(1, page), pages)
    columns = [{"key": k, "label": label, "current": key == k, "descending": sort.startswith("-"),
                "next": f"-{k}" if sort == k else k} for k, (label, _f) in FUNNEL_SORTS.items()]
    return {"rows": ordered[(page - 1) * FUNNEL_PAGE: page * FUNNEL_PAGE], "page": page, "pages": pages,
            "sort": sort, "columns": columns, "total": len(ordered), "first": (page - 1) * FUNNEL_PAGE + 1,
            "last": min(page * FUNNEL_PAGE, len(ordered))}


def funnel_spec(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The funnel plot: every therapist with a rate as a point coloured AND shaped by where it falls
    against the control limits (legend), a tooltip on every point, and a name beside only the
    points furthest outside the 99.8% limits (at most :data:`LABELLED_MAX`), so that hundreds of
    therapists never pile their labels on top of one another."""
    points = [{"therapist": r["label"], "n": r["finished_eligible"], "rate": r["rate"],
               "signal": SIGNALS[r["signal"]][0]} for r in rows if r["rate"] is not None and r["signal"]]
    labelled = sorted((r for r in rows if r["signal"] in (ABOVE_998, BELOW_998)), key=lambda r: -abs(r["z"] or 0))
    labels = [{"therapist": r["label"], "n": r["finished_eligible"], "rate": r["rate"],
               "above": r["signal"] == ABOVE_998} for r in labelled[:LABELLED_MAX]]
    mean = next((r["mean"] for r in rows if r["mean"] is not None), None)
    n_max = max([p["n"] for p in points] + [10])
    limits = []
    if mean is not None:
        for n in range(1, n_max + 1):
            lo95, hi95 = control_limits(mean, n, Z_95)
            lo998, hi998 = control_limits(mean, n, Z_998)
            limits += [{"n": n, "limit": v, "line": line} for v, line in
                       ((lo95, "95% lower"), (hi95, "95% upper"), (lo998, "99.8% lower"), (hi998, "99.8% upper"))]
    x = {"field": "n", "type": "quantitative", "title": "Finished courses at caseness", "scale": {"domain": [0, n_max]},
         "axis": {"tickMinStep": 1, "format": "d"}}
    y = {"type": "quantitative", "title": "Recovery rate", "axis": {"format": "%"}, "scale": {"domain": [0, 1]}}
    order = [SIGNALS[s][0] for s in (ABOVE_998, ABOVE_95, WITHIN, BELOW_95, BELOW_998)]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json", "width": "container", "height": 300,
        "description": "Funnel plot: each therapist's recovery rate against finished courses, with the service mean "
                       "and 95% and 99.8% control limits; points outside the limits are marked by colour and shape.",
        "layer": [
            {"data": {"values": limits}, "mark": {"type": "line", "strokeWidth": 1},
             "encoding": {"x": x, "y": {**y, "field": "limit"}, "detail": {"field": "line"},
                          "strokeDash": {"field": "line", "type": "nominal", "title": "Control limit",
                                         "scale": {"domain": ["95% lower", "95% upper", "99.8% lower", "99.8% upper"],
                                                   "range": [[4, 3], [4, 3], [1, 0], [1, 0]]}},
                          "color": {"value": "#505a5f"}}},
            {"data": {"values": [{"mean": mean}] if mean is not None else []}, "mark": {"type": "rule", "color": "#1d70b8"},
             "encoding": {"y": {**y, "field": "mean"}}},
            {"data": {"values": points}, "mark": {"type": "point", "filled": True, "size": 70, "opacity": 0.8},
             "encoding": {"x": x, "y": {**y, "field": "rate"},
                          "color": {"field": "signal", "type": "nominal", "title": "Against the limits",
                                    "scale": {"domain": order, "range": [SIGNALS[s][1] for s in (
                                        ABOVE_998, ABOVE_95, WITHIN, BELOW_95, BELOW_998)]},
                                    "legend": {"orient": "bottom", "columns": 2}},
                          "shape": {"field": "signal", "type": "nominal", "title": "Against the limits",
                                    "scale": {"domain": order, "range": [SIGNALS[s][2] for s in (
                                        ABOVE_998, ABOVE_95, WITHIN, BELOW_95, BELOW_998)]}},
                          "tooltip": [{"field": "therapist", "title": "Therapist"}, {"field": "n", "title": "Courses"},
                                      {"field": "rate", "format": ".0%", "title": "Recovery"},
                                      {"field": "signal", "title": "Against the limits"}]}},
            {"data": {"values": labels}, "mark": {"type": "text", "align": "left", "dx": 7, "fontSize": 11},
             "encoding": {"x": x, "y": {**y, "field": "rate"}, "text": {"field": "therapist"},
                          "color": {"value": "#0b0c0c"}}},
        ],
    }
