"""Progress charts as Vega-Lite v5 specs: one declarative spec for the screen (vega-embed)
and for paper (vl-convert, later). Pure functions of an instrument and its points; no Django.

A chart shows, bottom to top: the instrument's severity bands shaded across the plot, the
reliable-change band (first total ± the instrument's reliable-change points), the
caseness cut-off as a dashed rule, the totals as a line with points, a red triangle
at every point whose answers flagged risk, and an outlined red triangle at every point
where a risk item was left unanswered (unknown risk: the clinician should ask). The y scale is fixed to the instrument's score
range so charts of one measure compare at a glance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from interpersonal.core import measures

__all__ = ["BAND_COLOURS", "Point", "describe", "progress_spec"]

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"

BAND_COLOURS = ("#e3f1e6", "#f3f5d9", "#fdf0d2", "#fde0c8", "#f9d0d0", "#f4c0c8", "#e8b4c8")
"""Light fills from least to most severe (dark text on each meets WCAG AA)."""
RISK_COLOUR = "#a4161a"
LINE_COLOUR = "#1d4f7a"


@dataclass(frozen=True, slots=True)
class Point:
    """One recorded measure: ``x`` is the session number (0 = before treatment)."""

    x: int
    total: float | None
    date: dt.date | None = None
    severity: str = ""
    risk: bool = False
    risk_unanswered: tuple[str, ...] = ()
    """Ids of risk items left unanswered: the risk is unknown, not absent."""


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _bands(instrument: measures.Instrument) -> list[dict[str, Any]]:
    lo, hi = instrument.scoring.score_range
    bands = list(instrument.bands)
    colours = list(BAND_COLOURS[: len(bands)])
    if instrument.direction == measures.Direction.HIGHER_IS_BETTER:
        colours.reverse()
    out = []
    for i, band in enumerate(bands):
        top = bands[i + 1].min if i + 1 < len(bands) else hi
        out.append({"label": band.label, "from": lo if i == 0 else band.min, "to": top, "colour": colours[i],
                    "range": f"{_num(band.min)}–{_num(band.max)}"})
    return out


def describe(instrument: measures.Instrument, points: Sequence[Point]) -> str:
    """A sentence for screen readers: what the chart shows (the table beside it has the rest)."""
    scored = [p for p in points if p.total is not None]
    if not scored:
        return f"{instrument.abbreviation}: no scored measures yet."
    first, last = scored[0], scored[-1]
    lo, hi = instrument.scoring.score_range
    text = (
        f"{instrument.abbreviation} totals by session: {len(scored)} scored, from {_num(first.total)} "
        f"(session {first.x}) to {_num(last.total)} (session {last.x}), on a scale of {_num(lo)} to {_num(hi)}."
    )
    if instrument.caseness:
        text += f" Caseness cut-off {_num(instrument.caseness.value)}."
    risky = [p.x for p in points if p.risk]
    if risky:
        text += f" Risk flagged at session{'s' if len(risky) > 1 else ''} {', '.join(map(str, risky))}."
    unknown = [p.x for p in points if p.risk_unanswered]
    if unknown:
        text += (f" Risk item not answered at session{'s' if len(unknown) > 1 else ''} "
                 f"{', '.join(map(str, unknown))}: ask about it.")
    return text


def progress_spec(
    instrument: measures.Instrument, points: Iterable[Point], *, planned_sessions: int | None = None
) -> dict[str, Any]:
    """The Vega-Lite spec of one measure's totals across a course."""
    points = list(points)
    lo, hi = instrument.scoring.score_range
    last_x = max([p.x for p in points] + [planned_sessions or 0, 1])
    x_scale = {"domain": [0, last_x], "nice": False}
    y_scale = {"domain": [lo, hi], "nice": False, "zero": False}
    x_axis = {"title": "Session", "tickMinStep": 1, "format": "d"}
    y_title = f"{instrument.abbreviation} total"

    layers: list[dict[str, Any]] = []
    bands = _bands(instrument)
    if bands:
        layers.append({
            "name": "bands",
            "data": {"values": bands},
            "mark": {"type": "rect", "opacity": 0.9},
            "encoding": {
                "y": {"field": "from", "type": "quantitative", "scale": y_scale, "title": y_title},
                "y2": {"field": "to"},
                "color": {
                    "field": "label", "type": "nominal", "title": "Severity",
                    "scale": {"domain": [b["label"] for b in bands], "range": [b["colour"] for b in bands]},
                    "legend": {"orient": "bottom", "direction": "horizontal", "columns": 3, "symbolType": "square",
                               "symbolStrokeColor": "#4a5560", "symbolStrokeWidth": 0.5},
                },
                "tooltip": [{"field": "label", "title": "Severity"}, {"field": "range", "title": "Scores"}],
            },
        })
    scored = [p for p in points if p.total is not None]
    if instrument.reliable_change and scored:
        first = scored[0].total
        assert first is not None  # noqa: S101 - filtered above
        rc = instrument.reliable_change.points
        layers.append({
            "name": "reliable_change",
            "data": {"values": [{"from": max(lo, first - rc), "to": min(hi, first + rc),
                                 "label": f"Reliable change is {_num(rc)} points or more from the first score ({_num(first)}): "
                                          f"on or beyond this band's edges"}]},
            "layer": [
                # Outlined, not just tinted: over the coloured severity bands a faint fill alone
                # reads as a band of a different extent. The outline shows both edges.
                {"mark": {"type": "rect", "fill": LINE_COLOUR, "fillOpacity": 0.1, "stroke": LINE_COLOUR,
                          "strokeOpacity": 0.9, "strokeWidth": 1.5, "strokeDash": [5, 3]},
                 "encoding": {"y": {"field": "from", "type": "quantitative", "scale": y_scale},
                              "y2": {"field": "to"}, "tooltip": {"field": "label"}}},
                {"mark": {"type": "text", "align": "right", "baseline": "top", "dx": -4, "dy": 3, "fontSize": 11,
                          "color": LINE_COLOUR, "x": {"expr": "width"}},
                 "encoding": {"y": {"field": "to", "type": "quantitative", "scale": y_scale},
                              "text": {"value": f"reliable change ±{_num(rc)}"}}},
            ],
        })
    if instrument.caseness:
        layers.append({
            "name": "caseness",
            "data": {"values": [{"y": instrument.caseness.value,
                                 "label": f"Caseness cut-off: {_num(instrument.caseness.value)}"}]},
            "layer": [
                {"mark": {"type": "rule", "color": "#1b1f24", "strokeDash": [6, 4], "strokeWidth": 1.5},
                 "encoding": {"y": {"field": "y", "type": "quantitative", "scale": y_scale},
                              "tooltip": {"field": "label"}}},
                {"mark": {"type": "text", "align": "left", "baseline": "bottom", "dx": 4, "dy": -2, "fontSize": 11,
                          "color": "#1b1f24", "x": 0},
                 "encoding": {"y": {"field": "y", "type": "quantitative", "scale": y_scale},
                              "text": {"value": "caseness"}}},
            ],
        })
    values = [
        {"session": p.x, "total": p.total, "date": p.date.isoformat() if p.date else None,
         "severity": p.severity, "risk": p.risk,
         "risk_unanswered": ", ".join(f"item {i}" for i in p.risk_unanswered)}
        for p in points
    ]
    tooltip = [
        {"field": "session", "title": "Session"},
        {"field": "date", "title": "Date"},
        {"field": "total", "title": "Total"},
        {"field": "severity", "title": "Severity"},
    ]
    layers.append({
        "name": "totals",
        "data": {"values": [v for v in values if v["total"] is not None]},
        "mark": {"type": "line", "color": LINE_COLOUR, "strokeWidth": 2.5,
                 "point": {"filled": True, "fill": LINE_COLOUR, "size": 60}},
        "encoding": {
            "x": {"field": "session", "type": "quantitative", "scale": x_scale, "axis": x_axis},
            "y": {"field": "total", "type": "quantitative", "scale": y_scale, "title": y_title},
            "tooltip": tooltip,
        },
    })
    risk_values = [v | {"marker": v["total"] if v["total"] is not None else hi} for v in values if v["risk"]]
    if risk_values:
        layers.append({
            "name": "risk",
            "data": {"values": risk_values},
            "mark": {"type": "point", "shape": "triangle-up", "filled": True, "color": RISK_COLOUR, "size": 220,
                     "yOffset": -14, "stroke": "#ffffff", "strokeWidth": 1},
            "encoding": {
                "x": {"field": "session", "type": "quantitative", "scale": x_scale, "axis": x_axis},
                "y": {"field": "marker", "type": "quantitative", "scale": y_scale},
                "tooltip": [{"value": "Risk flagged"}, *tooltip],
            },
        })
    unknown_values = [v | {"marker": v["total"] if v["total"] is not None else hi} for v in values
                      if v["risk_unanswered"] and not v["risk"]]
    if unknown_values:
        layers.append({
            "name": "risk_unanswered",
            "data": {"values": unknown_values},
            "mark": {"type": "point", "shape": "triangle-up", "filled": False, "color": RISK_COLOUR, "size": 220,
                     "yOffset": -14, "strokeWidth": 2},
            "encoding": {
                "x": {"field": "session", "type": "quantitative", "scale": x_scale, "axis": x_axis},
                "y": {"field": "marker", "type": "quantitative", "scale": y_scale},
                "tooltip": [{"value": "Risk item not answered: ask about it"},
                            {"field": "risk_unanswered", "title": "Not answered"}, *tooltip],
            },
        })
    return {
        "$schema": SCHEMA,
        "description": describe(instrument, points),
        "title": {"text": f"{instrument.abbreviation} by session", "anchor": "start", "fontSize": 14},
        "width": "container",
        "height": 260,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "config": {"view": {"stroke": "#c9d0d6"}, "axis": {"labelFontSize": 12, "titleFontSize": 12},
                   "legend": {"labelFontSize": 12, "titleFontSize": 12}},
        "layer": layers,
    }
