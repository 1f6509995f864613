"""Published worked examples, one instrument at a time (STYLE.md item 14).

Every expected value here is computed by hand from the published scoring rule named in the
comment beside it; the engine is never asked what the answer should be. Sources (as cited in
the definition files, and ../shared/DOMAIN.md §3):

- PHQ-9: Kroenke, Spitzer & Williams 2001 — total = sum of items 1-9 (0-27); 5/10/15/20 are the
  lower edges of mild / moderate / moderately severe / severe; the difficulty question (item 10)
  is recorded, not summed. Caseness >= 10: NHS Talking Therapies Manual.
- GAD-7: Spitzer et al. 2006 — sum of items 1-7 (0-21); cut points 5/10/15. Caseness >= 8: NHS
  Talking Therapies Manual.
- HRSD-17: Hamilton 1960/1967 and the ECDEU manual (Guy 1976) — 17 items, nine rated 0-4 and eight
  0-2, total 0-52; bands 0-7 / 8-16 / 17-23 / >=24 (Zimmerman et al. 2013). HAM-D6 (Bech 1981):
  items 1, 2, 7, 8, 10, 13.
- BDI-II: Beck, Steer & Brown 1996 — 21 items 0-3, total 0-63; 0-13 / 14-19 / 20-28 / 29-63.
- WSAS: Mundt et al. 2002 — 5 items 0-8, total 0-40; <10 subclinical, 10-20 significant, >20
  moderately severe or worse.
- CORE-10: Barkham et al. 2013 — 10 items 0-4, items 2 and 3 (the positively worded ones) reverse
  keyed, total 0-40; clinical cut-off 11; item 6 is the risk item. Bands from CORE-10 user guidance.
- QIDS-SR16: Rush et al. 2003 — nine DSM-IV domains, each 0-3: sleep = the highest of items 1-4,
  appetite/weight = the highest of items 6-9, psychomotor = the highest of items 15-16, the others
  single items; total 0-27; 0-5 / 6-10 / 11-15 / 16-20 / 21-27 (ids-qids.org).
"""

from __future__ import annotations

import pytest

from interpersonal.core import measures


def answers_with_total(instrument_id: str, total: int) -> dict[str, int]:
    """A complete answer set of ``instrument_id`` whose published total is ``total``.

    Fills the scoring components in form order, each with as much of the remaining total as it
    can hold; a grouped domain is answered through its first item only, and a reverse-keyed item
    is given the raw value that counts as the wanted amount.
    """
    inst = measures.get(instrument_id)
    grouped = {m: g for g in inst.scoring.groups for m in g.items}
    answers: dict[str, int] = {}
    remaining = total
    done_groups: set[str] = set()
    for item in inst.scored_items:
        group = grouped.get(item.id)
        if group is not None and group.id in done_groups:
            continue
        counted = min(remaining, item.max)
        remaining -= counted
        answers[item.id] = item.keyed(counted)  # keyed is its own inverse
        if group is not None:
            done_groups.add(group.id)
    assert remaining == 0, f"{instrument_id} cannot reach {total}"
    return answers


# --- band edges, both sides of every edge ---------------------------------------------------

