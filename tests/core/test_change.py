"""Change statistics against hand calculation.

Jacobson NS, Truax P. Clinical significance: a statistical approach to defining meaningful change
in psychotherapy research. J Consult Clin Psychol. 1991;59(1):12-19:
  S_diff = SD_pre · √2 · √(1 − r);  RCI = (x_post − x_pre) / S_diff, reliable if |RCI| > 1.96;
  c = (SD_clin · M_norm + SD_norm · M_clin) / (SD_clin + SD_norm);
  recovered = reliably improved AND moved from the dysfunctional side of c to the functional side.
Points criteria (NHS Talking Therapies Manual): PHQ-9 6 points, GAD-7 4 points. Response: at
least a 50% reduction from baseline; remission PHQ-9 ≤ 4, HRSD-17 ≤ 7 (DOMAIN.md §4).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from interpersonal.core import change as stats
from interpersonal.core import measures

# --- formulas -----------------------------------------------------------------------------------


def test_s_diff_hand_calculation() -> None:
    # 5.98 × 1.414214 × √0.11 (0.331662) = 2.804869
    assert stats.s_diff(5.98, 0.89) == pytest.approx(2.804869, abs=1e-6)


def test_s_diff_equals_sqrt_two_standard_errors_squared() -> None:
    """J&T 1991: S_diff = √(2 · SE²), SE = SD · √(1 − r)."""
    se = 7.5 * math.sqrt(1 - 0.88)

    assert stats.s_diff(7.5, 0.88) == pytest.approx(math.sqrt(2 * se**2))


@pytest.mark.parametrize(("sd", "reliability"), [(0, 0.8), (-1, 0.8), (5, 0), (5, 1), (5, 1.2)])
def test_s_diff_rejects_impossible_inputs(sd: float, reliability: float) -> None:
    with pytest.raises(ValueError, match="sd must be positive"):
        stats.s_diff(sd, reliability)


def test_rci_hand_calculation_negative_is_a_fall() -> None:
    # (10 − 20) / 2.804869 = −3.565229
    assert stats.rci(20, 10, 5.98, 0.89) == pytest.approx(-3.565229, abs=1e-6)
    assert stats.rci(10, 20, 5.98, 0.89) == pytest.approx(3.565229, abs=1e-6)


def test_criterion_c_hand_calculation() -> None:
    # (5 · 5 + 4 · 20) / (5 + 4) = 105 / 9 = 11.6667
    c = stats.criterion_c(clinical_mean=20, clinical_sd=5, normal_mean=5, normal_sd=4)

    assert c == pytest.approx(105 / 9)


def test_criterion_c_equal_sds_is_midpoint() -> None:
    assert stats.criterion_c(clinical_mean=20, clinical_sd=6, normal_mean=4, normal_sd=6) == pytest.approx(12)


# --- Jacobson–Truax categories (PHQ-9 defaults: SD 5.98, r .89, cut-off 10) ------------------------

JT = {"sd": 5.98, "reliability": 0.89, "cutoff": 10}


@pytest.mark.parametrize(
    ("before", "after", "category"),
    [
        (16, 9, "recovered"),  # 7 points (RCI −2.50), 16 ≥ 10 to 9 < 10
        (10, 4, "recovered"),  # at the cut-off is the dysfunctional side
        (16, 10, "improved"),  # reliable (−2.14) but ends at the cut-off, not below it
        (9, 3, "improved"),  # reliable but already functional at the start
        (12, 8, "unchanged"),  # crosses the cut-off but 4 points is not reliable (−1.43)
        (15, 10, "unchanged"),  # 5 points: RCI −1.78
        (5, 11, "deteriorated"),
        (10, 10, "unchanged"),
    ],
)
def test_jacobson_truax_category(before: int, after: int, category: str) -> None:
    assert stats.jacobson_truax_category(before, after, **JT) == category


def test_jacobson_truax_rci_exactly_at_critical_value_is_not_reliable() -> None:
    # sd 1, r .5 → S_diff = 1; a change of 1.96 has |RCI| = 1.96, which does not exceed 1.96.
    assert stats.jacobson_truax_category(5, 3.04, sd=1, reliability=0.5, cutoff=4) == "unchanged"
    assert stats.jacobson_truax_category(5, 3.03, sd=1, reliability=0.5, cutoff=4) == "recovered"


def test_jacobson_truax_higher_is_better_recovers_upwards() -> None:
    assert stats.jacobson_truax_category(10, 20, sd=5, reliability=0.8, cutoff=15, higher_is_worse=False) == "recovered"
    assert (
        stats.jacobson_truax_category(20, 10, sd=5, reliability=0.8, cutoff=15, higher_is_worse=False) == "deteriorated"
    )


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [(20, 10, True), (20, 10.2, False), (27, 14, False), (10, 5, True), (10, 0, True), (10, 12, False), (0, 0, None)],
)
def test_response_is_at_least_half_reduction(before: float, after: float, expected: bool | None) -> None:
    assert stats.response(before, after) is expected


# --- measures.change: PHQ-9 / GAD-7 points criteria -------------------------------------------------


@pytest.mark.parametrize(
    ("instrument_id", "before", "after", "direction"),
    [
        ("phq9", 16, 10, "improved"),  # exactly 6
        ("phq9", 16, 11, "no reliable change"),  # 5
        ("phq9", 10, 16, "deteriorated"),
        ("phq9", 10, 15, "no reliable change"),
        ("gad7", 12, 8, "improved"),  # exactly 4
        ("gad7", 12, 9, "no reliable change"),  # 3
        ("gad7", 8, 12, "deteriorated"),
        ("core10", 20, 14, "improved"),  # Barkham et al. 2013: 6
        ("core10", 20, 15, "no reliable change"),
    ],
)
def test_reliable_change_by_points(instrument_id: str, before: int, after: int, direction: str) -> None:
    result = measures.change_totals(instrument_id, before, after)

    assert result.reliable_change == direction
    assert result.difference == after - before


def test_phq9_change_from_answer_sets() -> None:
    before = {str(i): 2 for i in range(1, 10)}  # 18
    after = {str(i): 1 for i in range(1, 10)}  # 9

    result = measures.change("phq9", before, after)

    assert result.before.total == 18
    assert result.after.total == 9
    assert result.difference == -9
    assert result.reliable_change == "improved"
    assert result.rci == pytest.approx(-9 / 2.804869, abs=1e-4)
    assert result.jacobson_truax == "recovered"
    assert result.response is True  # 50% exactly
    assert result.remission is False  # 9 > 4


def test_phq9_change_from_scores() -> None:
    before = measures.score("phq9", {str(i): 2 for i in range(1, 10)})
    after = measures.score("phq9", {str(i): 1 for i in range(1, 10)})

    assert measures.change("phq9", before, after) == measures.change(
        "phq9", {str(i): 2 for i in range(1, 10)}, {str(i): 1 for i in range(1, 10)}
    )


@pytest.mark.parametrize(("before", "after", "expected"), [(20, 10, True), (20, 10.2, False), (27, 14, False)])
def test_phq9_response_50_percent_true_49_false(before: float, after: float, expected: bool) -> None:
    assert measures.change_totals("phq9", before, after).response is expected


def test_response_none_when_baseline_is_zero() -> None:
    assert measures.change_totals("phq9", 0, 0).response is None
    assert measures.change_totals("phq9", 0, 3).response is None


@pytest.mark.parametrize(
    ("instrument_id", "after", "remission"),
    [
        ("phq9", 4, True),  # PHQ-9 < 5 (Kroenke et al. 2001 none-minimal band)
        ("phq9", 5, False),
        ("hrsd17", 7, True),  # HRSD-17 ≤ 7 (Frank et al. 1991)
        ("hrsd17", 8, False),
        ("qids_sr16", 5, True),
        ("qids_sr16", 6, False),
    ],
)
def test_remission_at_the_boundary(instrument_id: str, after: int, remission: bool) -> None:
    assert measures.change_totals(instrument_id, 20, after).remission is remission


@pytest.mark.parametrize("instrument_id", ["gad7", "wsas", "core10", "bdi2"])
def test_remission_none_without_a_criterion(instrument_id: str) -> None:
    assert measures.change_totals(instrument_id, 20, 0).remission is None


def test_wsas_reliable_change_is_the_unconfirmed_default_criterion() -> None:
    # 13 points: Jacobson & Truax 1991 from Mundt et al. 2002's test-retest r = 0.73 and an
    # assumed SD of 9 (wsas.toml, confirmed = false: a service setting); no J-T inputs shipped.
    assert "reliable_change" in measures.get("wsas").unconfirmed()
    worse = measures.change_totals("wsas", 10, 23)
    assert worse.difference == 13
    assert worse.reliable_change == "deteriorated"
    assert measures.change_totals("wsas", 10, 22).reliable_change == "no reliable change"
    better = measures.change_totals("wsas", 30, 10)
    assert better.reliable_change == "improved"
    assert better.jacobson_truax is None
    assert better.response is True


@pytest.mark.parametrize("side", ["before", "after"])
def test_unscorable_score_gives_no_change_values(side: str) -> None:
    complete = {str(i): 2 for i in range(1, 10)}
    unscorable = {"1": 3, "2": 3, "3": 3, "4": 3, "5": 3, "6": 3}  # 3 missing
    before, after = (unscorable, complete) if side == "before" else (complete, unscorable)

    result = measures.change("phq9", before, after)

    assert result.difference is None
    assert result.reliable_change is None
    assert result.rci is None
    assert result.jacobson_truax is None
    assert result.response is None
    assert result.remission is None
    assert (result.before.total is None) is (side == "before")


def test_change_with_prorated_score_uses_prorated_total() -> None:
    before = {str(i): 2 for i in range(1, 9)}  # 16 over 8 answered → 18
    after = {str(i): 1 for i in range(1, 10)}  # 9

    result = measures.change("phq9", before, after)

    assert result.before.total == 18
    assert result.difference == -9


# --- the two criteria agree on whole-number totals --------------------------------------------------

JT_DIRECTION = {
    "recovered": "improved",
    "improved": "improved",
    "unchanged": "no reliable change",
    "deteriorated": "deteriorated",
}


@pytest.mark.parametrize("instrument_id", ["phq9", "gad7", "core10", "hrsd17", "bdi2"])
def test_jacobson_truax_and_points_criteria_agree_on_every_integer_pair(instrument_id: str) -> None:
    """The default pre-treatment SDs were chosen so that 1.96 × S_diff falls between the points
    criterion and one point less (phq9.toml, gad7.toml …): the two methods must never disagree."""
    inst = measures.get(instrument_id)
    lo, hi = inst.scoring.score_range
    disagreements = []
    for before in range(lo, hi + 1):
        for after in range(lo, hi + 1):
            result = measures.change_totals(instrument_id, before, after)
            assert result.jacobson_truax is not None
            if JT_DIRECTION[result.jacobson_truax] != result.reliable_change:
                disagreements.append((before, after, result.jacobson_truax, result.reliable_change))

    assert disagreements == []


@pytest.mark.parametrize("instrument_id", ["phq9", "gad7", "core10"])
def test_jacobson_truax_recovered_matches_caseness_cutoff(instrument_id: str) -> None:
    """With no norms the cut-off is the caseness cut-off: recovered = reliable improvement from
    caseness to below it."""
    inst = measures.get(instrument_id)
    assert inst.caseness is not None
    assert inst.jacobson_truax is not None
    assert inst.jacobson_truax.cutoff == inst.caseness.value


# --- change_totals input checks ------------------------------------------------------------------


@pytest.mark.parametrize("bad", [-1, 28, 27.5, -0.1, True, "10", None, float("nan"), float("inf")])
def test_change_totals_rejects_totals_out_of_range_or_not_numbers(bad: Any) -> None:
    with pytest.raises(measures.InvalidAnswers) as err:
        measures.change_totals("phq9", bad, 10)
    assert err.value.item == "total"

    with pytest.raises(measures.InvalidAnswers):
        measures.change_totals("phq9", 10, bad)


def test_change_totals_accepts_range_ends() -> None:
    result = measures.change_totals("phq9", 27, 0)

    assert result.difference == -27
    assert result.before.severity == "Severe"
    assert result.after.severity == "None-minimal"
