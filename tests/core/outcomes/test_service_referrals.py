"""Per-referral metrics over courses, ADSMs, standards and empty filters (issue 13; DOMAIN.md §4, §6).

A referral is one pathway, possibly several courses: its metrics are over all its courses, and it
is reported under the therapy of its last course with at least 2 attended treatment contacts
(else its last course).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from interpersonal.core.outcomes import dataset, service, standards

DAY0 = date(2026, 1, 5)


def _data(referrals: list[dict[str, Any]], courses: list[dict[str, Any]] | None, contacts: list[tuple], scores: list[tuple]) -> dataset.Dataset:
    base = {"patient_id": "P", "provider": "P1", "therapist_id": "T1", "therapy": None, "referral_date": DAY0,
            "end_date": DAY0 + timedelta(days=200), "end_code": 46}
    r = pl.DataFrame([{**base, **x} for x in referrals])
    c = pl.DataFrame([{"referral_id": rid, "course_id": cid, "contact_date": DAY0 + timedelta(days=d), "attendance_code": code,
                       "is_treatment": True} for rid, cid, d, code in contacts])
    s = pl.DataFrame([{"referral_id": rid, "measure": m, "score_date": datetime.combine(DAY0, datetime.min.time()) + timedelta(days=d), "score": float(v)}
                      for rid, m, d, v in scores])
    k = pl.DataFrame(courses).with_columns(pl.col("start_date").cast(pl.Date)) if courses is not None else None
    return dataset.Dataset.from_frames(r, c, s, k)


def _paired(rid: str, phq: tuple[int, int] = (16, 6), gad: tuple[int, int] = (12, 5)) -> list[tuple]:
    return [(rid, "phq9", 10, phq[0]), (rid, "phq9", 150, phq[1]), (rid, "gad7", 10, gad[0]), (rid, "gad7", 150, gad[1])]


def _course(rid: str, n: int, therapy: str, step: int, start: int) -> dict[str, Any]:
    return {"course_id": f"{rid}-{n}", "referral_id": rid, "therapy": therapy, "step": step, "start_date": DAY0 + timedelta(days=start)}


def test_a_stepped_up_referral_counts_once_under_its_step_three_therapy() -> None:
    data = _data(
        [{"referral_id": "a", "therapy": "lit"}],
        [_course("a", 1, "lit", 2, 10), _course("a", 2, "ipt", 3, 80)],
        [("a", "a-1", 10 + 7 * i, 5) for i in range(6)] + [("a", "a-2", 80 + 7 * i, 5) for i in range(10)],
        _paired("a"),
    )

    result = service.report(data)

    assert (result["overall"]["referrals"], result["overall"]["finished"], result["overall"]["stepped_up"]) == (1, 1, 1)
    assert result["overall"]["mean_sessions"] == 16  # every attended session of both courses
    assert list(result["by_therapy"]) == ["ipt"]
    assert result["by_therapy"]["ipt"]["reliable_recovery"] == 1


def test_a_step_three_course_with_one_session_leaves_the_referral_under_step_two() -> None:
    data = _data(
        [{"referral_id": "a"}],
        [_course("a", 1, "lit", 2, 10), _course("a", 2, "cbt", 3, 80)],
        [("a", "a-1", 10 + 7 * i, 5) for i in range(6)] + [("a", "a-2", 80, 5), ("a", "a-2", 87, 3)],
        _paired("a"),
    )

    assert list(service.report(data)["by_therapy"]) == ["lit"]


def test_without_any_course_of_two_sessions_the_last_course_counts() -> None:
    data = _data(
        [{"referral_id": "a"}],
        [_course("a", 2, "cbt", 3, 80), _course("a", 1, "lit", 2, 10)],  # file order is not course order
        [("a", "a-1", 10, 5), ("a", "a-2", 80, 5)],
        _paired("a"),
    )

    result = service.report(data)
    assert list(result["by_therapy"]) == ["cbt"]
    assert result["overall"]["finished"] == 1  # two attended sessions over the referral's two courses


def test_the_therapy_filter_selects_by_the_same_placement() -> None:
    data = _data(
        [{"referral_id": "a"}, {"referral_id": "b"}],
        [_course("a", 1, "lit", 2, 10), _course("a", 2, "ipt", 3, 80), _course("b", 1, "lit", 2, 10)],
        [("a", "a-1", 10 + 7 * i, 5) for i in range(3)] + [("a", "a-2", 80 + 7 * i, 5) for i in range(3)]
        + [("b", "b-1", 10 + 7 * i, 5) for i in range(3)],
        _paired("a") + _paired("b", phq=(16, 15)),
    )

    everything = service.report(data)
    for therapy in ("ipt", "lit"):
        only = service.report(data, therapy=therapy)["overall"]
        assert {k: only[k] for k in service.COUNTS} == {k: everything["by_therapy"][therapy][k] for k in service.COUNTS}


def test_an_adsm_replaces_gad7_when_paired_and_gad7_is_the_back_up() -> None:
    # SPIN caseness >= 19 (Connor et al. 2000); reliable change 10 points (unconfirmed setting).
    spin = [("a", "spin", 10, 40), ("a", "spin", 150, 12)]
    data = _data(
        [{"referral_id": "a", "therapy": "cbt", "problem_descriptor": "F40.1"},
         {"referral_id": "b", "therapy": "cbt", "problem_descriptor": "F40.1"}],
        None,
        [(rid, None, 10 + 7 * i, 5) for rid in "ab" for i in range(3)],
        # a: PHQ-9 not at caseness, GAD-7 not at caseness; SPIN at caseness and falls 28 points
        _paired("a", phq=(8, 4), gad=(6, 5)) + spin + _paired("b", phq=(8, 4), gad=(6, 5)) + [("b", "spin", 10, 40)],
    )

    table = service.courses(data).sort("referral_id").collect()
    assert table["anxiety_measure"].to_list() == ["spin", "gad7"]  # b's SPIN is not paired: GAD-7
    assert table["recovered"].to_list() == [True, False]
    assert table["not_at_caseness"].to_list() == [False, True]
    assert service.report(data)["overall"]["adsm_paired"] == 1
    assert service.report(data, use_adsm=False)["overall"]["recovered"] == 0


def test_rates_are_judged_against_the_standard_in_force() -> None:
    data = _data(
        [{"referral_id": "a", "therapy": "dit", "end_date": date(2025, 5, 10)},
         {"referral_id": "b", "therapy": "dit", "end_date": date(2026, 5, 10)}],
        None,
        [(rid, None, 10 + 7 * i, 5) for rid in "ab" for i in range(3)],
        _paired("a") + _paired("b", phq=(16, 12)),
    )

    result = service.report(data, by="month")

    assert result["standards"]["as_of"] == "2026-05-10"  # the last end date reported
    overall = result["overall"]
    assert (overall["recovery_rate"], overall["recovery_rate_target"], overall["recovery_rate_met"]) == (0.5, 0.5, True)
    assert (overall["reliable_recovery_rate_target"], overall["reliable_recovery_rate_met"]) == (0.51, False)  # 2026/27
    assert result["by_month"]["2025-05"]["reliable_recovery_rate_target"] == 0.48  # 2024/25 in force in May 2025
    local = standards.Standards((standards.Standard("recovery_rate", 0.6, "Local", "Board", None, True),))
    custom = service.report(data, standards=local)["overall"]
    assert (custom["recovery_rate_target"], custom["recovery_rate_met"]) == (0.6, False)
    assert "reliable_recovery_rate_met" not in custom


def test_filters_that_match_nothing_say_so() -> None:
    data = _data([{"referral_id": "a", "therapy": "dit"}], None, [("a", None, 10, 5)], _paired("a"))

    assert service.report(data)["no_match"] is None
    message = service.report(data, provider="P9")["no_match"]
    assert message == "No referral matches the filters (provider P9): every count would be 0."
    assert "since 2030-01-01" in service.report(data, since=date(2030, 1, 1))["no_match"]