BAND_EDGES = [
    # PHQ-9, Kroenke et al. 2001: 0-4, 5-9, 10-14, 15-19, 20-27.
    ("phq9", 0, "None-minimal"),
    ("phq9", 4, "None-minimal"),
    ("phq9", 5, "Mild"),
    ("phq9", 9, "Mild"),
    ("phq9", 10, "Moderate"),
    ("phq9", 14, "Moderate"),
    ("phq9", 15, "Moderately severe"),
    ("phq9", 19, "Moderately severe"),
    ("phq9", 20, "Severe"),
    ("phq9", 27, "Severe"),
    # GAD-7, Spitzer et al. 2006: 0-4, 5-9, 10-14, 15-21.
    ("gad7", 0, "Minimal"),
    ("gad7", 4, "Minimal"),
    ("gad7", 5, "Mild"),
    ("gad7", 9, "Mild"),
    ("gad7", 10, "Moderate"),
    ("gad7", 14, "Moderate"),
    ("gad7", 15, "Severe"),
    ("gad7", 21, "Severe"),
    # HRSD-17, Zimmerman et al. 2013: 0-7, 8-16, 17-23, 24-52.
    ("hrsd17", 0, "No depression"),
    ("hrsd17", 7, "No depression"),
    ("hrsd17", 8, "Mild"),
    ("hrsd17", 16, "Mild"),
    ("hrsd17", 17, "Moderate"),
    ("hrsd17", 23, "Moderate"),
    ("hrsd17", 24, "Severe"),
    ("hrsd17", 52, "Severe"),
    # BDI-II, Beck, Steer & Brown 1996: 0-13, 14-19, 20-28, 29-63.
    ("bdi2", 0, "Minimal"),
    ("bdi2", 13, "Minimal"),
    ("bdi2", 14, "Mild"),
    ("bdi2", 19, "Mild"),
    ("bdi2", 20, "Moderate"),
    ("bdi2", 28, "Moderate"),
    ("bdi2", 29, "Severe"),
    ("bdi2", 63, "Severe"),
    # WSAS, Mundt et al. 2002: <10, 10-20, >20.
    ("wsas", 0, "Subclinical"),
    ("wsas", 9, "Subclinical"),
    ("wsas", 10, "Significant functional impairment"),
    ("wsas", 20, "Significant functional impairment"),
    ("wsas", 21, "Moderately severe or worse"),
    ("wsas", 40, "Moderately severe or worse"),
    # CORE-10 user guidance: 0-5, 6-10, 11-14, 15-19, 20-24, 25-40.
    ("core10", 0, "Healthy"),
    ("core10", 5, "Healthy"),
    ("core10", 6, "Low level"),
    ("core10", 10, "Low level"),
    ("core10", 11, "Mild"),
    ("core10", 14, "Mild"),
    ("core10", 15, "Moderate"),
    ("core10", 19, "Moderate"),
    ("core10", 20, "Moderate-to-severe"),
    ("core10", 24, "Moderate-to-severe"),
    ("core10", 25, "Severe"),
    ("core10", 40, "Severe"),
    # QIDS-SR16, ids-qids.org / Rush et al. 2003: 0-5, 6-10, 11-15, 16-20, 21-27.
    ("qids_sr16", 0, "None"),
    ("qids_sr16", 5, "None"),
    ("qids_sr16", 6, "Mild"),
    ("qids_sr16", 10, "Mild"),
    ("qids_sr16", 11, "Moderate"),
    ("qids_sr16", 15, "Moderate"),
    ("qids_sr16", 16, "Severe"),
    ("qids_sr16", 20, "Severe"),
    ("qids_sr16", 21, "Very severe"),
    ("qids_sr16", 27, "Very severe"),
]


@pytest.mark.parametrize(("instrument_id", "total", "severity"), BAND_EDGES, ids=lambda v: str(v))
def test_band_edge_severity(instrument_id: str, total: int, severity: str) -> None:
    # Arrange
    answers = answers_with_total(instrument_id, total)

    # Act
    score = measures.score(instrument_id, answers)

    # Assert
    assert score.total == total
    assert score.severity == severity
    assert score.complete is True
    assert score.prorated is False


CASENESS_EDGES = [
    ("phq9", 10, True),  # NHS Talking Therapies Manual: PHQ-9 caseness is 10 or more
    ("phq9", 9, False),
    ("gad7", 8, True),  # NHS Talking Therapies Manual: GAD-7 caseness is 8 or more
    ("gad7", 7, False),
    ("core10", 11, True),  # Barkham et al. 2013: clinical cut-off 11
    ("core10", 10, False),
    ("bdi2", 14, True),  # above the manual's minimal range 0-13 (service setting, unconfirmed)
    ("bdi2", 13, False),
]


@pytest.mark.parametrize(("instrument_id", "total", "case"), CASENESS_EDGES, ids=lambda v: str(v))
def test_caseness_at_and_one_below_cutoff(instrument_id: str, total: int, case: bool) -> None:
    score = measures.score(instrument_id, answers_with_total(instrument_id, total))

    assert score.total == total
    assert score.caseness is case


