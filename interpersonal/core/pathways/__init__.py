"""The referral's pathway before treatment: suitability rules and the severity that informs triage.

:mod:`~interpersonal.core.pathways.suitability` knows the kinds of suitability rule a service
configures (DOMAIN.md §6, every default [U]) and evaluates them to suggest an outcome;
:mod:`~interpersonal.core.pathways.severity` is NICE NG222's split of a new depressive episode
into less and more severe by the PHQ-9 (DOMAIN.md §6 [V]). Neither decides: a clinician does.
"""

from __future__ import annotations

from .severity import NG222_MORE_SEVERE_AT, NG222_SOURCE, Ng222Severity, ng222_severity
from .suitability import (
    PARAMETERS,
    PRECEDENCE,
    Evaluation,
    Facts,
    Finding,
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

__all__ = [
    "NG222_MORE_SEVERE_AT",
    "NG222_SOURCE",
    "PARAMETERS",
    "PRECEDENCE",
    "Evaluation",
    "Facts",
    "Finding",
    "Ng222Severity",
    "Outcome",
    "Rule",
    "RuleError",
    "RuleKind",
    "Suggestion",
    "age_on",
    "descriptor_matches",
    "evaluate",
    "ng222_severity",
    "validate_params",
]
