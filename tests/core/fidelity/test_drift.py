"""Rater drift (interpersonal/core/fidelity/drift.py), on simulated panels.

Simulated panel: each recording has a true quality ~ N(0, 1) on the rating scale; each rater
adds independent noise ~ N(0, 0.5²); a drifting rater adds a constant bias. The thresholds are
the module's defaults (0.5 panel SD, 5 shared targets), which are service settings, not
published values; the rates asserted below are what those defaults give, measured over seeds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from interpersonal.core.fidelity import drift
from interpersonal.core.fidelity.errors import RatingsError


def panel(seed: int, *, bias: float = 0.0, targets: int = 20, raters: str = "ABCD", biased: str = "D",
          overlap: float = 1.0) -> list[drift.Rating]:
    """Every target rated by ``biased``; each other rater rates it with probability ``overlap``."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(targets):
        truth = rng.normal(0, 1)
        for rater in raters:
            noise = rng.normal(0, 0.5)
            if rater != biased and rng.random() >= overlap:
                continue
            rows.append(drift.Rating(f"T{t}", rater, float(truth + noise + (bias if rater == biased else 0.0))))
    return rows


def by_rater(rows, settings=None):
    return {d.rater: d for d in drift.assess(rows, settings)}


def test_no_rater_is_flagged_in_an_unbiased_panel_at_a_false_alarm_rate_under_one_percent():
    seeds = range(300)
    flags = sum(d.flagged for s in seeds for d in drift.assess(panel(s)))

    # 300 panels × 4 raters = 1200 judgements; observed 0 with these defaults.
    assert flags / 1200 <= 0.01


def test_a_biased_rater_is_flagged_and_the_others_rarely_are():
    # Bias 0.8 points ≈ 0.7 panel SD (panel SD ≈ √(1 + 0.25 + bias spread) ≈ 1.15).
    seeds = range(300)
    results = [by_rater(panel(s, bias=0.8)) for s in seeds]

    power = sum(r["D"].flagged for r in results) / len(results)
    false_alarms = sum(r[x].flagged for r in results for x in "ABC") / (3 * len(results))

    assert power >= 0.88  # observed 0.94 over 500 seeds
    # The unbiased raters are compared with a mean that includes D, which pulls them by −0.8/3:
    # the known cost of a leave-one-out reference (docs/fidelity.md); observed 1.7%.
    assert false_alarms <= 0.04
    assert all(r["D"].difference > 0 for r in results if r["D"].flagged)


def test_an_unbalanced_panel_is_assessed_on_the_targets_each_rater_shares():
    rows = panel(7, bias=1.5, targets=40, overlap=0.5)

    result = by_rater(rows)

    assert result["D"].n_shared == 40 - sum(
        1 for t in {r.target for r in rows} if [r.rater for r in rows if r.target == t] == ["D"])
    assert result["D"].flagged
    assert all(result[x].n_shared < 40 for x in "ABC")


def test_a_large_bias_on_too_few_shared_targets_is_never_flagged():
    rows = panel(3, bias=5.0, targets=4)

    result = by_rater(rows)

    assert {d.status for d in result.values()} == {drift.NOT_ENOUGH}
    assert result["D"].difference == pytest.approx(5.0, abs=1.5)
    assert not result["D"].flagged


def test_exactly_the_minimum_of_shared_targets_is_assessed():
    assert by_rater(panel(3, bias=5.0, targets=5))["D"].status == drift.DRIFT
    assert by_rater(panel(3, bias=5.0, targets=5), drift.DriftSettings(min_shared=6))["D"].status == drift.NOT_ENOUGH


def test_a_real_but_trivial_offset_is_not_flagged():
    # 400 shared targets make the CI of a 0.1-point offset exclude 0; 0.1 is far below 0.5 SD.
    result = by_rater(panel(11, bias=0.1, targets=400))["D"]

    assert result.ci95[0] > 0
    assert abs(result.difference) < result.threshold
    assert result.status == drift.NO_DRIFT


def test_threshold_in_scale_points_replaces_the_sd_rule():
    rows = panel(11, bias=0.1, targets=400)

    result = by_rater(rows, drift.DriftSettings(threshold_points=0.05))["D"]

    assert result.threshold == 0.05
    assert result.status == drift.DRIFT


def test_difference_and_interval_are_the_leave_one_out_mean_and_student_t():
    # Rater C rates 1 point above A and B on targets 1–3 and 2 above on targets 4–5.
    rows = [drift.Rating(f"T{t}", r, v)
            for t, (a, b, c) in enumerate([(1, 1, 2), (2, 2, 3), (3, 3, 4), (4, 4, 6), (5, 5, 7)], start=1)
            for r, v in zip("ABC", (a, b, c), strict=True)]
    diffs = [1, 1, 1, 2, 2]
    mean = sum(diffs) / 5
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / 4)
    half = 2.7764451051977987 * sd / math.sqrt(5)  # t(0.975, 4 df), standard tables

    c = by_rater(rows)["C"]

    assert c.n_shared == 5
    assert c.difference == pytest.approx(1.4)
    assert c.ci95 == pytest.approx((mean - half, mean + half))
    assert c.difference_sd == pytest.approx(1.4 / c.panel_sd)


def test_a_repeated_pair_and_a_non_finite_rating_are_refused():
    with pytest.raises(RatingsError, match="target T1 is rated more than once by rater A"):
        drift.assess([drift.Rating("T1", "A", 1), drift.Rating("T1", "A", 2)])
    with pytest.raises(RatingsError, match="not a finite number"):
        drift.assess([drift.Rating("T1", "A", math.nan)])


@pytest.mark.parametrize("kwargs", [{"min_shared": 1}, {"min_shared": True}, {"threshold_sd": -1},
                                    {"threshold_sd": math.inf}, {"threshold_points": -0.1}])
def test_settings_out_of_bounds_are_refused(kwargs):
    with pytest.raises(RatingsError):
        drift.DriftSettings(**kwargs)


def test_a_rater_with_no_shared_target_has_no_difference():
    rows = [drift.Rating("T1", "A", 1), drift.Rating("T1", "B", 2), drift.Rating("T2", "C", 3)]

    c = by_rater(rows)["C"]

    assert (c.n_shared, c.difference, c.ci95, c.status) == (0, None, None, drift.NOT_ENOUGH)


def test_module_docstring_example_runs():
    import doctest

    failures, tried = doctest.testmod(drift)
    assert (failures, tried > 0) == (0, True)