@pytest.mark.parametrize("instrument_id", ["hrsd17", "wsas", "qids_sr16"])
def test_instrument_without_caseness_cutoff_reports_caseness_none(instrument_id: str) -> None:
    score = measures.score(instrument_id, answers_with_total(instrument_id, 20))

    assert score.caseness is None


# --- PHQ-9 ------------------------------------------------------------------------------------


def test_phq9_worked_example_sum_of_items_1_to_9() -> None:
    """Kroenke et al. 2001: the total is the sum of items 1-9; 10-14 is moderate."""
    answers = {"1": 3, "2": 2, "3": 1, "4": 0, "5": 3, "6": 2, "7": 1, "8": 0, "9": 1}

    score = measures.score("phq9", answers)

    assert score.total == 3 + 2 + 1 + 0 + 3 + 2 + 1 + 0 + 1 == 13
    assert score.severity == "Moderate"
    assert score.caseness is True
    assert score.risk == ("9",)
    assert score.answered == 9


@pytest.mark.parametrize("difficulty", [0, 1, 2, 3])
def test_phq9_difficulty_item_recorded_not_summed(difficulty: int) -> None:
    """Kroenke et al. 2001: the 10th ('how difficult') question is not part of the total."""
    answers = {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1, "6": 0, "7": 0, "8": 0, "9": 0}

    with_item_10 = measures.score("phq9", {**answers, "10": difficulty})
    without_item_10 = measures.score("phq9", answers)

    assert with_item_10.total == without_item_10.total == 5
    assert with_item_10.complete is True
    assert without_item_10.complete is True  # an unanswered item 10 is not a missing item


def test_phq9_all_items_maximal_is_27() -> None:
    score = measures.score("phq9", {**{str(i): 3 for i in range(1, 10)}, "10": 3})

    assert score.total == 27
    assert score.severity == "Severe"


# --- GAD-7 ------------------------------------------------------------------------------------


def test_gad7_worked_example_sum_of_items_1_to_7() -> None:
    """Spitzer et al. 2006: total = sum of items 1-7; 5-9 is mild; 7 is below caseness (8)."""
    answers = {"1": 2, "2": 2, "3": 1, "4": 1, "5": 0, "6": 1, "7": 0}

    score = measures.score("gad7", answers)

    assert score.total == 7
    assert score.severity == "Mild"
    assert score.caseness is False
    assert score.risk == ()


@pytest.mark.parametrize("difficulty", [0, 3])
def test_gad7_difficulty_item_recorded_not_summed(difficulty: int) -> None:
    answers = {"1": 3, "2": 3, "3": 3, "4": 3, "5": 3, "6": 3, "7": 3}

    score = measures.score("gad7", {**answers, "8": difficulty})

    assert score.total == 21
    assert score.severity == "Severe"


# --- HRSD-17 ----------------------------------------------------------------------------------

HRSD_ALL_MAXED = {
    # ECDEU manual (Guy 1976): items 4, 5, 6, 12, 13, 14, 16, 17 are rated 0-2, the rest 0-4.
    "1": 4, "2": 4, "3": 4, "4": 2, "5": 2, "6": 2, "7": 4, "8": 4, "9": 4,
    "10": 4, "11": 4, "12": 2, "13": 2, "14": 2, "15": 4, "16": 2, "17": 2,
}  # fmt: skip


def test_hrsd17_all_items_maxed_is_52() -> None:
    """Nine items at 4 and eight at 2: 9 × 4 + 8 × 2 = 52, the published maximum."""
    score = measures.score("hrsd17", HRSD_ALL_MAXED)

    assert score.total == 9 * 4 + 8 * 2 == 52
    assert score.severity == "Severe"
    assert score.subscales["hamd6"] == 4 + 4 + 4 + 4 + 4 + 2  # items 1, 2, 7, 8, 10, 13


