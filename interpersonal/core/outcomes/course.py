"""The NHS Talking Therapies outcome of one course (or one referral), from its first and last
PHQ-9 and anxiety measure.

Every definition is :mod:`.rules`' (the one rule, shared with the service path): caseness,
paired, reliable change, recovery, and which anxiety measure counts — GAD-7, or the
anxiety-disorder-specific measure (ADSM) named for the referral's problem descriptor when that
ADSM is paired. In short:

- **paired**: PHQ-9 and the anxiety measure both have a first and a last total. That the first
  and last come from different sessions is :func:`outcome_of_series`' to check (or the
  caller's, for :func:`course_outcome`). When not paired, every outcome below is None.
- **caseness at start**: first PHQ-9 or first anxiety measure at caseness. A course not at
  caseness at start is not recovered, and is flagged ``not_at_caseness_at_start``: it is left out
  of the recovery-rate denominator.
- **recovered**: at caseness at start, and neither measure at caseness at the end.
- **reliable improvement**: a reliable improvement on at least one measure and no reliable
  deterioration on the other; **reliable deterioration**: one on either measure;
  **no reliable change**: neither; **reliable recovery**: recovered and reliably improved.

Per-measure Jacobson–Truax categories (Jacobson & Truax 1991) come from
``measures.change_totals`` for the measures of the catalogue (PHQ-9, GAD-7).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from interpersonal.core import measures

from . import rules as outcome_rules
from .rules import ANXIETY_MEASURE, DEPRESSION_MEASURE, OutcomeRules

__all__ = ["ANXIETY_MEASURE", "DEPRESSION_MEASURE", "CourseOutcome", "course_outcome", "outcome_of_series"]

NOT_PAIRED = "not_paired"
NOT_AT_CASENESS = "not_at_caseness_at_start"

Total = float | int | None


@dataclass(frozen=True, slots=True)
class CourseOutcome:
    """The outcome of one course (see the module docstring for each definition).

    ``anxiety_measure`` is the measure that counted as the anxiety measure (``gad7`` or an ADSM
    id). ``reliable`` holds each paired measure's reliable change ("improved", "deteriorated",
    "no reliable change") by the one rule; ``changes`` the per-measure :class:`measures.Change`
    (RCI, Jacobson–Truax category) for the paired measures of the catalogue. ``flags`` names
    conditions a report must know: ``not_paired`` (with ``reason``) and
    ``not_at_caseness_at_start``.
    """

    paired: bool
    caseness_at_start: bool | None
    recovered: bool | None
    reliable_improvement: bool | None
    reliable_deterioration: bool | None
    no_reliable_change: bool | None
    reliable_recovery: bool | None
    first: Mapping[str, Total] = field(default_factory=lambda: MappingProxyType({}))
    last: Mapping[str, Total] = field(default_factory=lambda: MappingProxyType({}))
    changes: Mapping[str, measures.Change] = field(default_factory=lambda: MappingProxyType({}))
    flags: tuple[str, ...] = ()
    reason: str | None = None
    anxiety_measure: str = ANXIETY_MEASURE
    reliable: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def jacobson_truax(self) -> Mapping[str, str | None]:
        """``{measure id: Jacobson–Truax category}`` for the paired measures of the catalogue."""
        return MappingProxyType({mid: c.jacobson_truax for mid, c in self.changes.items()})

    def to_dict(self) -> dict[str, Any]:
        return {
            "paired": self.paired,
            "caseness_at_start": self.caseness_at_start,
            "recovered": self.recovered,
            "reliable_improvement": self.reliable_improvement,
            "reliable_deterioration": self.reliable_deterioration,
            "no_reliable_change": self.no_reliable_change,
            "reliable_recovery": self.reliable_recovery,
            "anxiety_measure": self.anxiety_measure,
            "first": dict(self.first),
            "last": dict(self.last),
            "reliable": dict(self.reliable),
            "changes": {
                mid: {
                    "difference": c.difference,
                    "reliable_change": c.reliable_change,
                    "rci": c.rci,
                    "jacobson_truax": c.jacobson_truax,
                }
                for mid, c in self.changes.items()
            },
            "flags": list(self.flags),
            "reason": self.reason,
        }


def course_outcome(
    first: Mapping[str, Total],
    last: Mapping[str, Total],
    *,
    problem_descriptor: str | None = None,
    rules: OutcomeRules | None = None,
) -> CourseOutcome:
    """The outcome of one course from its first and last totals, keyed by measure id
    (``{"phq9": 14, "gad7": 9}``; other keys are ignored unless an ADSM named for
    ``problem_descriptor`` (an ICD-10 code) has both a first and a last total, which then replaces
    GAD-7). A missing key or None is a missing score. Raises ``measures.InvalidAnswers`` (a
    ValueError) for a total outside its measure's range."""
    rules = rules or outcome_rules.current()
    both = [mid for mid in rules.candidates(problem_descriptor) if first.get(mid) is not None and last.get(mid) is not None]
    anxiety = rules.measure(outcome_rules.anxiety_measure(rules, problem_descriptor, both))
    used = (rules.depression, anxiety)
    firsts = {r.id: None if first.get(r.id) is None else r.check_total(first[r.id], "first") for r in used}
    lasts = {r.id: None if last.get(r.id) is None else r.check_total(last[r.id], "last") for r in used}
    first_view, last_view = MappingProxyType(firsts), MappingProxyType(lasts)

    missing = [f"{which} {r.id}" for r in used for which, d in (("first", firsts), ("last", lasts)) if d[r.id] is None]
    if missing:
        return CourseOutcome(
            paired=False, caseness_at_start=None, recovered=None, reliable_improvement=None,
            reliable_deterioration=None, no_reliable_change=None, reliable_recovery=None,
            first=first_view, last=last_view, flags=(NOT_PAIRED,),
            reason=f"not paired: no {', '.join(missing)} score", anxiety_measure=anxiety.id,
        )

    dep = rules.depression
    f_dep, l_dep, f_anx, l_anx = (_present(v) for v in (firsts[dep.id], lasts[dep.id], firsts[anxiety.id], lasts[anxiety.id]))
    flags = outcome_rules.outcome_flags(rules, anxiety, f_dep, l_dep, f_anx, l_anx)
    reliable = {r.id: r.reliable(_present(firsts[r.id]), _present(lasts[r.id])) for r in used}
    changes = {r.id: measures.change_totals(r.id, _present(firsts[r.id]), _present(lasts[r.id]))
               for r in used if r.id in (DEPRESSION_MEASURE, ANXIETY_MEASURE)}
    caseness = bool(flags.caseness)
    return CourseOutcome(
        paired=True,
        caseness_at_start=caseness,
        recovered=bool(flags.recovered),
        reliable_improvement=bool(flags.reliable_improvement),
        reliable_deterioration=bool(flags.reliable_deterioration),
        no_reliable_change=bool(flags.no_reliable_change),
        reliable_recovery=bool(flags.reliable_recovery),
        first=first_view,
        last=last_view,
        changes=MappingProxyType(changes),
        flags=() if caseness else (NOT_AT_CASENESS,),
        reason=None if caseness else "not at caseness at start: left out of the recovery-rate denominator",
        anxiety_measure=anxiety.id,
        reliable=MappingProxyType(reliable),
    )


def outcome_of_series(
    series: Mapping[str, Sequence[tuple[Any, Total]]],
    *,
    problem_descriptor: str | None = None,
    rules: OutcomeRules | None = None,
) -> CourseOutcome:
    """The outcome from each measure's scores in time order, ``{measure id: [(point, total),
    ...]}`` where a point is the session (or the time) the score was taken: each measure's first
    and last by :func:`rules.first_and_last` (paired only across different points), then
    :func:`course_outcome`."""
    pairs = {mid: outcome_rules.first_and_last(points) for mid, points in series.items()}
    first = {mid: p[0] for mid, p in pairs.items() if p is not None}
    last = {mid: p[1] for mid, p in pairs.items() if p is not None}
    return course_outcome(first, last, problem_descriptor=problem_descriptor, rules=rules)


def _present(value: Total) -> float:
    assert value is not None  # noqa: S101 - checked by the caller (paired)
    return value
