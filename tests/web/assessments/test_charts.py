"""The progress chart spec (pure: no database)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest

from interpersonal.core import measures
from interpersonal.web.assessments.charts import BAND_COLOURS, Point, band_colours, change_of, describe, progress_spec

PHQ9 = measures.get("phq9")
POINTS = [
    Point(x=1, total=16, date=dt.date(2026, 10, 1), severity="Moderately severe", risk=True),
    Point(x=2, total=12, date=dt.date(2026, 10, 8), severity="Moderate"),
    Point(x=3, total=7, date=dt.date(2026, 10, 15), severity="Mild"),
]


def layer(spec, name):
    return next(layer for layer in spec["layer"] if layer.get("name") == name)


def test_spec_is_vega_lite_v5_with_a_description():
    spec = progress_spec(PHQ9, POINTS, planned_sessions=16)
    assert spec["$schema"].endswith("vega-lite/v5.json")
    assert "PHQ-9" in spec["description"]
    assert "16" in spec["description"]
    assert "7" in spec["description"]
    json.dumps(spec)  # serialisable as is


def test_severity_bands_tile_the_score_range():
    bands = layer(progress_spec(PHQ9, POINTS), "bands")["data"]["values"]
    assert [b["label"] for b in bands] == [b.label for b in PHQ9.bands]
    assert bands[0]["from"] == 0
    assert bands[-1]["to"] == 27
    assert all(a["to"] == b["from"] for a, b in itertools.pairwise(bands))


def test_y_domain_is_the_instrument_range():
    spec = progress_spec(PHQ9, POINTS)
    assert layer(spec, "totals")["encoding"]["y"]["scale"]["domain"] == [0, 27]
    assert layer(spec, "bands")["layer"][0]["encoding"]["y"]["scale"]["domain"] == [0, 27]


def test_x_domain_covers_the_planned_sessions():
    spec = progress_spec(PHQ9, POINTS, planned_sessions=16)
    assert layer(spec, "totals")["encoding"]["x"]["scale"]["domain"] == [0, 16]


def test_caseness_rule_at_the_cut_off():
    caseness = layer(progress_spec(PHQ9, POINTS), "caseness")
    assert caseness["data"]["values"][0]["y"] == 10
    assert caseness["layer"][0]["mark"]["type"] == "rule"


def test_reliable_change_lines_around_the_first_score():
    rc = layer(progress_spec(PHQ9, POINTS), "reliable_change")
    assert [v["y"] for v in rc["data"]["values"]] == [10, 22]  # 16 ± 6 (NHS Talking Therapies Manual)


def test_reliable_change_is_drawn_as_lines_that_do_not_tint_the_bands():
    rc = layer(progress_spec(PHQ9, POINTS), "reliable_change")
    marks = [sub["mark"] for sub in rc["layer"]]
    assert [m["type"] for m in marks] == ["rule", "text"]
    assert not any("fill" in m or "fillOpacity" in m or m["type"] == "rect" for m in marks)


def test_reliable_change_edge_beyond_the_range_is_left_out():
    rc = layer(progress_spec(PHQ9, [Point(x=1, total=25)]), "reliable_change")
    assert [v["y"] for v in rc["data"]["values"]] == [19]  # 25 + 6 is past the top (27)


def test_risk_markers_only_for_points_with_risk():
    risk = layer(progress_spec(PHQ9, POINTS), "risk")
    assert [v["session"] for v in risk["data"]["values"]] == [1]
    assert risk["mark"]["shape"] == "triangle-up"


def test_no_risk_layer_without_risk_and_no_rc_band_without_scores():
    spec = progress_spec(PHQ9, [Point(x=1, total=None)])
    names = {layer.get("name") for layer in spec["layer"]}
    assert "risk" not in names
    assert "reliable_change" not in names
    assert "no scored measures" in spec["description"]


def test_unscored_risk_point_is_marked_at_the_top():
    risk = layer(progress_spec(PHQ9, [Point(x=2, total=None, risk=True)]), "risk")
    assert risk["data"]["values"][0]["marker"] == 27


def test_instrument_without_caseness_has_no_rule():
    wsas = measures.get("wsas")
    names = {layer.get("name") for layer in progress_spec(wsas, [Point(x=1, total=20)])["layer"]}
    assert ("caseness" in names) == (wsas.caseness is not None)


def test_unanswered_risk_item_gets_its_own_outlined_marker_and_tooltip():
    points = [*POINTS, Point(x=4, total=9, risk_unanswered=("9",))]

    spec = progress_spec(PHQ9, points)

    unknown = layer(spec, "risk_unanswered")
    assert [v["session"] for v in unknown["data"]["values"]] == [4]
    assert unknown["mark"]["filled"] is False
    assert unknown["encoding"]["tooltip"][0] == {"value": "Risk item not answered: ask about it"}
    assert "Risk item not answered at session 4: ask about it." in spec["description"]
    assert [v["session"] for v in layer(spec, "risk")["data"]["values"]] == [1]


def test_no_unanswered_risk_layer_when_every_risk_item_was_answered():
    names = {layer.get("name") for layer in progress_spec(PHQ9, POINTS)["layer"]}

    assert "risk_unanswered" not in names


# -- read at a glance (issue 14) -----------------------------------------------------------------

WSAS = measures.get("wsas")


def test_bands_are_labelled_inside_the_plot():
    bands = layer(progress_spec(PHQ9, POINTS), "bands")
    text = bands["layer"][1]
    assert text["mark"]["type"] == "text"
    assert text["encoding"]["text"] == {"field": "label"}


def test_band_fills_are_distinct_and_the_most_severe_is_darkest():
    def lightness(hex_colour: str) -> float:  # relative luminance, WCAG 2.x
        rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    for instrument in measures.catalogue():
        fills = band_colours(len(instrument.bands))
        assert len(set(fills)) == len(fills), instrument.id
        assert fills[-1] == BAND_COLOURS[-1], instrument.id
        assert fills[0] == BAND_COLOURS[0], instrument.id
        assert [lightness(f) for f in fills] == sorted((lightness(f) for f in fills), reverse=True), instrument.id


def test_dark_band_text_meets_wcag_aa_on_every_fill():
    def luminance(hex_colour: str) -> float:
        rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    text = luminance("#1b1f24")
    assert all((luminance(f) + 0.05) / (text + 0.05) >= 4.5 for f in BAND_COLOURS)


def test_site_css_band_classes_use_the_chart_palette():
    css = (Path(__file__).parents[3] / "interpersonal/web/static/interpersonal/site.css").read_text()
    for n, fill in enumerate(BAND_COLOURS):
        assert f".band-{n} {{ background: {fill}; }}" in css


def test_wsas_10_to_23_is_a_reliable_deterioration():
    # WSAS criterion 13 (an unconfirmed service default: Jacobson & Truax 1991 from Mundt et al.
    # 2002's test-retest r = 0.73): 10 → 23 is 13 points worse.
    points = [Point(x=0, total=10), Point(x=2, total=15), Point(x=4, total=23)]
    spec = progress_spec(WSAS, points)
    flagged = layer(spec, "reliable_deterioration")
    assert flagged["data"]["values"][0]["session"] == 4
    assert "Reliable deterioration: 13 points worse" in spec["description"]
    assert change_of(WSAS, points).reliable == "deteriorated"


def test_one_point_less_than_the_criterion_is_not_flagged():
    points = [Point(x=0, total=10), Point(x=4, total=22)]
    spec = progress_spec(WSAS, points)
    assert "reliable_deterioration" not in {x.get("name") for x in spec["layer"]}
    assert "Reliable deterioration" not in spec["description"]


@pytest.mark.parametrize("instrument", [i for i in measures.catalogue() if i.reliable_change],
                         ids=lambda i: i.id)
def test_reliable_deterioration_is_flagged_on_every_measure_with_a_criterion(instrument):
    lo, hi = instrument.scoring.score_range
    rc = instrument.reliable_change.points
    worse = 1 if instrument.direction == measures.Direction.HIGHER_IS_WORSE else -1
    first = lo if worse == 1 else hi
    points = [Point(x=0, total=first), Point(x=3, total=first + worse * rc)]
    assert change_of(instrument, points).reliable == "deteriorated"
    assert "reliable_deterioration" in {x.get("name") for x in progress_spec(instrument, points)["layer"]}


def test_a_single_score_is_described_as_one_score():
    spec = progress_spec(PHQ9, [Point(x=0, total=17)])
    assert "one score so far, 17 (before treatment)" in spec["description"]
    assert "to 17" not in spec["description"]
    change = change_of(PHQ9, [Point(x=0, total=17)])
    assert change.single
    assert change.reliable is None


def test_two_scores_of_one_session_are_not_a_change():
    # core rules.first_and_last: two scores from one session are not a pair
    change = change_of(PHQ9, [Point(x=1, total=5), Point(x=1, total=20)])
    assert change.single
    assert change.reliable is None
    assert "2 scores from one session" in describe(PHQ9, [Point(x=1, total=5), Point(x=1, total=20)])
