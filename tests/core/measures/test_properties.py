"""Hypothesis properties over every instrument in the catalogue (STYLE.md item 14).

Strategies are built from the definitions themselves: any subset of the items answered with
any value the item allows. The expected behaviour is the documented schema (docs/measures.md):
totals within the declared range, bands tiling the range with both edges inclusive, reverse
keying ``min + max − value``, prorating only up to ``max_missing`` components.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interpersonal.core import measures

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    database=None,  # keep the working tree clean: no .hypothesis directory
    suppress_health_check=[HealthCheck.too_slow],
)

INSTRUMENT_IDS = [i.id for i in measures.catalogue()]


def any_answers(inst: measures.Instrument) -> st.SearchStrategy[dict[str, int]]:
    """Any subset of the items, each with one of its allowed values."""
    return st.fixed_dictionaries({}, optional={i.id: st.sampled_from(i.values) for i in inst.items})


def complete_answers(inst: measures.Instrument) -> st.SearchStrategy[dict[str, int]]:
    """Every item answered (grouped items too), each with one of its allowed values."""
    return st.fixed_dictionaries({i.id: st.sampled_from(i.values) for i in inst.items})


def missing_components(inst: measures.Instrument, answers: dict[str, int]) -> int:
    """Components with no answer, counted from the definition: a scored ungrouped item, or a
    group none of whose items is answered."""
    grouped = {m for g in inst.scoring.groups for m in g.items}
    singles = [i.id for i in inst.scored_items if i.id not in grouped]
    n = sum(1 for item_id in singles if answers.get(item_id) is None)
    n += sum(1 for g in inst.scoring.groups if all(answers.get(m) is None for m in g.items))
    return n


def allowed_missing(inst: measures.Instrument) -> int:
    return inst.missing.max_missing if inst.missing.rule == "prorate" else 0


@pytest.mark.parametrize("instrument_id", INSTRUMENT_IDS)
@PROPERTY
@given(data=st.data())
def test_total_within_score_range(instrument_id: str, data: st.DataObject) -> None:
    inst = measures.get(instrument_id)
    answers = data.draw(any_answers(inst))

    score = measures.score(instrument_id, answers)

    if score.total is not None:
        lo, hi = inst.scoring.score_range
        assert lo <= score.total <= hi
        assert score.severity is not None


@pytest.mark.parametrize("instrument_id", INSTRUMENT_IDS)
@PROPERTY
@given(data=st.data())
def test_item_order_irrelevant(instrument_id: str, data: st.DataObject) -> None:
    inst = measures.get(instrument_id)
    answers = data.draw(any_answers(inst))
    order = data.draw(st.permutations(list(answers)))
    shuffled = {k: answers[k] for k in order}

    assert measures.score(instrument_id, shuffled) == measures.score(instrument_id, answers)


@pytest.mark.parametrize("instrument_id", INSTRUMENT_IDS)
def test_bands_tile_range_and_every_integer_total_has_its_band(instrument_id: str) -> None:
    inst = measures.get(instrument_id)
    lo, hi = inst.scoring.score_range
    assert inst.bands, f"{instrument_id} has no bands"
    assert inst.bands[0].min == lo
    assert inst.bands[-1].max == hi
    for before, after in zip(inst.bands, inst.bands[1:], strict=False):
        assert before.min <= before.max
        assert after.min == before.max + 1  # whole-number totals: no gap, no overlap

    for total in range(int(lo), int(hi) + 1):
        containing = [b.label for b in inst.bands if b.contains(total)]
        assert containing == [inst.severity(total)], (instrument_id, total)


@pytest.mark.parametrize("instrument_id", INSTRUMENT_IDS)
def test_severity_none_outside_range(instrument_id: str) -> None:
    inst = measures.get(instrument_id)
    lo, hi = inst.scoring.score_range

    assert inst.severity(lo - 1) is None
    assert inst.severity(hi + 1) is None


@pytest.mark.parametrize("instrument_id", INSTRUMENT_IDS)
@PROPERTY
@given(data=st.data())
def test_scored_severity_is_band_containing_total(instrument_id: str, data: st.DataObject) -> None:
    inst = measures.get(instrument_id)

    score = measures.score(instrument_id, data.draw(complete_answers(inst)))

    assert score.total is not None
    assert [b.label for b in inst.bands if b.contains(score.total)] == [score.severity]


@pytest.mark.parametrize("instrument_id", INSTRUMENT_IDS)
def test_reverse_keying_is_an_involution(instrument_id: str) -> None:
    for item in measures.get(instrument_id).items:
        for value in item.values:
            assert item.keyed(item.keyed(value)) == value, (instrument_id, item.id, value)
            assert item.min <= item.keyed(value) <= item.max


@pytest.mark.parametrize("instrument_id", INSTRUMENT_IDS)
@PROPERTY
@given(data=st.data())
def test_complete_answers_scored_complete_and_not_prorated(instrument_id: str, data: st.DataObject) -> None:
    inst = measures.get(instrument_id)

    score = measures.score(instrument_id, data.draw(complete_answers(inst)))

    assert score.complete is True
    assert score.prorated is False
    assert score.total is not None
    assert score.missing == ()
    assert score.reason is None


@pytest.mark.parametrize("instrument_id", INSTRUMENT_IDS)
@PROPERTY
@given(data=st.data())
def test_complete_sum_instrument_total_is_sum_of_components(instrument_id: str, data: st.DataObject) -> None:
    """Hand rule from the definition: each ungrouped scored item keyed, each group its maximum."""
    inst = measures.get(instrument_id)
    answers = data.draw(complete_answers(inst))
    grouped = {m for g in inst.scoring.groups for m in g.items}
    expected = sum(i.keyed(answers[i.id]) for i in inst.scored_items if i.id not in grouped)
    expected += sum(max(answers[m] for m in g.items) for g in inst.scoring.groups)

    score = measures.score(instrument_id, answers)

    assert inst.scoring.method == "sum"
    assert score.total == expected


def _monotone_ids() -> list[str]:
    return [
        i.id for i in measures.catalogue() if i.scoring.method == "sum" and not any(item.reverse for item in i.items)
    ]


@pytest.mark.parametrize("instrument_id", _monotone_ids())
@PROPERTY
@given(data=st.data())
def test_raising_one_answer_never_lowers_total(instrument_id: str, data: st.DataObject) -> None:
    inst = measures.get(instrument_id)
    answers = data.draw(any_answers(inst))
    raisable = [k for k, v in answers.items() if v < inst.item(k).max]
    if not raisable:
        return
    key = data.draw(st.sampled_from(raisable))
    higher = {**answers, key: data.draw(st.integers(answers[key] + 1, inst.item(key).max))}

    low, high = measures.score(instrument_id, answers), measures.score(instrument_id, higher)

    assert (low.total is None) == (high.total is None)
    if low.total is not None and high.total is not None:
        assert high.total >= low.total


@pytest.mark.parametrize("instrument_id", INSTRUMENT_IDS)
@PROPERTY
@given(data=st.data())
def test_never_a_number_when_missing_exceeds_rule(instrument_id: str, data: st.DataObject) -> None:
    inst = measures.get(instrument_id)
    answers = data.draw(any_answers(inst))
    n_missing = missing_components(inst, answers)

    score = measures.score(instrument_id, answers)

    assert len(score.missing) == n_missing
    if n_missing > allowed_missing(inst):
        assert score.total is None
        assert score.severity is None
        assert score.caseness is None
        assert score.prorated is False
        assert score.reason
    else:
        assert score.total is not None
        assert score.prorated is (n_missing > 0)
        assert score.complete is (n_missing == 0)


PRORATING_IDS = [i.id for i in measures.catalogue() if i.missing.rule == "prorate"]


@pytest.mark.parametrize("instrument_id", PRORATING_IDS)
@PROPERTY
@given(data=st.data())
def test_prorated_total_is_mean_substitution_rounded_half_up(instrument_id: str, data: st.DataObject) -> None:
    """NHS Data Dictionary (PHQ-9/GAD-7), CORE System Trust (CORE-10): the answered sum × n ÷
    answered (the mean substituted for each missing item), rounded half up by default."""
    inst = measures.get(instrument_id)
    assert not inst.scoring.groups  # the hand rule below is for single-item components
    scored = [i.id for i in inst.scored_items]
    n_missing = data.draw(st.integers(1, inst.missing.max_missing))
    missing = data.draw(st.lists(st.sampled_from(scored), min_size=n_missing, max_size=n_missing, unique=True))
    answers = {i: data.draw(st.sampled_from(inst.item(i).values)) for i in scored if i not in missing}
    answered = [inst.item(k).keyed(v) for k, v in answers.items()]
    exact = Fraction(sum(answered) * len(scored), len(answered))

    score = measures.score(instrument_id, answers)

    assert score.total == math.floor(exact + Fraction(1, 2))
    assert score.prorated is True
    assert score.complete is False
    assert sorted(score.missing, key=int) == sorted(missing, key=int)


@pytest.mark.parametrize("instrument_id", INSTRUMENT_IDS)
@PROPERTY
@given(data=st.data())
def test_risk_flag_depends_only_on_risk_item(instrument_id: str, data: st.DataObject) -> None:
    inst = measures.get(instrument_id)
    answers = data.draw(any_answers(inst))

    score = measures.score(instrument_id, answers)

    expected = tuple(r.item for r in inst.risk if answers.get(r.item) is not None and answers[r.item] >= r.at_or_above)
    assert score.risk == expected


@pytest.mark.parametrize("instrument_id", INSTRUMENT_IDS)
@PROPERTY
@given(data=st.data())
def test_every_risk_item_is_either_answered_or_reported_unanswered(instrument_id: str, data: st.DataObject) -> None:
    inst = measures.get(instrument_id)
    answers = data.draw(any_answers(inst))

    score = measures.score(instrument_id, answers)

    for r in inst.risk:
        assert (answers.get(r.item) is None) == (r.item in score.risk_unanswered)
