"""NHS Talking Therapies outcome of one course (DOMAIN.md §4; NHS Talking Therapies Manual).

Cut-offs from the measure definitions: PHQ-9 caseness ≥ 10, GAD-7 ≥ 8; reliable change
PHQ-9 ≥ 6 points, GAD-7 ≥ 4 points. "Below the cut-off" at the end means PHQ-9 ≤ 9 and
GAD-7 ≤ 7.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interpersonal.core import measures
from interpersonal.core.outcomes import NOT_AT_CASENESS, NOT_PAIRED, CourseOutcome, course_outcome


def outcome(phq_first: float | None, gad_first: float | None, phq_last: float | None, gad_last: float | None) -> CourseOutcome:
    return course_outcome({"phq9": phq_first, "gad7": gad_first}, {"phq9": phq_last, "gad7": gad_last})


def test_cut_offs_come_from_the_measure_definitions() -> None:
    # If a definition changes, these tests' hand-built numbers must be revisited.
    phq, gad = measures.get("phq9"), measures.get("gad7")
    assert (phq.caseness and phq.caseness.value, gad.caseness and gad.caseness.value) == (10, 8)
    assert (phq.reliable_change and phq.reliable_change.points, gad.reliable_change and gad.reliable_change.points) == (6, 4)


def test_reliable_recovery_from_moderate_depression_and_anxiety() -> None:
    o = outcome(16, 12, 6, 5)

    assert o.paired
    assert o.caseness_at_start
    assert (o.recovered, o.reliable_improvement, o.reliable_deterioration, o.no_reliable_change, o.reliable_recovery) == (True, True, False, False, True)
    assert o.flags == ()


@pytest.mark.parametrize(("phq", "gad", "caseness"), [(10, 0, True), (9, 7, False), (0, 8, True), (9, 8, True), (27, 21, True)])
def test_caseness_at_start_exactly_at_the_cut_offs(phq: int, gad: int, caseness: bool) -> None:
    assert outcome(phq, gad, 0, 0).caseness_at_start is caseness


@pytest.mark.parametrize(
    ("phq_last", "gad_last", "recovered"),
    [(9, 7, True), (10, 7, False), (9, 8, False), (4, 0, True)],
)
def test_recovery_needs_both_measures_below_cut_off_at_the_end(phq_last: int, gad_last: int, recovered: bool) -> None:
    assert outcome(20, 15, phq_last, gad_last).recovered is recovered


def test_six_point_fall_on_phq9_is_reliable_five_is_not() -> None:
    six = outcome(15, 6, 9, 6)
    five = outcome(15, 6, 10, 6)

    assert (six.reliable_improvement, six.no_reliable_change) == (True, False)
    assert six.changes["phq9"].reliable_change == "improved"
    assert (five.reliable_improvement, five.no_reliable_change) == (False, True)


def test_four_point_fall_on_gad7_is_reliable_three_is_not() -> None:
    assert outcome(12, 12, 12, 8).reliable_improvement is True
    assert outcome(12, 12, 12, 9).reliable_improvement is False


def test_recovered_without_a_reliable_fall_is_not_reliably_recovered() -> None:
    # PHQ-9 10 → 9 and GAD-7 8 → 7: below both cut-offs, but neither fall is reliable.
    o = outcome(10, 8, 9, 7)

    assert (o.recovered, o.reliable_improvement, o.no_reliable_change, o.reliable_recovery) == (True, False, True, False)


def test_improvement_on_one_and_deterioration_on_the_other_is_reliable_deterioration_only() -> None:
    # PHQ-9 falls 8 (reliable); GAD-7 rises 4 (reliable): DOMAIN.md §4 — "no reliable rise on the other".
    o = outcome(18, 6, 10, 10)

    assert (o.reliable_improvement, o.reliable_deterioration, o.no_reliable_change, o.reliable_recovery) == (False, True, False, False)
    assert o.changes["phq9"].reliable_change == "improved"
    assert o.changes["gad7"].reliable_change == "deteriorated"


@pytest.mark.parametrize(("first", "last"), [((10, 8), (16, 8)), ((10, 8), (10, 12))])
def test_a_reliable_rise_on_either_measure_is_reliable_deterioration(first: tuple[int, int], last: tuple[int, int]) -> None:
    assert outcome(*first, *last).reliable_deterioration is True


def test_five_point_rise_on_phq9_is_not_reliable_deterioration() -> None:
    assert outcome(10, 8, 15, 8).reliable_deterioration is False


def test_not_at_caseness_at_start_is_not_recovered_and_is_flagged() -> None:
    # Left out of the recovery-rate denominator (finished − not at caseness).
    o = outcome(9, 7, 2, 1)

    assert o.paired
    assert (o.caseness_at_start, o.recovered, o.reliable_recovery) == (False, False, False)
    assert o.reliable_improvement is True  # 9 → 2 is a reliable fall; improvement's denominator is all finished
    assert NOT_AT_CASENESS in o.flags
    assert o.reason is not None
    assert "denominator" in o.reason


@pytest.mark.parametrize(
    "scores",
    [(16, 12, None, 5), (16, 12, 6, None), (None, 12, 6, 5), (16, None, 6, 5), (None, None, None, None)],
)
def test_a_missing_first_or_last_score_leaves_every_outcome_none(scores: tuple[int | None, ...]) -> None:
    o = outcome(*scores)

    assert o.paired is False
    assert (o.caseness_at_start, o.recovered, o.reliable_improvement, o.reliable_deterioration, o.no_reliable_change, o.reliable_recovery) == (None,) * 6
    assert o.changes == {}
    assert o.flags == (NOT_PAIRED,)
    assert o.reason is not None
    assert "not paired" in o.reason


def test_absent_keys_count_as_missing_and_other_measures_are_ignored() -> None:
    o = course_outcome({"phq9": 16, "wsas": 20}, {"phq9": 6, "gad7": 5, "wsas": 10})

    assert o.paired is False
    assert o.reason == "not paired: no first gad7 score"


@pytest.mark.parametrize(("measure", "bad"), [("phq9", 28), ("gad7", -1), ("gad7", 21.5), ("phq9", True), ("phq9", "10"), ("gad7", float("nan"))])
@pytest.mark.parametrize("side", ["first", "last"])
def test_out_of_range_totals_are_refused_paired_or_not(measure: str, bad: object, side: str) -> None:
    good = {"phq9": 10, "gad7": 8}
    scores = {**good, measure: bad}
    paired_args = (scores, good) if side == "first" else (good, scores)
    unpaired_args = (scores, {}) if side == "first" else ({}, scores)

    with pytest.raises(measures.InvalidAnswers, match=f"{side} total must be a number"):
        course_outcome(*paired_args)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=f"{side} total"):
        course_outcome(*unpaired_args)  # type: ignore[arg-type]


def test_per_measure_jacobson_truax_categories() -> None:
    o = outcome(16, 12, 6, 5)

    assert o.jacobson_truax == {"phq9": "recovered", "gad7": "recovered"}
    assert outcome(10, 8, 9, 7).jacobson_truax == {"phq9": "unchanged", "gad7": "unchanged"}


def test_to_dict_is_plain_data() -> None:
    data = outcome(18, 6, 10, 10).to_dict()

    assert data["paired"] is True
    assert data["reliable_deterioration"] is True
    assert data["first"] == {"phq9": 18, "gad7": 6}
    assert data["changes"]["gad7"]["reliable_change"] == "deteriorated"
    assert data["changes"]["phq9"]["difference"] == -8
    assert outcome(None, 6, 10, 10).to_dict()["changes"] == {}


def test_outcome_is_immutable() -> None:
    o = outcome(16, 12, 6, 5)
    with pytest.raises(AttributeError):
        o.recovered = False  # type: ignore[misc]


phq = st.integers(0, 27)
gad = st.integers(0, 21)


@given(phq, gad, phq, gad)
def test_outcome_categories_are_consistent(p1: int, g1: int, p2: int, g2: int) -> None:
    o = outcome(p1, g1, p2, g2)

    # Exactly one of improvement / deterioration / no reliable change.
    assert [o.reliable_improvement, o.reliable_deterioration, o.no_reliable_change].count(True) == 1
    assert o.reliable_recovery == (o.recovered and o.reliable_improvement)
    if o.recovered:
        assert o.caseness_at_start
    assert o.caseness_at_start == (p1 >= 10 or g1 >= 8)
    assert o.recovered == (o.caseness_at_start and p2 < 10 and g2 < 8)
    assert o.reliable_deterioration == (p2 - p1 >= 6 or g2 - g1 >= 4)
