"""Progress charts as Vega-Lite v5 specs: one declarative spec for the screen (vega-embed)
and for paper (vl-convert, later). Pure functions of an instrument and its points; no Django.

A chart shows, bottom to top: the instrument's severity bands shaded across the plot (fills
that differ in lightness as well as hue, each labelled with its name at the left edge), the
reliable-change band (first total ± the instrument's reliable-change points) drawn as two dashed
lines with no fill, so it never tints the bands beneath, the caseness cut-off as a dashed rule,
the totals as a line with points, a red triangle at every point whose answers flagged risk, an
outlined red triangle at every point where a risk item was left unanswered (unknown risk: the
clinician should ask), and a labelled red ring round the last score when it is a reliable
deterioration from the first. The y scale is fixed to the instrument's score range so charts of
one measure compare at a glance.

Reliable change is the core's one definition (:func:`interpersonal.core.outcomes.rules.reliable_change`:
direction-aware, the instrument's reliable-change points; Jacobson & Truax 1991), on the first
and last scores paired by :func:`interpersonal.core.outcomes.rules.first_and_last`, for every
instrument that defines a criterion.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from interpersonal.core import measures
from interpersonal.core.outcomes import rules as outcome_rules

__all__ = ["BAND_COLOURS", "Change", "Point", "band_colours", "change_of", "describe", "number", "progress_spec"]

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"

BAND_COLOURS = ("#ecf6ee", "#f1ea9d", "#f4d67c", "#f5bf81", "#eea88a", "#e4949b", "#d084aa")
"""Fills from least to most severe: a sequential scale that darkens in even steps of relative
luminance (0.90 to 0.33) as its hue runs green, yellow, orange, rose, so neighbouring bands stay
apart in greyscale and under deuteranopia (checked on a simulated screenshot); dark text (#1b1f24) on each meets WCAG AA (contrast ≥ 4.5:1). An instrument with
fewer bands takes colours spread evenly over the scale, so its most severe band is always the
darkest (:func:`band_colours`)."""
BAND_TEXT = "#1b1f24"
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


def number(value: float | None) -> str:
    """A number without a needless ``.0``; "—" for none."""
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


_num = number


def band_colours(n: int) -> list[str]:
    """``n`` fills spread evenly over :data:`BAND_COLOURS`, least severe first."""
    last = len(BAND_COLOURS) - 1
    if n <= 1:
        return list(BAND_COLOURS[:n])
    return [BAND_COLOURS[min(last, round(i * last / (n - 1)))] for i in range(n)]


def _bands(instrument: measures.Instrument) -> list[dict[str, Any]]:
    lo, hi = instrument.scoring.score_range
    bands = list(instrument.bands)
    colours = band_colours(len(bands))
    if instrument.direction == measures.Direction.HIGHER_IS_BETTER:
        colours.reverse()
    out = []
    for i, band in enumerate(bands):
        top = bands[i + 1].min if i + 1 < len(bands) else hi
        out.append({"label": band.label, "from": lo if i == 0 else band.min, "to": top, "colour": colours[i],
                    "range": f"{_num(band.min)}–{_num(band.max)}"})
    return out


@dataclass(frozen=True, slots=True)
class Change:
    """First and last scores of one measure and the reliable change between them."""

    first: Point
    last: Point
    paired: bool
    """The last score is from a later session than the first (core rules.first_and_last)."""
    reliable: str | None
    """"improved", "deteriorated", "no reliable change"; None when not paired or when the
    instrument defines no reliable-change criterion."""
    criterion: float | None
    """The instrument's reliable-change points (None: no criterion defined)."""

    @property
    def single(self) -> bool:
        """Only one score so far (or only scores of one session): show it as one score."""
        return not self.paired

    @property
    def difference(self) -> float:
        first, last = self.first.total, self.last.total
        assert first is not None  # noqa: S101 - change_of keeps scored points only
        assert last is not None  # noqa: S101 - likewise
        return last - first


def change_of(instrument: measures.Instrument, points: Sequence[Point]) -> Change | None:
    """The first and last scored points and the reliable change between them (None: no score)."""
    scored = [p for p in points if p.total is not None]
    if not scored:
        return None
    first, last = scored[0], scored[-1]
    pair = outcome_rules.first_and_last([(p.x, p.total) for p in scored])
    criterion = float(instrument.reliable_change.points) if instrument.reliable_change else None
    verdict = None
    if pair is not None and criterion is not None:
        verdict = outcome_rules.reliable_change(instrument.id, pair[0], pair[1])
        criterion = _criterion(instrument.id, criterion)
    return Change(first=first, last=last if pair is not None else first, paired=pair is not None,
                  reliable=verdict, criterion=criterion)


def _criterion(instrument_id: str, default: float) -> float:
    """The reliable-change points in force (a service's setting may replace the catalogue's)."""
    try:
        points = outcome_rules.current().measure(instrument_id).reliable_change
    except measures.MeasuresError:
        return default
    return default if points is None else points


def describe(instrument: measures.Instrument, points: Sequence[Point]) -> str:
    """A sentence for screen readers: what the chart shows (the table beside it has the rest)."""
    change = change_of(instrument, points)
    if change is None:
        return f"{instrument.abbreviation}: no scored measures yet."
    lo, hi = instrument.scoring.score_range
    n = sum(1 for p in points if p.total is not None)
    scale = f"on a scale of {_num(lo)} to {_num(hi)}"
    if change.single:
        at = f"session {change.first.x}" if change.first.x else "before treatment"
        text = (f"{instrument.abbreviation}: one score so far, {_num(change.first.total)} ({at}), {scale}."
                if n == 1 else
                f"{instrument.abbreviation}: {n} scores from one session ({at}), the last {_num(change.last.total)}, {scale}.")
    else:
        text = (
            f"{instrument.abbreviation} totals by session: {n} scored, from {_num(change.first.total)} "
            f"(session {change.first.x}) to {_num(change.last.total)} (session {change.last.x}), {scale}."
        )
    if instrument.caseness:
        text += f" Caseness cut-off {_num(instrument.caseness.value)}."
    if change.reliable == "deteriorated":
        text += (f" Reliable deterioration: {_num(abs(change.difference))} points worse than the first score "
                 f"(reliable change is {_num(change.criterion)} points or more).")
    elif change.reliable == "improved":
        text += f" Reliable improvement (reliable change is {_num(change.criterion)} points or more)."
    risky = [p.x for p in points if p.risk]
    if risky:
        text += f" Risk flagged at session{'s' if len(risky) > 1 else ''} {', '.join(map(str, risky))}."
    unknown = [p.x for p in points if p.risk_unanswered]
    if unknown:
        text += (f" Risk item not answered at session{'s' if len(unknown) > 1 else ''} "
                 f"{', '.join(map(str, unknown))}: ask about it.")
    return text


def progress_spec(
    instrument: measures.Instrument, points: Iterable[Point], *, planned_sessions: int | None = None,
    height: int = 260,
) -> dict[str, Any]:
    """The Vega-Lite spec of one measure's totals across a course (``height``: of the plot, in px)."""
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
            "layer": [
                {"mark": {"type": "rect", "opacity": 1, "stroke": "#ffffff", "strokeWidth": 1},
                 "encoding": {
                     "y": {"field": "from", "type": "quantitative", "scale": y_scale, "title": y_title},
                     "y2": {"field": "to"},
                     "color": {
                         "field": "label", "type": "nominal", "title": "Severity",
                         "scale": {"domain": [b["label"] for b in bands], "range": [b["colour"] for b in bands]},
                         "legend": {"orient": "bottom", "direction": "horizontal", "symbolType": "square",
                                    # long names (WSAS) one to a line, so they fit a 390 px phone
                                    "columns": 2 if max(len(b["label"]) for b in bands) <= 18 else 1,
                                    "symbolStrokeColor": "#4a5560", "symbolStrokeWidth": 0.5, "labelLimit": 300},
                     },
                     "tooltip": [{"field": "label", "title": "Severity"}, {"field": "range", "title": "Scores"}],
                 }},
                # Each band named inside it, at the left edge: the bands read without the legend
                # and without telling colours apart.
                {"mark": {"type": "text", "align": "left", "baseline": "top", "dx": 4, "dy": 2, "fontSize": 10,
                          "color": BAND_TEXT, "opacity": 0.85, "x": 0, "limit": 220},
                 "encoding": {"y": {"field": "to", "type": "quantitative", "scale": y_scale},
                              "text": {"field": "label"}}},
            ],
        })
    scored = [p for p in points if p.total is not None]
    if instrument.reliable_change and scored:
        first = scored[0].total
        assert first is not None  # noqa: S101 - filtered above
        rc = _criterion(instrument.id, float(instrument.reliable_change.points))
        label = (f"Reliable change is {_num(rc)} points or more from the first score ({_num(first)}): "
                 f"on or beyond these lines")
        edges = [{"y": y, "label": label} for y in (first - rc, first + rc) if lo <= y <= hi]
        if edges:
            layers.append({
                "name": "reliable_change",
                "data": {"values": edges},
                "layer": [
                    # Two dashed lines and no fill: a fill over the coloured severity bands would
                    # tint them and read as a band of its own.
                    {"mark": {"type": "rule", "color": LINE_COLOUR, "strokeWidth": 1.5, "strokeDash": [2, 3]},
                     "encoding": {"y": {"field": "y", "type": "quantitative", "scale": y_scale},
                                  "tooltip": {"field": "label"}}},
                    {"mark": {"type": "text", "align": "right", "baseline": "bottom", "dx": -4, "dy": -2, "fontSize": 10,
                              "color": LINE_COLOUR, "x": {"expr": "width"}},
                     "encoding": {"y": {"field": "y", "type": "quantitative", "scale": y_scale},
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
    change = change_of(instrument, points)
    if change is not None and change.reliable == "deteriorated":
        last = change.last
        layers.append({
            "name": "reliable_deterioration",
            "data": {"values": [{"session": last.x, "total": last.total,
                                 "label": f"Reliable deterioration: {_num(abs(change.difference))} points worse "
                                          f"than the first score"}]},
            "layer": [
                # A white halo under the ring and the words keeps them legible on the darkest band.
                {"mark": {"type": "point", "shape": "circle", "filled": False, "color": "#ffffff", "size": 420,
                          "strokeWidth": 5.5},
                 "encoding": {"x": {"field": "session", "type": "quantitative", "scale": x_scale, "axis": x_axis},
                              "y": {"field": "total", "type": "quantitative", "scale": y_scale}}},
                {"mark": {"type": "point", "shape": "circle", "filled": False, "color": RISK_COLOUR, "size": 420,
                          "strokeWidth": 2.5},
                 "encoding": {"x": {"field": "session", "type": "quantitative", "scale": x_scale, "axis": x_axis},
                              "y": {"field": "total", "type": "quantitative", "scale": y_scale},
                              "tooltip": {"field": "label"}}},
                {"mark": {"type": "text", "align": "right", "baseline": "bottom", "dx": -10, "dy": -12, "fontSize": 11,
                          "fontWeight": "bold", "color": "#ffffff", "stroke": "#ffffff", "strokeWidth": 4,
                          "strokeJoin": "round"},
                 "encoding": {"x": {"field": "session", "type": "quantitative", "scale": x_scale},
                              "y": {"field": "total", "type": "quantitative", "scale": y_scale},
                              "text": {"value": "reliable deterioration"}}},
                {"mark": {"type": "text", "align": "right", "baseline": "bottom", "dx": -10, "dy": -12, "fontSize": 11,
                          "fontWeight": "bold", "color": RISK_COLOUR},
                 "encoding": {"x": {"field": "session", "type": "quantitative", "scale": x_scale},
                              "y": {"field": "total", "type": "quantitative", "scale": y_scale},
                              "text": {"value": "reliable deterioration"}}},
            ],
        })
    return {
        "$schema": SCHEMA,
        "description": describe(instrument, points),
        "title": {"text": f"{instrument.abbreviation} by session", "anchor": "start", "fontSize": 14},
        "width": "container",
        "height": height,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "config": {"view": {"stroke": "#c9d0d6"}, "axis": {"labelFontSize": 12, "titleFontSize": 12},
                   "legend": {"labelFontSize": 12, "titleFontSize": 12}},
        "layer": layers,
    }
