"""Fuzzing the scoring engine (issue 7b): whatever it is given, ``measures.score`` returns a
Score (a total inside the instrument's range, or None with a reason) or raises InvalidAnswers /
UnknownInstrument; never another exception, never a total when a value was invalid."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interpersonal.cli import UsageError, parse_answers
from interpersonal.core import measures

INSTRUMENTS = [i.id for i in measures.catalogue()]
RUNS: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def report_examples_run():
    """How many examples each target ran, printed when the module's tests are done (``-s``)."""
    yield
    print(f"\n[fuzz-engine] {len(INSTRUMENTS)} instruments; examples run: {RUNS} total {sum(RUNS.values())}")


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-3, max_value=10),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8), st.binary(max_size=4),
    st.just(float("nan")), st.decimals(allow_nan=True),
)
values = st.recursive(scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
                      max_leaves=5)
odd_keys = st.one_of(st.text(max_size=4), st.integers(), st.none(), st.booleans(), st.floats(), st.tuples(st.integers()))


def item_ids(instrument_id):
    return [i.id for i in measures.get(instrument_id).items]


@st.composite
def answer_sets(draw, instrument_id):
    """Mostly real item ids with any value; sometimes foreign keys or a non-mapping."""
    ids = item_ids(instrument_id)
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(values)
    answers = {k: draw(values | st.sampled_from(sorted(measures.get(instrument_id).item(k).values)))
               for k in draw(st.lists(st.sampled_from(ids), unique=True))}
    if kind == 1:
        answers.update(draw(st.dictionaries(odd_keys, values, max_size=2)))
    return answers


def valid(instrument_id, answers) -> bool:
    inst = measures.get(instrument_id)
    if not isinstance(answers, dict):
        return False
    for key, value in answers.items():
        if not isinstance(key, str) or key not in {i.id for i in inst.items}:
            return False
        if value is None:
            continue
        if type(value) is not int or value not in inst.item(key).values:
            return False
    return True


def check_score(instrument_id, answers):
    inst = measures.get(instrument_id)
    try:
        s = measures.score(instrument_id, answers)
    except measures.InvalidAnswers:
        assert not valid(instrument_id, answers), f"{instrument_id}: valid answers refused: {answers!r}"
        return None
    assert valid(instrument_id, answers), f"{instrument_id}: invalid answers scored: {answers!r} -> {s}"
    if s.total is None:
        assert s.reason, f"{instrument_id}: no total and no reason"
    else:
        lo, hi = inst.scoring.score_range
        assert isinstance(s.total, int | float)
        assert not isinstance(s.total, bool)
        assert not math.isnan(s.total)
        assert lo <= s.total <= hi, f"{instrument_id}: total {s.total} outside {lo}..{hi}"
    return s


@pytest.mark.parametrize("instrument_id", INSTRUMENTS)
def test_score_never_crashes_and_never_scores_an_invalid_value(instrument_id):
    @FUZZ
    @given(answers=answer_sets(instrument_id))
    def run(answers):
        RUNS["score"] = RUNS.get("score", 0) + 1
        check_score(instrument_id, answers)

    run()


@pytest.mark.parametrize("instrument_id", INSTRUMENTS)
def test_change_never_crashes(instrument_id):
    @FUZZ
    @given(before=answer_sets(instrument_id), after=answer_sets(instrument_id))
    def run(before, after):
        RUNS["change"] = RUNS.get("change", 0) + 1
        try:
            c = measures.change(instrument_id, before, after)
        except measures.InvalidAnswers:
            assert not (valid(instrument_id, before) and valid(instrument_id, after))
            return
        assert valid(instrument_id, before)
        assert valid(instrument_id, after)
        if c.before.total is None or c.after.total is None:
            assert c.difference is None
        else:
            assert c.difference is not None

    run()


@FUZZ
@given(instrument_id=st.text(max_size=10), answers=st.dictionaries(st.text(max_size=3), scalars, max_size=3))
def test_unknown_instrument_is_unknown_instrument(instrument_id, answers):
    RUNS["unknown"] = RUNS.get("unknown", 0) + 1
    try:
        check_score(instrument_id, answers) if instrument_id in INSTRUMENTS else measures.score(instrument_id, answers)
    except measures.UnknownInstrument:
        assert instrument_id not in INSTRUMENTS
    except measures.InvalidAnswers:
        assert instrument_id in INSTRUMENTS


@FUZZ
@given(instrument_id=st.sampled_from(INSTRUMENTS), total=scalars)
def test_change_totals_refuses_anything_but_an_in_range_number(instrument_id, total):
    RUNS["change_totals"] = RUNS.get("change_totals", 0) + 1
    lo, hi = measures.get(instrument_id).scoring.score_range
    try:
        measures.change_totals(instrument_id, total, total)
    except measures.InvalidAnswers:
        return
    assert isinstance(total, int | float)
    assert not isinstance(total, bool)
    assert lo <= total <= hi


cli_text = st.lists(
    st.tuples(st.text(alphabet="0123456789abc =,_-+١ \t", max_size=4), st.sampled_from(["=", "", "=="]),
              st.text(alphabet="0123456789-+ .e_١x", max_size=5)).map(lambda t: "".join(t)),
    max_size=12,
).map(",".join) | st.text(max_size=30)


@pytest.mark.parametrize("instrument_id", INSTRUMENTS)
def test_cli_parse_answers_then_score(instrument_id):
    @FUZZ
    @given(text=cli_text)
    def run(text):
        RUNS["cli"] = RUNS.get("cli", 0) + 1
        try:
            answers = parse_answers(text, instrument_id)
        except UsageError:
            return
        assert all(v is None or type(v) is int for v in answers.values())
        check_score(instrument_id, answers)

    run()
