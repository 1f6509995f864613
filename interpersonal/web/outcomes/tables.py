"""The dashboard's tables and charts, from ``service.report`` and ``service.funnel`` output.

One table definition serves the page and its CSV download, so the two cannot disagree.
Rates stay fractions here; templates show percentages, CSVs the raw fraction.
"""

from __future__ import annotations

import json
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
    funnel_columns = ("therapist_id", "finished_eligible", "recovered", "rate", "mean",
                      "lower_95", "upper_95", "lower_998", "upper_998")
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


def funnel_spec(rows: list[dict[str, Any]]) -> dict[str, Any]:
    points = [{"therapist": r["therapist_id"], "n": r["finished_eligible"], "rate": r["rate"]}
              for r in rows if r["rate"] is not None]
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
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json", "width": "container", "height": 260,
        "description": "Funnel plot: each therapist's recovery rate against finished courses, with the service mean "
                       "and 95% and 99.8% control limits.",
        "layer": [
            {"data": {"values": limits}, "mark": {"type": "line", "strokeWidth": 1},
             "encoding": {"x": x, "y": {**y, "field": "limit"}, "detail": {"field": "line"},
                          "strokeDash": {"field": "line", "type": "nominal", "title": "Control limit",
                                         "scale": {"domain": ["95% lower", "95% upper", "99.8% lower", "99.8% upper"],
                                                   "range": [[4, 3], [4, 3], [1, 0], [1, 0]]}},
                          "color": {"value": "#505a5f"}}},
            {"data": {"values": [{"mean": mean}] if mean is not None else []}, "mark": {"type": "rule", "color": "#1d70b8"},
             "encoding": {"y": {**y, "field": "mean"}}},
            {"data": {"values": points}, "mark": {"type": "point", "filled": True, "size": 60, "color": "#0b0c0c"},
             "encoding": {"x": x, "y": {**y, "field": "rate"},
                          "tooltip": [{"field": "therapist"}, {"field": "n", "title": "Courses"},
                                      {"field": "rate", "format": ".0%"}]}},
        ],
    }
