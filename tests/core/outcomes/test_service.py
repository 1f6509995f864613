"""Service-level NHS Talking Therapies outcome metrics on hand-built cohorts (DOMAIN.md §4).

Cut-offs from the measure definitions: PHQ-9 caseness ≥ 10, GAD-7 ≥ 8; reliable change
PHQ-9 ≥ 6 points, GAD-7 ≥ 4 points; finished = ended with ≥ 2 attended (code 5/6)
treatment contacts; waits 42 and 126 days. Each test builds the smallest cohort that
shows one edge.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import polars as pl
import pytest
from outcomes_cohort import Course, cohort

from interpersonal.core import measures
from interpersonal.core.outcomes import service


def overall(*courses: Course, **kwargs: Any) -> dict[str, Any]:
    result: dict[str, Any] = service.report(cohort(*courses), **kwargs)["overall"]
    return result


OUTCOMES = ("recovered", "reliable_improvement", "reliable_deterioration", "no_reliable_change", "reliable_recovery")


def outcomes(o: dict[str, Any]) -> tuple[int, ...]:
    return tuple(o[k] for k in OUTCOMES)


def test_cut_offs_come_from_the_measure_definitions() -> None:
    # The numbers in this file assume these; if a definition changes, revisit them.
    phq, gad = measures.get("phq9"), measures.get("gad7")
    assert (phq.caseness and phq.caseness.value, gad.caseness and gad.caseness.value) == (10, 8)
    assert (phq.reliable_change and phq.reliable_change.points, gad.reliable_change and gad.reliable_change.points) == (6, 4)


def test_reliable_recovery_counts_and_rates() -> None:
    o = overall(Course("r1"))

    assert (o["referrals"], o["finished"], o["finished_paired"], o["not_at_caseness"]) == (1, 1, 1, 0)
    assert outcomes(o) == (1, 1, 0, 0, 1)
    assert o["recovery_rate"] == o["reliable_recovery_rate"] == o["reliable_improvement_rate"] == 1.0
    assert o["reliable_deterioration_rate"] == 0.0


def test_one_attended_session_is_not_finished() -> None:
    o = overall(Course("r1", sessions=1))

    assert (o["referrals"], o["finished"], o["finished_paired"]) == (1, 0, 0)
    assert o["recovery_rate"] is None
    assert o["waited_6_weeks_rate"] is None


def test_missing_last_score_is_not_paired() -> None:
    o = overall(Course("phq", phq9=(16,)), Course("gad", gad7=(12,)))

    assert (o["finished"], o["finished_paired"]) == (2, 0)
    assert outcomes(o) == (0, 0, 0, 0, 0)


def test_not_at_caseness_at_start_leaves_the_recovery_denominator() -> None:
    o = overall(Course("low", phq9=(9, 3), gad7=(7, 2)), Course("high"))

    assert (o["finished_paired"], o["not_at_caseness"], o["recovered"]) == (2, 1, 1)
    assert o["recovery_rate"] == 1.0  # 1 / (2 - 1)
    assert o["reliable_improvement_rate"] == 1.0  # the low course fell 6 on PHQ-9: over all finished_paired


def test_only_not_at_caseness_gives_a_null_recovery_rate() -> None:
    o = overall(Course("low", phq9=(5, 5), gad7=(5, 5)))

    assert (o["not_at_caseness"], o["no_reliable_change"]) == (1, 1)
    assert o["recovery_rate"] is None
    assert o["reliable_recovery_rate"] is None
    assert o["no_reliable_change_rate"] == 1.0


def test_recovery_on_one_measure_only_is_not_recovery() -> None:
    o = overall(Course("r1", phq9=(16, 5), gad7=(12, 9)))

    assert outcomes(o) == (0, 1, 0, 0, 0)


def test_improvement_on_one_measure_with_deterioration_on_the_other_is_deterioration() -> None:
    o = overall(Course("r1", phq9=(16, 8), gad7=(5, 10)))

    assert outcomes(o) == (0, 0, 1, 0, 0)


def test_recovered_without_reliable_improvement_is_not_reliable_recovery() -> None:
    o = overall(Course("r1", phq9=(10, 9), gad7=(8, 7)))

    assert outcomes(o) == (1, 0, 0, 1, 0)


@pytest.mark.parametrize(
    ("phq_first", "gad_first", "at_caseness"),
    [(10, 0, True), (9, 7, False), (0, 8, True), (9, 8, True)],
)
def test_caseness_exactly_at_the_cut_offs(phq_first: int, gad_first: int, at_caseness: bool) -> None:
    o = overall(Course("r1", phq9=(phq_first, 0), gad7=(gad_first, 0)))

    assert o["not_at_caseness"] == (0 if at_caseness else 1)
    assert o["recovered"] == (1 if at_caseness else 0)


@pytest.mark.parametrize(("phq_last", "gad_last", "recovered"), [(9, 7, 1), (10, 7, 0), (9, 8, 0)])
def test_recovery_exactly_at_the_cut_offs(phq_last: int, gad_last: int, recovered: int) -> None:
    o = overall(Course("r1", phq9=(20, phq_last), gad7=(15, gad_last)))

    assert o["recovered"] == recovered


@pytest.mark.parametrize(
    ("phq9", "gad7", "improved", "deteriorated"),
    [
        ((16, 10), (12, 12), 1, 0),  # PHQ-9 fell exactly 6: reliable
        ((16, 11), (12, 12), 0, 0),  # fell 5: not
        ((16, 16), (12, 8), 1, 0),  # GAD-7 fell exactly 4: reliable
        ((16, 16), (12, 9), 0, 0),  # fell 3: not
        ((10, 16), (12, 12), 0, 1),  # PHQ-9 rose exactly 6: reliable
        ((10, 15), (12, 12), 0, 0),  # rose 5: not
        ((16, 16), (8, 12), 0, 1),  # GAD-7 rose exactly 4: reliable
        ((16, 16), (8, 11), 0, 0),  # rose 3: not
    ],
)
def test_reliable_change_exactly_at_the_points(phq9: tuple[int, int], gad7: tuple[int, int], improved: int, deteriorated: int) -> None:
    o = overall(Course("r1", phq9=phq9, gad7=gad7))

    assert (o["reliable_improvement"], o["reliable_deterioration"]) == (improved, deteriorated)
    assert o["no_reliable_change"] == 1 - improved - deteriorated


def test_first_and_last_are_by_score_date_not_row_order() -> None:
    # Three scores each: the middle one must be ignored; rows are stored newest first.
    o = overall(Course("r1", phq9=(16, 2, 6), gad7=(12, 20, 5)))

    assert outcomes(o) == (1, 1, 0, 0, 1)


@pytest.mark.parametrize(("wait", "six", "eighteen"), [(42, 1, 1), (43, 0, 1), (126, 0, 1), (127, 0, 0)])
def test_waits_exactly_at_six_and_eighteen_weeks(wait: int, six: int, eighteen: int) -> None:
    o = overall(Course("r1", wait=wait))

    assert (o["waited_6_weeks"], o["waited_18_weeks"]) == (six, eighteen)
    assert o["waited_6_weeks_rate"] == six


def test_open_referral_is_not_finished() -> None:
    o = overall(Course("open", ended=False, sessions=5), Course("done"))

    assert (o["referrals"], o["finished"], o["finished_paired"], o["recovered"]) == (2, 1, 1, 1)


def test_assessments_count_neither_toward_finished_nor_the_wait() -> None:
    # An attended assessment on day 3 and one attended treatment session: not finished.
    not_finished = overall(Course("r1", sessions=1, extra_contacts=[(3, 5, False)]))
    # Assessed on day 3, treated from day 50: the wait is 50 days, not 3.
    waited = overall(Course("r2", wait=50, extra_contacts=[(3, 5, False)]))

    assert not_finished["finished"] == 0
    assert (waited["finished"], waited["waited_6_weeks"], waited["waited_18_weeks"]) == (1, 0, 1)
    assert waited["treatment_contacts"] == 2  # the assessment is not a treatment contact


def test_did_not_attend_is_not_attended() -> None:
    o = overall(Course("r1", sessions=1, extra_contacts=[(60, 3, True)]))

    assert o["finished"] == 0
    assert (o["treatment_contacts"], o["attended_contacts"], o["dna_contacts"]) == (2, 1, 1)
    assert o["attendance_rate"] == o["dna_rate"] == 0.5


def test_attendance_rates_count_codes_2_to_7_only() -> None:
    contacts = [(50, 2, True), (51, 4, True), (52, 7, True), (53, 6, True), (54, 1, True), (55, 8, True)]
    o = overall(Course("r1", extra_contacts=contacts))

    assert (o["treatment_contacts"], o["attended_contacts"], o["dna_contacts"]) == (6, 3, 0)
    assert o["mean_sessions"] == 3.0


def test_unplanned_endings_are_codes_47_and_48_over_finished() -> None:
    o = overall(Course("a", end_code=47), Course("b", end_code=48), Course("c", end_code=46), Course("d", end_code=47, sessions=1))

    assert (o["finished"], o["unplanned_endings"]) == (3, 2)
    assert o["unplanned_ending_rate"] == pytest.approx(2 / 3)


def test_empty_cohort_has_null_rates() -> None:
    o = service.report(cohort())

    assert o["by_therapy"] == {}
    counts = o["overall"]
    assert all(counts[k] == 0 for k in service.COUNTS)
    assert all(counts[k] is None for k in service.RATES)
    assert counts["mean_sessions"] is None
    assert counts["phq9_effect_size"] is None


def test_effect_size_is_mean_change_over_sd_first_with_bonetts_unequal_variance_ci() -> None:
    phq = [(20, 8), (15, 9), (18, 12), (12, 10)] * 5  # 20 courses: the fewest with an effect size
    o = overall(*(Course(f"r{i}", phq9=p) for i, p in enumerate(phq)))

    first = pl.Series([float(f) for f, _ in phq])
    last = pl.Series([float(la) for _, la in phq])
    n = len(phq)
    sd = first.std()
    assert isinstance(sd, float)
    d = float((first - last).mean()) / sd  # type: ignore[arg-type]
    sd_change = (first - last).std()
    assert isinstance(sd_change, float)
    se = math.sqrt(d * d / (2 * (n - 1)) + sd_change**2 / ((n - 1) * sd**2))  # Bonett (2008), pre SD standardiser
    assert o["phq9_effect_size"] == pytest.approx(d)
    assert (o["phq9_effect_size_ci_low"], o["phq9_effect_size_ci_high"]) == (pytest.approx(d - 1.96 * se), pytest.approx(d + 1.96 * se))
    assert o["phq9_effect_size_withheld"] is None
    assert o["gad7_effect_size"] is None  # every GAD-7 fell 12 → 5: SD of first is 0
    assert o["gad7_effect_size_withheld"] == "The first scores do not vary, so an effect size cannot be worked out."


def test_effect_size_needs_two_courses() -> None:
    assert overall(Course("r1"))["phq9_effect_size"] is None


def test_three_paired_courses_get_no_effect_size_but_the_reason() -> None:
    o = overall(*(Course(f"r{i}", phq9=p) for i, p in enumerate([(20, 8), (15, 9), (18, 12)])))

    assert (o["phq9_effect_size"], o["phq9_effect_size_ci_low"], o["phq9_effect_size_ci_high"]) == (None, None, None)
    assert o["phq9_effect_size_withheld"] == (
        "Too few finished, paired courses (3) for an effect size: at least 20 are needed for its confidence "
        "interval to be trusted.")


def test_nineteen_paired_courses_get_no_effect_size_and_twenty_do() -> None:
    phq = [(20, 8), (15, 9), (18, 12), (12, 10)] * 5

    assert overall(*(Course(f"r{i}", phq9=p) for i, p in enumerate(phq[:19])))["phq9_effect_size"] is None
    assert overall(*(Course(f"r{i}", phq9=p) for i, p in enumerate(phq)))["phq9_effect_size"] is not None


def test_by_therapy_and_by_therapist_provider_month() -> None:
    data = cohort(
        Course("a", therapy="dit", therapist="T1", provider="P1", end_date=date(2026, 3, 31)),
        Course("b", therapy="ipt", therapist="T2", provider="P2", phq9=(16, 15), end_date=date(2026, 4, 1)),
        Course("c", therapy="ipt", therapist="T2", provider="P2", ended=False),
    )

    result = service.report(data, by="therapist")
    assert set(result) == {"overall", "by_therapy", "by_therapist", "standards", "rules", "no_match"}
    assert {k: v["recovered"] for k, v in result["by_therapy"].items()} == {"dit": 1, "ipt": 0}
    assert {k: v["referrals"] for k, v in result["by_therapist"].items()} == {"T1": 1, "T2": 2}
    assert {k: v["finished"] for k, v in service.report(data, by="provider")["by_provider"].items()} == {"P1": 1, "P2": 1}
    by_month = service.report(data, by="month")["by_month"]
    assert {k: v["finished"] for k, v in by_month.items()} == {"2026-03": 1, "2026-04": 1}  # the open referral has no month


def test_unknown_grouping_is_an_error() -> None:
    with pytest.raises(ValueError, match="by must be one of"):
        service.report(cohort(), by="patient")


def test_filters_by_provider_therapy_and_therapist() -> None:
    data = cohort(Course("a", therapy="dit", therapist="T1", provider="P1"), Course("b", therapy="ipt", therapist="T2", provider="P2"))

    assert service.report(data, provider="P1")["overall"]["referrals"] == 1
    assert service.report(data, therapy="ipt")["overall"]["referrals"] == 1
    assert service.report(data, therapist="T3")["overall"]["referrals"] == 0


def test_period_uses_referral_date_for_referrals_and_end_date_for_finished() -> None:
    # Referred 5 January, ended 1 April: received in Q1, finished in Q2.
    data = cohort(Course("a", end_date=date(2026, 4, 1)))

    q1 = service.report(data, since=date(2026, 1, 1), until=date(2026, 3, 31))["overall"]
    q2 = service.report(data, since=date(2026, 4, 1), until=date(2026, 6, 30))["overall"]
    assert (q1["referrals"], q1["finished"], q1["recovered"]) == (1, 0, 0)
    assert (q2["referrals"], q2["finished"], q2["recovered"]) == (0, 1, 1)


def test_funnel_control_limits_at_each_therapists_n() -> None:
    courses = [Course(f"a{i}", therapist="T1") for i in range(3)]
    courses += [Course(f"b{i}", therapist="T2", phq9=(16, 12)) for i in range(1)]
    courses += [Course("c0", therapist="T3", phq9=(5, 5), gad7=(5, 5))]  # not at caseness: n = 0
    rows = service.funnel(cohort(*courses))

    assert [r["therapist_id"] for r in rows] == ["T1", "T2", "T3"]
    t1, t2, t3 = rows
    p = 3 / 4
    assert (t1["finished_eligible"], t1["recovered"], t1["rate"], t1["mean"]) == (3, 3, 1.0, p)
    half95, half998 = 1.96 * math.sqrt(p * (1 - p) / 3), 3.09 * math.sqrt(p * (1 - p) / 3)
    assert (t1["lower_95"], t1["upper_95"]) == (pytest.approx(p - half95), 1.0)  # clipped to 1
    assert t1["lower_998"] == pytest.approx(max(0.0, p - half998))
    assert (t2["finished_eligible"], t2["rate"], t2["lower_998"]) == (1, 0.0, 0.0)  # clipped to 0
    assert (t3["finished_eligible"], t3["rate"], t3["lower_95"], t3["upper_998"]) == (0, None, None, None)


def test_funnel_of_an_empty_service_has_no_rows() -> None:
    assert service.funnel(cohort()) == []


def test_funnel_applies_the_report_filters() -> None:
    data = cohort(Course("a", therapy="dit", therapist="T1"), Course("b", therapy="ipt", therapist="T2"))

    assert [r["therapist_id"] for r in service.funnel(data, therapy="ipt")] == ["T2"]