def test_hrsd17_item_1_accepts_4() -> None:
    score = measures.score("hrsd17", {**HRSD_ALL_MAXED, "1": 4})

    assert score.total == 52


def test_hrsd17_item_4_rejects_3_its_maximum_is_2() -> None:
    with pytest.raises(measures.InvalidAnswers) as err:
        measures.score("hrsd17", {**HRSD_ALL_MAXED, "4": 3})

    assert err.value.item == "4"
    assert "0, 1, 2" in str(err.value)


def test_hrsd17_item_16_not_assessed_value_3_is_rejected() -> None:
    """Some forms print 'not assessed' as 3 for item 16: that is not a score. It must be left
    unanswered (a missing item), never summed."""
    with pytest.raises(measures.InvalidAnswers) as err:
        measures.score("hrsd17", {**HRSD_ALL_MAXED, "16": 3})

    assert err.value.item == "16"


def test_hrsd17_item_16_not_assessed_is_missing_not_scored() -> None:
    answers = {**HRSD_ALL_MAXED, "16": None}

    score = measures.score("hrsd17", answers)

    assert score.total is None
    assert score.missing == ("16",)


def test_hrsd17_worked_example_with_hamd6_subscale() -> None:
    """Total = sum of the 17 items; HAM-D6 (Bech 1981) = items 1, 2, 7, 8, 10, 13."""
    answers = {
        "1": 2, "2": 1, "3": 1, "4": 1, "5": 1, "6": 1, "7": 3, "8": 0, "9": 1,
        "10": 2, "11": 1, "12": 1, "13": 1, "14": 1, "15": 1, "16": 1, "17": 1,
    }  # fmt: skip

    score = measures.score("hrsd17", answers)

    assert score.total == 2 + 1 + 1 + 1 + 1 + 1 + 3 + 0 + 1 + 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1 == 20
    assert score.severity == "Moderate"
    assert score.subscales["hamd6"] == 2 + 1 + 3 + 0 + 2 + 1 == 9
    assert score.risk == ("3",)


def test_hrsd17_hamd6_is_none_when_one_of_its_items_is_missing() -> None:
    answers = {**HRSD_ALL_MAXED, "13": None}

    score = measures.score("hrsd17", answers)

    assert score.subscales["hamd6"] is None


def test_hrsd17_hamd6_is_scored_when_only_non_hamd6_items_are_missing() -> None:
    answers = {**HRSD_ALL_MAXED, "3": None}

    score = measures.score("hrsd17", answers)

    assert score.total is None  # rule "none"
    assert score.subscales["hamd6"] == 22


# --- BDI-II -----------------------------------------------------------------------------------


def test_bdi2_21_items_all_3_is_63() -> None:
    """Beck, Steer & Brown 1996: 21 items, each 0-3, summed: maximum 63."""
    score = measures.score("bdi2", {str(i): 3 for i in range(1, 22)})

    assert score.total == 63
    assert score.severity == "Severe"
    assert len(measures.get("bdi2").scored_items) == 21


def test_bdi2_worked_example() -> None:
    answers = {str(i): i % 4 for i in range(1, 22)}  # 1, 2, 3, 0, 1, 2, 3, 0, ... , 1

    score = measures.score("bdi2", answers)

    assert score.total == 5 * (1 + 2 + 3 + 0) + 1 == 31
    assert score.severity == "Severe"
    assert score.caseness is True
    assert score.risk == ("9",)  # item 9 = 9 % 4 = 1


def test_bdi2_item_16_and_18_take_the_number_of_a_or_b_option() -> None:
    """Manual: options 1a/1b etc. on items 16 and 18 score as their number; letters are not values."""
    with pytest.raises(measures.InvalidAnswers):
        measures.score("bdi2", {**{str(i): 0 for i in range(1, 22)}, "16": "1a"})  # type: ignore[dict-item]


# --- WSAS -------------------------------------------------------------------------------------


