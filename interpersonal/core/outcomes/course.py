"""The NHS Talking Therapies outcome of one course, from its first and last PHQ-9 and GAD-7.

Definitions (DOMAIN.md §4; NHS Talking Therapies Manual and the data set's outcome
measures): the cut-offs and reliable-change criteria are read from the measure
definitions (``measures.get(id).caseness`` and ``.reliable_change``), never written here.

- **paired**: PHQ-9 and GAD-7 both have a first and a last total. That the first and last
  come from different sessions (a course finished with ≥ 2 attended treatment sessions) is
  the caller's to check. When not paired, every outcome below is None.
- **caseness at start**: first PHQ-9 at or above its cut-off (10) or first GAD-7 at or
  above its (8).
- **recovered**: at caseness at start, and last PHQ-9 and last GAD-7 both below their
  cut-offs. A course not at caseness at start is not recovered, and is flagged
  ``not_at_caseness_at_start``: it is left out of the recovery-rate denominator.
- **reliable improvement**: a reliable fall (PHQ-9 ≥ 6, GAD-7 ≥ 4 points) on at least one
  measure and no reliable rise on the other.
- **reliable deterioration**: a reliable rise on either measure.
- **no reliable change**: neither reliable improvement nor reliable deterioration.
- **reliable recovery**: recovered and reliably improved.

Per-measure Jacobson–Truax categories (Jacobson & Truax 1991) come from
``measures.change_totals``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from interpersonal.core import measures

__all__ = ["ANXIETY_MEASURE", "DEPRESSION_MEASURE", "CourseOutcome", "course_outcome"]

DEPRESSION_MEASURE = "phq9"
ANXIETY_MEASURE = "gad7"
_PAIRED_MEASURES = (DEPRESSION_MEASURE, ANXIETY_MEASURE)

NOT_PAIRED = "not_paired"
NOT_AT_CASENESS = "not_at_caseness_at_start"

Total = float | int | None


@dataclass(frozen=True, slots=True)
class CourseOutcome:
    """The outcome of one course (see the module docstring for each definition).

    ``changes`` holds the per-measure :class:`measures.Change` (reliable change by points,
    RCI, Jacobson–Truax category) for every paired measure. ``flags`` names conditions a
    report must know: ``not_paired`` (with ``reason``) and ``not_at_caseness_at_start``.
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

    @property
    def jacobson_truax(self) -> Mapping[str, str | None]:
        """``{measure id: Jacobson–Truax category}`` for the paired measures."""
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
            "first": dict(self.first),
            "last": dict(self.last),
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


def _total(instrument_id: str, scores: Mapping[str, Total], which: str) -> Total:
    """The total for ``instrument_id`` (None if absent), checked against its range."""
    value = scores.get(instrument_id)
    if value is None:
        return None
    lo, hi = measures.get(instrument_id).scoring.score_range
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise measures.InvalidAnswers(instrument_id, "total", f"{which} total must be a number from {lo} to {hi}; got {value!r}")
    return value


def _cutoff(instrument_id: str) -> measures.Threshold:
    caseness = measures.get(instrument_id).caseness
    if caseness is None:  # pragma: no cover - the shipped PHQ-9 and GAD-7 define one
        raise measures.DefinitionError(instrument_id, "caseness", "is needed for NHS Talking Therapies outcomes")
    return caseness


def course_outcome(first: Mapping[str, Total], last: Mapping[str, Total]) -> CourseOutcome:
    """The outcome of one course from its first and last totals, keyed by measure id
    (``{"phq9": 14, "gad7": 9}``; other keys are ignored, a missing key or None is a
    missing score). Raises ``measures.InvalidAnswers`` (a ValueError) for a total
    outside the measure's range."""
    firsts = {mid: _total(mid, first, "first") for mid in _PAIRED_MEASURES}
    lasts = {mid: _total(mid, last, "last") for mid in _PAIRED_MEASURES}
    first_view, last_view = MappingProxyType(firsts), MappingProxyType(lasts)

    missing = [f"{which} {mid}" for mid in _PAIRED_MEASURES for which, d in (("first", firsts), ("last", lasts)) if d[mid] is None]
    if missing:
        return CourseOutcome(
            paired=False, caseness_at_start=None, recovered=None, reliable_improvement=None,
            reliable_deterioration=None, no_reliable_change=None, reliable_recovery=None,
            first=first_view, last=last_view, flags=(NOT_PAIRED,),
            reason=f"not paired: no {', '.join(missing)} score",
        )

    changes = {mid: measures.change_totals(mid, _present(firsts[mid]), _present(lasts[mid])) for mid in _PAIRED_MEASURES}
    cutoffs = {mid: _cutoff(mid) for mid in _PAIRED_MEASURES}

    caseness = any(cutoffs[mid].met(_present(firsts[mid])) for mid in _PAIRED_MEASURES)
    below_at_end = all(not cutoffs[mid].met(_present(lasts[mid])) for mid in _PAIRED_MEASURES)
    recovered = caseness and below_at_end

    directions = [c.reliable_change for c in changes.values()]
    if None in directions:  # pragma: no cover - the shipped PHQ-9 and GAD-7 define a criterion
        raise measures.DefinitionError("outcomes", "reliable_change", "PHQ-9 and GAD-7 need a reliable-change criterion")
    deteriorated = "deteriorated" in directions
    improved = "improved" in directions and not deteriorated

    return CourseOutcome(
        paired=True,
        caseness_at_start=caseness,
        recovered=recovered,
        reliable_improvement=improved,
        reliable_deterioration=deteriorated,
        no_reliable_change=not improved and not deteriorated,
        reliable_recovery=recovered and improved,
        first=first_view,
        last=last_view,
        changes=MappingProxyType(changes),
        flags=() if caseness else (NOT_AT_CASENESS,),
        reason=None if caseness else "not at caseness at start: left out of the recovery-rate denominator",
    )


def _present(value: Total) -> float:
    assert value is not None  # noqa: S101 - checked by the caller (paired)
    return value
