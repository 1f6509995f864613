"""Suitability rules as data (interpersonal.core.pathways.suitability).

The kinds of rule and their defaults come from DOMAIN.md §6: typical NHS Talking Therapies
service rules, every one [U] as a national rule — adults (18, or 17 years 9 months); not a crisis
service (significant or imminent suicide risk → crisis pathway); psychosis F20–F29, bipolar F31,
primary personality disorder F60, organic F00–F09, substance misuse F10–F19 → secondary care;
already under secondary mental health care → refer on. The rules suggest; a clinician decides.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interpersonal.core.pathways import (
    Facts,
    Outcome,
    Rule,
    RuleError,
    RuleKind,
    Suggestion,
    age_on,
    descriptor_matches,
    evaluate,
    validate_params,
)

TODAY = dt.date(2026, 12, 1)


def rule(kind, params, outcome=Outcome.REFER_ON, rid=1, name="rule"):
    return Rule(id=rid, name=name, kind=kind, params=params, outcome=outcome, message="m")


ADULTS = rule(RuleKind.MIN_AGE, {"years": 18, "months": 0}, Outcome.SIGNPOST, name="Adults only")
FROM_17_9 = rule(RuleKind.MIN_AGE, {"years": 17, "months": 9}, Outcome.SIGNPOST, name="From 17y9m")
CRISIS = rule(RuleKind.RISK, {"phq9_item9_at_least": 3, "clinician_judgement": True}, Outcome.SIGNPOST, name="Crisis")
ITEM9_REVIEW = rule(RuleKind.RISK, {"phq9_item9_at_least": 1, "clinician_judgement": False}, Outcome.REVIEW)
PSYCHOSIS = rule(RuleKind.PROBLEM_DESCRIPTOR, {"codes": ["F20-F29"]}, name="Psychosis")
BIPOLAR = rule(RuleKind.PROBLEM_DESCRIPTOR, {"codes": ["F31"]}, name="Bipolar")
SECONDARY = rule(RuleKind.SECONDARY_CARE, {}, name="Secondary care")


def facts(**kw):
    return Facts(on=TODAY, **kw)


# --- age (DOMAIN.md §6: adults, 18 or 17 years 9 months by service) ---------------------------


@pytest.mark.parametrize(("born", "expected"), [
    (dt.date(2008, 12, 1), (18, 0)),   # 18th birthday today
    (dt.date(2008, 12, 2), (17, 11)),  # tomorrow
    (dt.date(2009, 3, 1), (17, 9)),
    (dt.date(2009, 3, 2), (17, 8)),
])
def test_age_in_completed_years_and_months(born, expected):
    assert age_on(born, TODAY) == expected


def test_born_on_the_31st_completes_a_month_on_the_last_day_of_a_shorter_month():
    assert age_on(dt.date(2000, 1, 31), dt.date(2000, 2, 29)) == (0, 1)
    assert age_on(dt.date(2000, 1, 31), dt.date(2000, 2, 28)) == (0, 0)


def test_minimum_age_18_fires_the_day_before_the_18th_birthday_only():
    """DOMAIN.md §6: adults (≥ 18 by service)."""
    assert evaluate([ADULTS], facts(date_of_birth=dt.date(2008, 12, 2))).fired
    assert not evaluate([ADULTS], facts(date_of_birth=dt.date(2008, 12, 1))).fired


def test_minimum_age_17_years_9_months_option():
    """DOMAIN.md §6: some services accept from 17 years 9 months."""
    assert not evaluate([FROM_17_9], facts(date_of_birth=dt.date(2009, 3, 1))).fired
    assert evaluate([FROM_17_9], facts(date_of_birth=dt.date(2009, 3, 2))).fired
    assert evaluate([FROM_17_9], facts(date_of_birth=dt.date(2009, 3, 2))).suggestion is Suggestion.SIGNPOST


def test_unknown_date_of_birth_is_not_passed():
    result = evaluate([ADULTS], facts())
    assert result.unknown
    assert not result.fired
    assert result.suggestion is Suggestion.INCOMPLETE


# --- risk (DOMAIN.md §6: not a crisis service) -----------------------------------------------


@pytest.mark.parametrize(("item9", "fired"), [(0, False), (2, False), (3, True)])
def test_risk_rule_fires_at_its_item_9_threshold(item9, fired):
    result = evaluate([CRISIS], facts(phq9_item9=item9, clinician_risk=False))
    assert bool(result.fired) is fired


def test_risk_rule_fires_on_the_clinicians_judgement_whatever_item_9_says():
    result = evaluate([CRISIS], facts(phq9_item9=0, clinician_risk=True))
    assert result.suggestion is Suggestion.SIGNPOST
    assert "judged" in result.fired[0].why


def test_an_unanswered_item_9_is_unknown_risk_not_no_risk():
    """Risk is never hidden: item 9 not answered and no judgement recorded is 'not checked'."""
    result = evaluate([CRISIS], facts(phq9_item9=None, clinician_risk=None))
    assert result.unknown
    assert result.suggestion is Suggestion.INCOMPLETE
    assert "ask about risk" in result.unknown[0].why


def test_item_9_review_rule_flags_any_answer_above_0():
    assert evaluate([ITEM9_REVIEW], facts(phq9_item9=1)).suggestion is Suggestion.REVIEW
    assert evaluate([ITEM9_REVIEW], facts(phq9_item9=0)).suggestion is Suggestion.SUITABLE


# --- problem descriptors (DOMAIN.md §6: psychosis, bipolar, ... → secondary care) ------------


@pytest.mark.parametrize(("descriptor", "codes", "matches"), [
    ("F20", ["F20-F29"], True),
    ("F29", ["F20-F29"], True),
    ("F25.1", ["F20-F29"], True),
    ("f231", ["F20-F29"], True),
    ("F30", ["F20-F29"], False),
    ("F19", ["F20-F29"], False),
    ("F31", ["F31"], True),
    ("F31.1", ["F31"], True),
    ("F311", ["F31"], True),
    ("F32", ["F31"], False),
    ("F43.1", ["F43.1"], True),
    ("F43.10", ["F43.1"], True),
    ("F43.2", ["F43.1"], False),
    ("G31", ["F31"], False),
    ("nonsense", ["F31"], False),
])
def test_icd10_descriptor_matching(descriptor, codes, matches):
    assert descriptor_matches(descriptor, codes) is matches


def test_problem_descriptor_rule_refers_on_and_names_the_code():
    result = evaluate([PSYCHOSIS, BIPOLAR], facts(problem_descriptor="F31.1"))
    assert [f.rule.name for f in result.fired] == ["Bipolar"]
    assert result.suggestion is Suggestion.REFER_ON
    assert "F31.1" in result.fired[0].why


def test_no_descriptor_recorded_is_not_checked():
    assert evaluate([PSYCHOSIS], facts(problem_descriptor="")).suggestion is Suggestion.INCOMPLETE


# --- secondary care ----------------------------------------------------------------------------


def test_secondary_care_rule():
    assert evaluate([SECONDARY], facts(under_secondary_care=True)).suggestion is Suggestion.REFER_ON
    assert evaluate([SECONDARY], facts(under_secondary_care=False)).suggestion is Suggestion.SUITABLE
    assert evaluate([SECONDARY], facts()).suggestion is Suggestion.INCOMPLETE


# --- the suggestion ---------------------------------------------------------------------------


def test_signposting_comes_before_referring_on_and_review():
    """The crisis pathway must not wait behind a referral on (PRECEDENCE, docs/screening.md)."""
    result = evaluate([PSYCHOSIS, ITEM9_REVIEW, CRISIS],
                      facts(problem_descriptor="F20", phq9_item9=3, clinician_risk=False))
    assert len(result.fired) == 3
    assert result.suggestion is Suggestion.SIGNPOST


def test_a_fired_rule_outweighs_an_unknown_one():
    result = evaluate([SECONDARY, PSYCHOSIS], facts(problem_descriptor="F20"))
    assert result.suggestion is Suggestion.REFER_ON
    assert [f.rule.name for f in result.unknown] == ["Secondary care"]


def test_nothing_fired_and_everything_known_is_suitable():
    result = evaluate([ADULTS, CRISIS, PSYCHOSIS, SECONDARY], facts(
        date_of_birth=dt.date(1980, 1, 1), phq9_item9=0, clinician_risk=False, problem_descriptor="F32",
        under_secondary_care=False))
    assert result.suggestion is Suggestion.SUITABLE
    assert not result.fired
    assert not result.unknown


def test_no_rules_is_suitable():
    assert evaluate([], facts()).suggestion is Suggestion.SUITABLE


@given(st.lists(st.sampled_from([ADULTS, FROM_17_9, CRISIS, ITEM9_REVIEW, PSYCHOSIS, BIPOLAR, SECONDARY])),
       st.sampled_from([None, 0, 1, 2, 3]), st.sampled_from([None, True, False]))
def test_the_suggestion_is_the_most_protective_outcome_of_the_fired_rules(rules, item9, judged):
    result = evaluate(rules, facts(date_of_birth=dt.date(2000, 1, 1), phq9_item9=item9, clinician_risk=judged,
                                   problem_descriptor="F31", under_secondary_care=False))
    outcomes = {f.rule.outcome for f in result.fired}
    if Outcome.SIGNPOST in outcomes:
        assert result.suggestion is Suggestion.SIGNPOST
    elif outcomes:
        assert result.suggestion.value in {o.value for o in outcomes}
    else:
        assert result.suggestion in (Suggestion.SUITABLE, Suggestion.INCOMPLETE)
    assert len(result.findings) == len(rules)


# --- parameters -------------------------------------------------------------------------------


def test_params_are_normalised():
    assert validate_params("problem_descriptor", {"codes": [" f31 ", "F20-F29", "F31"]}) == {"codes": ["F31", "F20-F29"]}
    assert validate_params("secondary_care", {}) == {}


@pytest.mark.parametrize(("kind", "params", "field"), [
    ("min_age", {"years": 18}, "months"),
    ("min_age", {"years": 0, "months": 0}, "years"),
    ("min_age", {"years": 31, "months": 0}, "years"),
    ("min_age", {"years": True, "months": 0}, "years"),
    ("min_age", {"years": 18, "months": 12}, "months"),
    ("risk", {"phq9_item9_at_least": None, "clinician_judgement": False}, "phq9_item9_at_least"),
    ("risk", {"phq9_item9_at_least": 4, "clinician_judgement": True}, "phq9_item9_at_least"),
    ("risk", {"phq9_item9_at_least": 2, "clinician_judgement": "yes"}, "clinician_judgement"),
    ("problem_descriptor", {"codes": []}, "codes"),
    ("problem_descriptor", {"codes": "F31"}, "codes"),
    ("problem_descriptor", {"codes": ["F29-F20"]}, "codes"),
    ("problem_descriptor", {"codes": ["F20-G29"]}, "codes"),
    ("problem_descriptor", {"codes": ["depression"]}, "codes"),
    ("problem_descriptor", {"codes": ["F31"] * 51}, "codes"),
    ("secondary_care", {"years": 18}, "years"),
    ("nonsense", {}, "kind"),
])
def test_invalid_params_name_the_field(kind, params, field):
    with pytest.raises(RuleError) as caught:
        validate_params(kind, params)
    assert caught.value.field == field


def test_a_rule_with_invalid_params_cannot_be_built():
    with pytest.raises(RuleError):
        rule(RuleKind.MIN_AGE, {"years": "eighteen", "months": 0})
