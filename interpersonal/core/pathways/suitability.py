"""Suitability rules: a service's rules for who it can treat, as data, evaluated to SUGGEST.

NHS Talking Therapies publishes no national list of exclusions. DOMAIN.md §6 records what
services typically apply, all **[U]** as national rules: adults only (18, or 17 years 9 months
in some services, to ease the move from children's services); not a crisis service (significant
or imminent suicide risk goes to the crisis line or single point of access); psychosis, bipolar
disorder, personality disorder as the primary problem, unmanaged substance misuse, organic
conditions and a need for long-term or multidisciplinary care go on to secondary care; nor a
patient already under secondary mental health care. So each service keeps its own rules (the
web layer stores them, editable by the service lead); this module only knows the *kinds* of
rule, checks their parameters, and evaluates them against what is known about one referral.

Evaluating never decides. It says which rules fired, which could not be checked because a fact
is unknown (risk never hidden: a risk question nobody asked is named, not passed), and suggests
the most protective outcome among the rules that fired; a clinician decides, with a reason.

    >>> import datetime as dt
    >>> rule = Rule(id=1, name="Adults only", kind=RuleKind.MIN_AGE, params={"years": 18, "months": 0},
    ...             outcome=Outcome.SIGNPOST, message="Under 18: children and young people's services.")
    >>> facts = Facts(on=dt.date(2026, 12, 1), date_of_birth=dt.date(2009, 3, 1))
    >>> result = evaluate([rule], facts)
    >>> [f.rule.name for f in result.fired], result.suggestion.value
    (['Adults only'], 'signpost')

Errors: :class:`RuleError` (a rule's kind, parameters or outcome are invalid; ``field`` names
the parameter) — a ``ValueError``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "PARAMETERS",
    "PRECEDENCE",
    "Evaluation",
    "Facts",
    "Finding",
    "Outcome",
    "Rule",
    "RuleError",
    "RuleKind",
    "Suggestion",
    "age_on",
    "descriptor_matches",
    "evaluate",
    "validate_params",
]


class RuleError(ValueError):
    """A suitability rule is invalid: ``field`` names the parameter (or "kind", "outcome")."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class RuleKind(StrEnum):
    """What a rule looks at. Adding a kind is code (here and its form); adding a rule is data."""

    MIN_AGE = "min_age"
    """The patient is younger than ``years`` and ``months`` on the day of screening."""
    RISK = "risk"
    """Significant or imminent suicide risk: PHQ-9 item 9 at or above ``phq9_item9_at_least``
    (at screening), or the screening clinician's judgement (``clinician_judgement``)."""
    PROBLEM_DESCRIPTOR = "problem_descriptor"
    """The referral's problem descriptor (ICD-10) is one of ``codes`` (categories or ranges)."""
    SECONDARY_CARE = "secondary_care"
    """The patient is already under secondary mental health care."""

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    RuleKind.MIN_AGE: "Minimum age",
    RuleKind.RISK: "Significant or imminent suicide risk",
    RuleKind.PROBLEM_DESCRIPTOR: "Problem descriptor (ICD-10)",
    RuleKind.SECONDARY_CARE: "Already under secondary mental health care",
}


class Outcome(StrEnum):
    """What a rule that fires suggests."""

    SIGNPOST = "signpost"
    """Signpost elsewhere (a crisis line, children's services), with the patient's agreement."""
    REFER_ON = "refer_on"
    """Refer on to another service (secondary mental health care)."""
    REVIEW = "review"
    """Flag for clinical review: a clinician must look before anything is decided."""

    @property
    def label(self) -> str:
        return _OUTCOME_LABELS[self]


_OUTCOME_LABELS = {
    Outcome.SIGNPOST: "Signpost elsewhere",
    Outcome.REFER_ON: "Refer on",
    Outcome.REVIEW: "Flag for clinical review",
}


class Suggestion(StrEnum):
    """What the rules suggest for one referral, as a whole."""

    SUITABLE = "suitable"
    """Every rule was checked and none fired."""
    SIGNPOST = "signpost"
    REFER_ON = "refer_on"
    REVIEW = "review"
    INCOMPLETE = "incomplete"
    """No rule fired, but at least one could not be checked: a fact is missing."""

    @property
    def label(self) -> str:
        return _SUGGESTION_LABELS[self]


_SUGGESTION_LABELS = {
    Suggestion.SUITABLE: "Suitable: no rule applies",
    Suggestion.SIGNPOST: "Signpost elsewhere",
    Suggestion.REFER_ON: "Refer on",
    Suggestion.REVIEW: "Clinical review needed",
    Suggestion.INCOMPLETE: "Not all rules could be checked",
}

