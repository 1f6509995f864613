"""The funnel plot and its table: outliers marked by colour AND shape and listed in words, labels
only on the furthest outliers, usable with hundreds of therapists (issue 13)."""

from __future__ import annotations

import random

from interpersonal.core.outcomes.service import Z_95, Z_998, control_limits
from interpersonal.web.outcomes import tables


def _row(tid: str, n: int, recovered: int, mean: float = 0.5) -> dict:
    row = {"therapist_id": tid, "finished_eligible": n, "recovered": recovered, "rate": recovered / n if n else None,
           "mean": mean}
    for label, z in (("95", Z_95), ("998", Z_998)):
        row[f"lower_{label}"], row[f"upper_{label}"] = control_limits(mean, n, z) if n else (None, None)
    return row


def _service(therapists: int, seed: int = 1) -> list[dict]:
    """A service whose therapists recover about half their patients, a few far better or worse."""
    rng = random.Random(seed)  # noqa: S311 - test data
    rows = []
    for i in range(therapists):
        n = rng.randint(0, 40)
        p = 0.95 if i % 23 == 0 else 0.05 if i % 29 == 0 else 0.5
        rows.append(_row(f"T{i + 1}", n, sum(rng.random() < p for _ in range(n))))
    return tables.funnel_rows(rows, {})


def test_signal_places_a_rate_against_the_limits_at_its_n():
    # p = 0.5, n = 100: 95% limits 0.402–0.598, 99.8% limits 0.3455–0.6545 (p ± z·sqrt(p(1 − p)/n)).
    assert tables.signal(_row("T1", 100, 50)) == tables.WITHIN
    assert tables.signal(_row("T1", 100, 62)) == tables.ABOVE_95
    assert tables.signal(_row("T1", 100, 66)) == tables.ABOVE_998
    assert tables.signal(_row("T1", 100, 38)) == tables.BELOW_95
    assert tables.signal(_row("T1", 100, 34)) == tables.BELOW_998
    assert tables.signal(_row("T1", 0, 0)) is None


def test_outliers_are_marked_by_colour_and_shape_not_colour_alone():
    spec = tables.funnel_spec(_service(60))
    points = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "point")

    colour, shape = points["encoding"]["color"], points["encoding"]["shape"]
    assert colour["field"] == shape["field"] == "signal"
    assert len(set(shape["scale"]["range"])) == 3  # circle, triangle up, triangle down
    assert dict(zip(shape["scale"]["domain"], shape["scale"]["range"], strict=True))["Above the 99.8% limit"] == "triangle-up"
    assert {t["field"] for t in points["encoding"]["tooltip"]} == {"therapist", "n", "rate", "signal"}


def test_with_500_therapists_every_point_is_drawn_but_only_the_furthest_outliers_are_named():
    rows = _service(500)
    spec = tables.funnel_spec(rows)
    points = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "point")["data"]["values"]
    labels = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "text")["data"]["values"]

    assert len(points) == sum(1 for r in rows if r["rate"] is not None)
    outside_998 = [r for r in rows if r["signal"] in (tables.ABOVE_998, tables.BELOW_998)]
    assert len(outside_998) > tables.LABELLED_MAX  # the cap matters here
    assert len(labels) == tables.LABELLED_MAX
    furthest = sorted(outside_998, key=lambda r: -abs(r["z"]))[: tables.LABELLED_MAX]
    assert {label["therapist"] for label in labels} == {r["label"] for r in furthest}


def test_the_text_list_names_every_therapist_outside_each_limit():
    rows = _service(500)
    listed = {group["signal"]: [r["therapist_id"] for r in group["rows"]] for group in tables.outliers(rows)}

    for signal in (tables.ABOVE_998, tables.BELOW_998, tables.ABOVE_95, tables.BELOW_95):
        assert sorted(listed[signal]) == sorted(r["therapist_id"] for r in rows if r["signal"] == signal)


def test_the_table_is_paged_and_sorted():
    rows = _service(500)

    first = tables.funnel_page(rows, "signal", 1)
    by_rate = tables.funnel_page(rows, "-rate", 2)
    past_the_end = tables.funnel_page(rows, "n", 999)
    unknown = tables.funnel_page(rows, "name; DROP TABLE", 1)

    assert (len(first["rows"]), first["pages"], first["total"]) == (tables.FUNNEL_PAGE, 20, 500)
    zs = [abs(r["z"] or 0) for r in first["rows"]]
    assert zs == sorted(zs, reverse=True)  # furthest outside first
    rates = [r["rate"] for r in by_rate["rows"]]
    assert rates == sorted(rates, reverse=True)
    assert by_rate["first"] == tables.FUNNEL_PAGE + 1
    assert past_the_end["page"] == 20
    assert unknown["sort"] == "signal"


def test_names_replace_pseudonymous_ids_only_when_given():
    rows = [_row("T7", 10, 5), _row("unknown", 0, 0)]

    named = tables.funnel_rows(rows, {"T7": "Tess Therapist (T7)"})
    plain = tables.funnel_rows(rows, {})

    assert [r["label"] for r in named] == ["Tess Therapist (T7)", "No therapist yet"]
    assert [r["label"] for r in plain] == ["T7", "No therapist yet"]
    assert plain[0]["therapist_name"] == ""
