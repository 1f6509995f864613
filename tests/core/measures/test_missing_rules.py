"""One test per missing-item rule (STYLE.md item 14), with the arithmetic done by hand.

Sources:
- PHQ-9 and GAD-7, NHS Data Dictionary: with one or two items missing, the mean of the answered
  items is substituted for each missing one (total = answered sum × n ÷ answered); with more than
  two missing the total is not calculated. Rounding to a whole number, halves up, is the
  definitions' default service setting (``rounding_confirmed = false``).
- CORE-10, CORE System Trust: one missing item is prorated (mean of the answered × 10); more than
  one, not scored.
- HRSD-17, BDI-II, WSAS, QIDS-SR16: no published rule could be confirmed; the definitions' default
  (rule "none") scores no form with a missing component. QIDS-SR16 counts a grouped domain as
  missing only when all its items are.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from interpersonal.core import measures


def phq9(values: list[int | None]) -> dict[str, int | None]:
    return {str(i): v for i, v in enumerate(values, start=1)}


# --- PHQ-9 / GAD-7: prorate up to two missing -----------------------------------------------------


def test_phq9_one_missing_item_prorated_10_125_rounds_to_10() -> None:
    # Arrange: 8 answered summing 9, item 9 missing.
    answers = phq9([2, 2, 1, 1, 1, 1, 1, 0, None])

    # Act
    score = measures.score("phq9", answers)

    # Assert: 9 × 9 / 8 = 10.125 → 10
    assert score.total == 10
    assert score.severity == "Moderate"
    assert score.caseness is True
    assert score.prorated is True
    assert score.complete is False
    assert score.missing == ("9",)
    assert score.answered == 8
    assert score.reason is None


def test_phq9_one_missing_item_half_rounds_up_4_5_to_5() -> None:
    # 8 answered summing 4: 4 × 9 / 8 = 4.5 → 5 (half up), which crosses into "Mild".
    answers = phq9([1, 1, 1, 1, 0, 0, 0, 0, None])

    score = measures.score("phq9", answers)

    assert score.total == 5
    assert score.severity == "Mild"


def test_phq9_two_missing_items_prorated_exactly_9() -> None:
    # 7 answered summing 7: 7 × 9 / 7 = 9 exactly, no rounding.
    answers = phq9([1, 1, 1, 1, 1, 1, 1, None, None])

    score = measures.score("phq9", answers)

    assert score.total == 9
    assert isinstance(score.total, int)
    assert score.severity == "Mild"
    assert score.caseness is False
    assert score.prorated is True
    assert score.missing == ("8", "9")


def test_phq9_two_missing_items_prorated_10_29_rounds_to_10() -> None:
    # 7 answered summing 8: 8 × 9 / 7 = 10.2857… → 10.
    answers = phq9([None, 2, 1, 1, 1, 1, 1, 1, None])

    score = measures.score("phq9", answers)

    assert score.total == 10


def test_phq9_missing_item_given_as_none_counts_as_missing() -> None:
    answers = phq9([3, 3, 3, 3, 3, 3, 3, 3, None])

    score = measures.score("phq9", answers)

    assert score.total == 27  # 24 × 9 / 8
    assert score.missing == ("9",)


def test_phq9_three_missing_items_not_scored() -> None:
    answers = phq9([1, 1, 1, 1, 1, 1, None, None, None])

    score = measures.score("phq9", answers)

    assert score.total is None
    assert score.severity is None
    assert score.caseness is None
    assert score.complete is False
    assert score.prorated is False
    assert score.missing == ("7", "8", "9")
    assert score.reason is not None
    assert "3 of 9" in score.reason
    assert "at most 2" in score.reason


def test_phq9_unscored_difficulty_item_does_not_count_towards_missing() -> None:
    answers = phq9([1, 1, 1, 1, 1, 1, 1, None, None]) | {"10": 2}

    score = measures.score("phq9", answers)

    assert score.total == 9
    assert score.answered == 7


def test_gad7_one_missing_item_prorated() -> None:
    # 6 answered summing 9: 9 × 7 / 6 = 10.5 → 11 (half up).
    answers = {"1": 2, "2": 2, "3": 2, "4": 1, "5": 1, "6": 1}

    score = measures.score("gad7", answers)

    assert score.total == 11
    assert score.severity == "Moderate"
    assert score.prorated is True


def test_gad7_half_rounds_up_3_5_to_4() -> None:
    # 6 answered summing 3: 3 × 7 / 6 = 3.5 → 4.
    answers = {"1": 1, "2": 1, "3": 1, "4": 0, "5": 0, "7": 0}

    score = measures.score("gad7", answers)

    assert score.total == 4


def test_gad7_two_missing_items_prorated() -> None:
    # 5 answered summing 6: 6 × 7 / 5 = 8.4 → 8, at caseness.
    answers = {"1": 2, "2": 1, "3": 1, "4": 1, "5": 1}

    score = measures.score("gad7", answers)

    assert score.total == 8
    assert score.caseness is True
    assert score.missing == ("6", "7")


def test_gad7_three_missing_items_not_scored() -> None:
    answers = {"1": 3, "2": 3, "3": 3, "4": 3}

    score = measures.score("gad7", answers)

    assert score.total is None
    assert score.complete is False
    assert score.reason is not None
    assert "3 of 7" in score.reason


# --- CORE-10: prorate one missing ------------------------------------------------------------------


def test_core10_one_missing_item_prorated() -> None:
    # Item 1 missing, the rest 0: items 2 and 3 count 4 each → 8 over 9 answered: 80 / 9 = 8.89 → 9.
    answers = {str(i): 0 for i in range(2, 11)}

    score = measures.score("core10", answers)

    assert score.total == 9
    assert score.prorated is True
    assert score.complete is False
    assert score.missing == ("1",)


def test_core10_missing_reverse_keyed_item_prorated() -> None:
    # Item 2 missing, item 3 = 0 (counts 4), the other eight 1: 12 over 9 answered: 120 / 9 = 13.33 → 13.
    answers = {str(i): 1 for i in range(1, 11)} | {"2": None, "3": 0}

    score = measures.score("core10", answers)

    assert score.total == 13
    assert score.caseness is True


def test_core10_two_missing_items_not_scored() -> None:
    answers = {str(i): 2 for i in range(3, 11)}

    score = measures.score("core10", answers)

    assert score.total is None
    assert score.reason is not None
    assert "at most 1" in score.reason


# --- rule "none" -----------------------------------------------------------------------------------


@pytest.mark.parametrize("instrument_id", ["hrsd17", "bdi2", "wsas", "qids_sr16"])
def test_rule_none_one_missing_item_not_scored(instrument_id: str) -> None:
    inst = measures.get(instrument_id)
    answers: dict[str, int | None] = {i.id: 1 for i in inst.scored_items}
    answers["5"] = None  # item 5 is a single-item component on all four

    score = measures.score(instrument_id, answers)

    assert score.total is None
    assert score.complete is False
    assert score.prorated is False
    assert score.missing == ("5",)
    assert score.reason is not None
    assert "no missing items" in score.reason


@pytest.mark.parametrize("instrument_id", ["hrsd17", "bdi2", "wsas", "qids_sr16"])
def test_rule_none_complete_form_scored(instrument_id: str) -> None:
    inst = measures.get(instrument_id)

    score = measures.score(instrument_id, {i.id: 1 for i in inst.scored_items})

    assert score.total is not None
    assert score.complete is True
    assert score.prorated is False


def test_qids_sr16_sleep_domain_all_items_missing_not_scored() -> None:
    answers = {str(i): 1 for i in range(5, 17)}

    score = measures.score("qids_sr16", answers)

    assert score.total is None
    assert score.missing == ("sleep",)


def test_qids_sr16_sleep_domain_with_one_answered_item_scored() -> None:
    answers = {str(i): 1 for i in range(5, 17)} | {"4": 2}

    score = measures.score("qids_sr16", answers)

    # sleep 2, item 5 1, appetite/weight 1, items 10-14 1 each, psychomotor 1
    assert score.total == 2 + 1 + 1 + 5 + 1 == 10
    assert score.complete is True
    assert score.prorated is False


def test_qids_sr16_psychomotor_domain_both_items_missing_not_scored() -> None:
    answers = {str(i): 1 for i in range(1, 15)}

    score = measures.score("qids_sr16", answers)

    assert score.total is None
    assert score.missing == ("psychomotor",)


def test_empty_answers_not_scored_for_every_instrument() -> None:
    for inst in measures.catalogue():
        score = measures.score(inst.id, {})
        assert score.total is None, inst.id
        assert score.answered == 0, inst.id


# --- rounding = "none": a service setting ----------------------------------------------------------


def test_phq9_rounding_none_setting_keeps_10_125(fresh_catalogue: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Arrange: the documented settings override (docs/measures.md, "Changing settings").
    settings = tmp_path / "settings.toml"
    settings.write_text('[phq9.missing]\nrounding = "none"\n', encoding="utf-8")
    fresh_catalogue.setenv("INTERPERSONAL_MEASURES_SETTINGS", str(settings))
    measures.reload()

    # Act: 8 answered summing 9 → 9 × 9 / 8 = 10.125
    score = measures.score("phq9", phq9([2, 2, 1, 1, 1, 1, 1, 0, None]))

    # Assert
    assert measures.get("phq9").missing.rounding == "none"
    assert score.total == pytest.approx(10.125, abs=0)
    assert score.severity == "Moderate"
    assert score.caseness is True
    assert score.prorated is True


def test_phq9_rounding_none_4_5_stays_in_none_minimal_band(fresh_catalogue: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A fractional total falls in the last band whose minimum it reaches (docs/measures.md):
    4.5 is not yet 5, so it stays 'None-minimal' and is not at caseness."""
    settings = tmp_path / "settings.toml"
    settings.write_text('[phq9.missing]\nrounding = "none"\n', encoding="utf-8")
    fresh_catalogue.setenv("INTERPERSONAL_MEASURES_SETTINGS", str(settings))
    measures.reload()

    score = measures.score("phq9", phq9([1, 1, 1, 1, 0, 0, 0, 0, None]))

    assert score.total == 4.5
    assert score.severity == "None-minimal"
    assert score.caseness is False


def test_rounding_setting_restored_after_reload() -> None:
    """Guards the fixture above: the shipped default is half up."""
    measures.reload()

    assert measures.get("phq9").missing.rounding == "half_up"
    assert measures.score("phq9", phq9([2, 2, 1, 1, 1, 1, 1, 0, None])).total == 10