PRECEDENCE: tuple[Outcome, ...] = (Outcome.SIGNPOST, Outcome.REFER_ON, Outcome.REVIEW)
"""When several rules fire, the first outcome here is suggested. Signposting comes first because
the rule that signposts to a crisis pathway is the one that must not wait (DOMAIN.md §6: not a
crisis service); this software's choice, documented in docs/screening.md."""

PARAMETERS: dict[RuleKind, tuple[str, ...]] = {
    RuleKind.MIN_AGE: ("years", "months"),
    RuleKind.RISK: ("phq9_item9_at_least", "clinician_judgement"),
    RuleKind.PROBLEM_DESCRIPTOR: ("codes",),
    RuleKind.SECONDARY_CARE: (),
}
"""The parameters each kind takes (all of them, every time: :func:`validate_params`)."""

_CATEGORY = re.compile(r"[A-Z][0-9]{2}")
_CODE = re.compile(r"([A-Z][0-9]{2})(?:\.?([0-9A-Z]{1,4}))?")
_RANGE = re.compile(r"([A-Z][0-9]{2})-([A-Z][0-9]{2})")
MAX_CODES = 50


def _int(params: Mapping[str, Any], name: str, low: int, high: int, *, optional: bool = False) -> int | None:
    value = params.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RuleError(name, f"a whole number from {low} to {high}{' (or none)' if optional else ''}")
    return value


def _normal_code(text: str) -> str:
    return text.strip().upper().replace(" ", "")


def _check_code(text: str) -> str:
    code = _normal_code(text)
    ranged = _RANGE.fullmatch(code)
    if ranged:
        first, last = ranged.groups()
        if first[0] != last[0] or first > last:
            raise RuleError("codes", f"{text!r}: a range runs from a lower to a higher category of one chapter "
                                     "letter, e.g. F20-F29")
        return code
    if not _CODE.fullmatch(code):
        raise RuleError("codes", f"{text!r} is not an ICD-10 code or range (e.g. F31, F43.1, F20-F29)")
    return code