def test_wsas_worked_example_items_0_to_8() -> None:
    """Mundt et al. 2002: five items rated 0-8, summed (0-40); 10-20 significant impairment."""
    score = measures.score("wsas", {"1": 8, "2": 6, "3": 4, "4": 2, "5": 0})

    assert score.total == 20
    assert score.severity == "Significant functional impairment"


def test_wsas_all_items_8_is_40() -> None:
    score = measures.score("wsas", {str(i): 8 for i in range(1, 6)})

    assert score.total == 40


def test_wsas_item_value_9_is_rejected() -> None:
    with pytest.raises(measures.InvalidAnswers) as err:
        measures.score("wsas", {"1": 9, "2": 0, "3": 0, "4": 0, "5": 0})

    assert err.value.item == "1"


# --- CORE-10 ----------------------------------------------------------------------------------


def test_core10_all_answers_0_totals_8_through_reverse_keying() -> None:
    """Barkham et al. 2013: items 2 and 3 are positively worded and scored 4 - value; so a form
    with every column 0 scores 4 + 4 = 8."""
    score = measures.score("core10", {str(i): 0 for i in range(1, 11)})

    assert score.total == 8
    assert score.severity == "Low level"


def test_core10_items_2_and_3_at_4_and_others_0_totals_0() -> None:
    answers = {str(i): 0 for i in range(1, 11)} | {"2": 4, "3": 4}

    score = measures.score("core10", answers)

    assert score.total == 0
    assert score.severity == "Healthy"


def test_core10_all_answers_4_totals_32() -> None:
    score = measures.score("core10", {str(i): 4 for i in range(1, 11)})

    assert score.total == 8 * 4 + 0 + 0 == 32
    assert score.risk == ("6",)


def test_core10_worked_example() -> None:
    answers = {"1": 2, "2": 1, "3": 3, "4": 2, "5": 1, "6": 1, "7": 3, "8": 2, "9": 2, "10": 0}

    score = measures.score("core10", answers)

    # item 2 counts 4 - 1 = 3, item 3 counts 4 - 3 = 1
    assert score.total == 2 + 3 + 1 + 2 + 1 + 1 + 3 + 2 + 2 + 0 == 17
    assert score.severity == "Moderate"
    assert score.caseness is True
    assert score.risk == ("6",)


# --- QIDS-SR16 --------------------------------------------------------------------------------


def test_qids_sr16_sleep_domain_is_highest_of_items_1_to_4() -> None:
    """Rush et al. 2003: the sleep domain counts once, as the highest of items 1-4."""
    answers = {
        "1": 1, "2": 3, "3": 0, "4": 0,  # sleep: max = 3
        "5": 2,
        "7": 2,  # appetite/weight answered through item 7 only: 2
        "10": 1, "11": 2, "12": 1, "13": 0, "14": 3,
        "15": 1, "16": 2,  # psychomotor: max = 2
    }  # fmt: skip

    score = measures.score("qids_sr16", answers)

    assert score.total == 3 + 2 + 2 + 1 + 2 + 1 + 0 + 3 + 2 == 16
    assert score.severity == "Severe"
    assert score.complete is True
    assert score.risk == ("12",)


def test_qids_sr16_all_items_3_is_27_not_48() -> None:
    """16 items at 3 would sum to 48; by domains (9 × 3) the maximum is 27."""
    score = measures.score("qids_sr16", {str(i): 3 for i in range(1, 17)})

    assert score.total == 27
    assert score.severity == "Very severe"


@pytest.mark.parametrize(("item6", "item7"), [(1, 3), (3, 1), (3, 3)])
def test_qids_sr16_answers_in_both_6_and_7_take_the_maximum(item6: int, item7: int) -> None:
    answers = {str(i): 0 for i in range(1, 17)} | {"6": item6, "7": item7}

    score = measures.score("qids_sr16", answers)

    assert score.total == 3


def test_qids_sr16_appetite_domain_answered_via_item_7_only() -> None:
    answers = {str(i): 0 for i in range(1, 17) if i not in (6, 8, 9)} | {"7": 2}

    score = measures.score("qids_sr16", answers)

    assert score.total == 2
    assert score.complete is True
    assert score.missing == ()


