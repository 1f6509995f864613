"""Answers the engine must refuse: an error naming the problem, never a number.

Contract: interpersonal/core/measures/_errors.py — UnknownInstrument is a LookupError;
InvalidAnswers is a ValueError naming the item and the values it allows. Too many *missing*
answers is not an error (see test_missing_rules.py).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from interpersonal.core import measures

PHQ9_COMPLETE = {str(i): 1 for i in range(1, 10)}


@pytest.mark.parametrize("instrument_id", ["phq10", "PHQ9", "", "phq9 "])
def test_unknown_instrument_raises_unknown_instrument(instrument_id: str) -> None:
    with pytest.raises(measures.UnknownInstrument) as err:
        measures.score(instrument_id, PHQ9_COMPLETE)

    assert isinstance(err.value, LookupError)
    assert isinstance(err.value, measures.MeasuresError)
    assert repr(instrument_id) in str(err.value)
    assert "phq9" in str(err.value)  # lists the known ids


def test_unknown_instrument_from_get_and_change() -> None:
    with pytest.raises(LookupError):
        measures.get("nope")
    with pytest.raises(measures.UnknownInstrument):
        measures.change("nope", PHQ9_COMPLETE, PHQ9_COMPLETE)
    with pytest.raises(measures.UnknownInstrument):
        measures.change_totals("nope", 1, 2)


def test_unhashable_instrument_id_raises_unknown_instrument() -> None:
    with pytest.raises(measures.UnknownInstrument):
        measures.get(["phq9"])  # type: ignore[arg-type]


@pytest.mark.parametrize("item", ["0", "11", "q1", "9a", " 1"])
def test_unknown_item_id_names_the_item(item: str) -> None:
    with pytest.raises(measures.InvalidAnswers) as err:
        measures.score("phq9", {**PHQ9_COMPLETE, item: 1})

    assert isinstance(err.value, ValueError)
    assert err.value.item == item
    assert err.value.instrument_id == "phq9"
    assert "not an item" in str(err.value)


def test_integer_item_key_is_rejected() -> None:
    with pytest.raises(measures.InvalidAnswers) as err:
        measures.score("phq9", {1: 1, **PHQ9_COMPLETE})  # type: ignore[dict-item]

    assert err.value.item == "1"


@pytest.mark.parametrize(
    ("instrument_id", "item", "value", "allowed"),
    [
        ("phq9", "1", 4, "0, 1, 2, 3"),
        ("phq9", "1", -1, "0, 1, 2, 3"),
        ("gad7", "7", 4, "0, 1, 2, 3"),
        ("hrsd17", "4", 3, "0, 1, 2"),
        ("hrsd17", "16", 3, "0, 1, 2"),
        ("core10", "2", 5, "0, 1, 2, 3, 4"),
        ("wsas", "5", 9, "0, 1, 2, 3, 4, 5, 6, 7, 8"),
        ("bdi2", "21", 4, "0, 1, 2, 3"),
        ("qids_sr16", "12", 4, "0, 1, 2, 3"),
    ],
)
def test_value_out_of_range_names_item_and_allowed_values(
    instrument_id: str, item: str, value: int, allowed: str
) -> None:
    with pytest.raises(measures.InvalidAnswers) as err:
        measures.score(instrument_id, {item: value})

    assert err.value.item == item
    assert allowed in str(err.value)
    assert str(value) in str(err.value)


@pytest.mark.parametrize("value", ["2", 2.0, 2.5, True, False, [2], {"value": 2}, b"2", float("nan")])
def test_wrong_value_type_is_rejected(value: Any) -> None:
    with pytest.raises(measures.InvalidAnswers) as err:
        measures.score("phq9", {**PHQ9_COMPLETE, "3": value})

    assert err.value.item == "3"
    assert "whole number" in str(err.value)


@pytest.mark.parametrize("answers", [None, [1, 1, 1], "123456789", 9, (("1", 1),)])
def test_non_mapping_answers_rejected(answers: Any) -> None:
    with pytest.raises(measures.InvalidAnswers) as err:
        measures.score("phq9", answers)

    assert "mapping" in str(err.value)


def test_read_only_mapping_answers_accepted() -> None:
    score = measures.score("phq9", MappingProxyType(PHQ9_COMPLETE))

    assert score.total == 9


def test_invalid_answer_in_otherwise_scorable_set_never_returns_a_number() -> None:
    """One bad value must not be dropped and the rest prorated: the whole set is refused."""
    answers = {**PHQ9_COMPLETE, "9": 7}

    with pytest.raises(measures.InvalidAnswers):
        measures.score("phq9", answers)


def test_change_rejects_score_of_another_instrument() -> None:
    gad = measures.score("gad7", {str(i): 1 for i in range(1, 8)})

    with pytest.raises(measures.InvalidAnswers):
        measures.change("phq9", gad, PHQ9_COMPLETE)


def test_change_rejects_invalid_answers() -> None:
    with pytest.raises(measures.InvalidAnswers):
        measures.change("phq9", {**PHQ9_COMPLETE, "1": "3"}, PHQ9_COMPLETE)
