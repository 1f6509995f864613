"""The progress chart spec (pure: no database)."""

from __future__ import annotations

import datetime as dt
import itertools
import json

from interpersonal.core import measures
from interpersonal.web.assessments.charts import Point, progress_spec

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
    assert layer(spec, "bands")["encoding"]["y"]["scale"]["domain"] == [0, 27]


def test_x_domain_covers_the_planned_sessions():
    spec = progress_spec(PHQ9, POINTS, planned_sessions=16)
    assert layer(spec, "totals")["encoding"]["x"]["scale"]["domain"] == [0, 16]


def test_caseness_rule_at_the_cut_off():
    caseness = layer(progress_spec(PHQ9, POINTS), "caseness")
    assert caseness["data"]["values"][0]["y"] == 10
    assert caseness["layer"][0]["mark"]["type"] == "rule"


def test_reliable_change_band_around_the_first_score():
    rc = layer(progress_spec(PHQ9, POINTS), "reliable_change")["data"]["values"][0]
    assert (rc["from"], rc["to"]) == (10, 22)


def test_reliable_change_band_is_clipped_to_the_range():
    rc = layer(progress_spec(PHQ9, [Point(x=1, total=25)]), "reliable_change")["data"]["values"][0]
    assert (rc["from"], rc["to"]) == (19, 27)


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