# --- risk items -------------------------------------------------------------------------------

RISK_ITEMS = [
    ("phq9", "9"),  # PHQ-9 item 9, thoughts of being better off dead or of self-harm (DOMAIN.md §3)
    ("hrsd17", "3"),  # HRSD-17 item 3, suicide
    ("core10", "6"),  # CORE-10 item 6, plans to end one's life
    ("bdi2", "9"),  # BDI-II item 9, suicidal thoughts or wishes
    ("qids_sr16", "12"),  # QIDS-SR16 item 12, thoughts of death or suicide
]


@pytest.mark.parametrize(("instrument_id", "item"), RISK_ITEMS)
def test_risk_item_at_1_is_flagged(instrument_id: str, item: str) -> None:
    answers = answers_with_total(instrument_id, 0) | {item: 1}

    score = measures.score(instrument_id, answers)

    assert score.risk == (item,)


@pytest.mark.parametrize(("instrument_id", "item"), RISK_ITEMS)
def test_risk_item_at_0_is_not_flagged(instrument_id: str, item: str) -> None:
    answers = answers_with_total(instrument_id, 0) | {item: 0}

    score = measures.score(instrument_id, answers)

    assert score.risk == ()


@pytest.mark.parametrize("instrument_id", ["gad7", "wsas"])
def test_instrument_without_risk_item_never_flags_risk(instrument_id: str) -> None:
    inst = measures.get(instrument_id)

    score = measures.score(instrument_id, {i.id: i.max for i in inst.items})

    assert score.risk == ()


def test_phq9_risk_reported_when_total_not_scorable() -> None:
    """Five items missing (more than the two the NHS Data Dictionary allows): no total, but the
    self-harm item answered 2 must still raise the risk flag."""
    answers = {"1": 0, "2": 0, "3": 0, "9": 2}

    score = measures.score("phq9", answers)

    assert score.total is None
    assert score.complete is False
    assert len(score.missing) == 5
    assert score.risk == ("9",)


@pytest.mark.parametrize(("instrument_id", "item"), RISK_ITEMS)
def test_risk_reported_when_only_the_risk_item_is_answered(instrument_id: str, item: str) -> None:
    score = measures.score(instrument_id, {item: 1})

    assert score.total is None
    assert score.risk == (item,)


# --- unanswered risk items: unknown risk, never "no risk" ------------------------------------------


@pytest.mark.parametrize(("instrument_id", "item"), RISK_ITEMS)
def test_unanswered_risk_item_is_reported(instrument_id: str, item: str) -> None:
    answers = {k: v for k, v in answers_with_total(instrument_id, 0).items() if k != item}

    score = measures.score(instrument_id, answers)

    assert score.risk == ()
    assert score.risk_unanswered == (item,)
    assert score.to_dict()["risk_unanswered"] == [item]


@pytest.mark.parametrize(("instrument_id", "item"), RISK_ITEMS)
def test_risk_item_answered_0_is_not_reported_unanswered(instrument_id: str, item: str) -> None:
    score = measures.score(instrument_id, answers_with_total(instrument_id, 0) | {item: 0})

    assert score.risk_unanswered == ()


def test_phq9_item_9_missing_is_prorated_and_reported_unanswered() -> None:
    """The case of issue #12: eight items answered, item 9 left blank. The total is prorated
    under the NHS rule, and the score says the risk item was not answered."""
    answers = {str(i): 1 for i in range(1, 9)} | {"9": None}

    score = measures.score("phq9", answers)

    assert score.total == 9
    assert score.prorated is True
    assert score.risk_unanswered == ("9",)


def test_unanswered_risk_item_reported_when_total_not_scorable() -> None:
    score = measures.score("phq9", {"1": 1})

    assert score.total is None
    assert score.risk_unanswered == ("9",)


@pytest.mark.parametrize("instrument_id", ["gad7", "wsas"])
def test_instrument_without_risk_item_never_reports_one_unanswered(instrument_id: str) -> None:
    score = measures.score(instrument_id, {})

    assert score.risk_unanswered == ()