def validate_params(kind: RuleKind | str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of a rule of ``kind``, checked and normalised (codes upper-case); a
    :class:`RuleError` names the first wrong one. Unknown parameter names are refused."""
    try:
        kind = RuleKind(kind)
    except ValueError:
        raise RuleError("kind", f"unknown kind {kind!r}") from None
    unknown = set(params) - set(PARAMETERS[kind])
    if unknown:
        raise RuleError(sorted(unknown)[0], f"not a parameter of a {kind.label.lower()} rule")
    if kind is RuleKind.MIN_AGE:
        years = _int(params, "years", 0, 30)
        months = _int(params, "months", 0, 11)
        if years == 0 and months == 0:
            raise RuleError("years", "a minimum age above 0")
        return {"years": years, "months": months}
    if kind is RuleKind.RISK:
        threshold = _int(params, "phq9_item9_at_least", 1, 3, optional=True)
        judgement = params.get("clinician_judgement")
        if not isinstance(judgement, bool):
            raise RuleError("clinician_judgement", "yes or no")
        if threshold is None and not judgement:
            raise RuleError("phq9_item9_at_least", "give a PHQ-9 item 9 threshold, or use the clinician's judgement, "
                                                   "or both")
        return {"phq9_item9_at_least": threshold, "clinician_judgement": judgement}
    if kind is RuleKind.PROBLEM_DESCRIPTOR:
        codes = params.get("codes")
        if isinstance(codes, str) or not isinstance(codes, list | tuple) or not codes:
            raise RuleError("codes", "at least one ICD-10 code or range")
        if len(codes) > MAX_CODES:
            raise RuleError("codes", f"at most {MAX_CODES} codes or ranges")
        if not all(isinstance(c, str) for c in codes):
            raise RuleError("codes", "codes are text, e.g. F31 or F20-F29")
        return {"codes": list(dict.fromkeys(_check_code(c) for c in codes))}
    return {}


def descriptor_matches(descriptor: str, codes: Iterable[str]) -> bool:
    """Whether an ICD-10 ``descriptor`` (e.g. "F31.1", "f311", "F20") falls under any of
    ``codes``: a range of categories ("F20-F29": F20 to F29, every subcode included), a category
    ("F31": F31 and its subcodes) or a subcode ("F43.1": F43.1 and its further subdivisions)."""
    given = _normal_code(descriptor)
    match = _CODE.fullmatch(given)
    if not match:
        return False
    category, sub = match.group(1), (match.group(2) or "")
    for code in codes:
        code = _normal_code(code)
        ranged = _RANGE.fullmatch(code)
        if ranged:
            if ranged.group(1) <= category <= ranged.group(2):
                return True
            continue
        wanted = _CODE.fullmatch(code)
        if wanted and wanted.group(1) == category and sub.startswith(wanted.group(2) or ""):
            return True
    return False


def age_on(date_of_birth: dt.date, on: dt.date) -> tuple[int, int]:
    """Completed (years, months) of age on ``on``: 17 years 9 months is (17, 9)."""
    if on < date_of_birth:
        raise ValueError("the date is before the date of birth")
    months = (on.year - date_of_birth.year) * 12 + (on.month - date_of_birth.month)
    if on.day < date_of_birth.day:
        # Not yet the monthly anniversary, unless the birth day does not exist in this month
        # (born on the 31st: the 30th of a 30-day month completes the month).
        last_day = ((on.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)).day
        if on.day < last_day:
            months -= 1
    return divmod(months, 12)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule as the service configured it (``params`` as :func:`validate_params` returns)."""

    id: int | str
    name: str
    kind: RuleKind
    params: Mapping[str, Any]
    outcome: Outcome
    message: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", RuleKind(self.kind))
        object.__setattr__(self, "outcome", Outcome(self.outcome))
        object.__setattr__(self, "params", validate_params(self.kind, self.params))


@dataclass(frozen=True, slots=True)
class Facts:
    """What is known about one referral on the day of screening; None where unknown."""

    on: dt.date
    """The day of screening: ages are worked out on it."""
    date_of_birth: dt.date | None = None
    phq9_item9: int | None = None
    """PHQ-9 item 9 (thoughts of self-harm, 0–3) at screening; None if not answered."""
    clinician_risk: bool | None = None
    """The screening clinician judged the suicide risk significant or imminent (None: not recorded)."""
    problem_descriptor: str = ""
    """The provisional diagnosis, an ICD-10 code; empty when none is recorded."""
    under_secondary_care: bool | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule against the facts: ``fired`` True, False, or None (could not be checked: ``why``
    says which fact is missing)."""

    rule: Rule
    fired: bool | None
    why: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    findings: tuple[Finding, ...] = field(default=())

    @property
    def fired(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.fired)

    @property
    def unknown(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.fired is None)

    @property
    def suggestion(self) -> Suggestion:
        outcomes = {f.rule.outcome for f in self.fired}
        for outcome in PRECEDENCE:
            if outcome in outcomes:
                return Suggestion(outcome.value)
        return Suggestion.INCOMPLETE if self.unknown else Suggestion.SUITABLE


def _sentence(parts: list[str]) -> str:
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def _check(rule: Rule, facts: Facts) -> Finding:
    p = rule.params
    if rule.kind is RuleKind.MIN_AGE:
        if facts.date_of_birth is None:
            return Finding(rule, None, "The date of birth is not recorded.")
        years, months = age_on(facts.date_of_birth, facts.on)
        minimum = f"{p['years']} years" + (f" {p['months']} months" if p["months"] else "")
        if (years, months) < (p["years"], p["months"]):
            return Finding(rule, True, f"Aged {years} years {months} months: under {minimum}.")
        return Finding(rule, False, f"Aged {years} years {months} months: at least {minimum}.")
    if rule.kind is RuleKind.RISK:
        reasons, unknown = [], []
        threshold, judgement = p["phq9_item9_at_least"], p["clinician_judgement"]
        if threshold is not None:
            if facts.phq9_item9 is None:
                unknown.append("PHQ-9 item 9 was not answered at screening")
            elif facts.phq9_item9 >= threshold:
                reasons.append(f"PHQ-9 item 9 answered {facts.phq9_item9} (at or above {threshold})")
        if judgement:
            if facts.clinician_risk is None:
                unknown.append("the clinician's risk judgement is not recorded")
            elif facts.clinician_risk:
                reasons.append("the screening clinician judged the risk significant or imminent")
        if reasons:
            return Finding(rule, True, _sentence(reasons) + ".")
        if unknown:
            return Finding(rule, None, _sentence(unknown) + ": ask about risk.")
        return Finding(rule, False, "No significant or imminent risk indicated.")
    if rule.kind is RuleKind.PROBLEM_DESCRIPTOR:
        if not facts.problem_descriptor.strip():
            return Finding(rule, None, "No problem descriptor (ICD-10) is recorded.")
        if descriptor_matches(facts.problem_descriptor, p["codes"]):
            return Finding(rule, True, f"Problem descriptor {facts.problem_descriptor} is in {', '.join(p['codes'])}.")
        return Finding(rule, False, f"Problem descriptor {facts.problem_descriptor} is not in {', '.join(p['codes'])}.")
    if facts.under_secondary_care is None:
        return Finding(rule, None, "Not recorded whether the patient is under secondary mental health care.")
    if facts.under_secondary_care:
        return Finding(rule, True, "Already under secondary mental health care.")
    return Finding(rule, False, "Not under secondary mental health care.")


def evaluate(rules: Iterable[Rule], facts: Facts) -> Evaluation:
    """Every rule (in the order given) against ``facts``."""
    return Evaluation(tuple(_check(rule, facts) for rule in rules))
