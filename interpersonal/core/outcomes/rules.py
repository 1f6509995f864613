"""The one definition of each NHS Talking Therapies outcome: caseness, paired, reliable change,
recovery — direction-aware, for PHQ-9, GAD-7 and the anxiety-disorder-specific measures.

Every path that works out an outcome reads it here: one course (:func:`course.course_outcome`,
the course summary and the letters in the web app) and a whole service
(:mod:`.service`, vectorised over a data set). The formulas are written once, as functions that
work on Python numbers and on polars expressions alike (``_at_caseness``, ``_reliable``,
``_combine``), and tests/core/outcomes/test_one_rule.py checks with Hypothesis that both paths
agree on random referrals.

Definitions (DOMAIN.md §4; NHS Talking Therapies Manual; Clark et al. 2018, Lancet 391:679-686):

- **direction**: every measure says whether a higher total is worse (``sign`` +1) or better (−1).
  A total's *severity* is ``total × sign``, so one formula serves both.
- **caseness**: the total is on the clinical side of the measure's cut-off: severity ≥ cut-off ×
  sign (``at_or_above`` / ``at_or_below``), or strictly past it (``above`` / ``below``, the
  Mobility Inventory's "above an item average of 2.3").
- **reliable change** on one measure: the *gain* (first − last) × sign is at least the measure's
  reliable-change points (reliable improvement) or at most minus them (reliable deterioration).
  Totals are compared with a tolerance of :data:`TOLERANCE` so that a change of exactly the
  criterion counts whatever its binary representation (3.03 − 2.30 ≥ 0.73 for the Mobility
  Inventory); whole-number totals are unaffected.
- **paired**: a measure has a first and a last score taken at different points of care (a later
  session, or a later time): :func:`first_and_last`.
- **anxiety measure**: GAD-7; where the referral's problem descriptor names an ADSM
  (``adsm.toml``) and that ADSM is paired, the ADSM instead (:func:`anxiety_measure`).
- **caseness at start**: first PHQ-9 or first anxiety measure at caseness.
- **recovered**: at caseness at start, and neither measure at caseness at the end.
- **reliable deterioration**: a reliable deterioration on either measure.
- **reliable improvement**: a reliable improvement on at least one measure and no reliable
  deterioration on the other.
- **no reliable change**: neither. **reliable recovery**: recovered and reliably improved.

Cut-offs and reliable-change points of PHQ-9 and GAD-7 come from the measures catalogue
(``measures.get(id)``, with a service's INTERPERSONAL_MEASURES_SETTINGS); those of the ADSMs
from ``adsm.toml`` (with INTERPERSONAL_OUTCOMES_SETTINGS). Nothing here writes a number.

Errors::

    ValueError
    └── measures.MeasuresError
        └── measures.DefinitionError   (a rules file or setting that does not validate)
"""

from __future__ import annotations

import operator
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import polars as pl

from interpersonal.core import measures
from interpersonal.core._definitions import LoadedOnce, deep_merge

__all__ = [
    "ADSM_FILE",
    "ANXIETY_MEASURE",
    "DEPRESSION_MEASURE",
    "MIN_TREATMENT_SESSIONS",
    "SETTINGS_VARIABLE",
    "TOLERANCE",
    "MeasureRule",
    "OutcomeRules",
    "Sourced",
    "anxiety_measure",
    "current",
    "first_and_last",
    "reliable_change",
    "reload",
]

DEPRESSION_MEASURE = "phq9"
ANXIETY_MEASURE = "gad7"
MIN_TREATMENT_SESSIONS = 2
"""A course (and a referral) is finished with at least this many attended treatment contacts."""
TOLERANCE = 1e-9
"""Slack in the reliable-change comparison, far below any questionnaire total's resolution."""
ADSM_FILE = Path(__file__).with_name("adsm.toml")
SETTINGS_VARIABLE = "INTERPERSONAL_OUTCOMES_SETTINGS"
"""A TOML file whose ``[mapping]`` and ``[measures.ID.*]`` tables are merged over ``adsm.toml``
(and whose ``[[standards]]``, if any, replace ``standards.toml``: see :mod:`.standards`)."""

Comparison = Literal["at_or_above", "above", "at_or_below", "below"]
Reliable = Literal["improved", "deteriorated", "no reliable change"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Sourced:
    source: str
    confirmed: bool


@dataclass(frozen=True, slots=True)
class MeasureRule:
    """What the outcome rules need of one measure: its direction, caseness cut-off and
    reliable-change points, each with its source. ``caseness`` may be None for a measure used
    only for reliable change (WSAS, HRSD-17 in a letter)."""

    id: str
    abbreviation: str
    score_range: tuple[float, float]
    higher_is_worse: bool
    caseness: float | None
    inclusive: bool
    reliable_change: float | None
    caseness_sourced: Sourced | None = None
    reliable_change_sourced: Sourced | None = None

    @property
    def sign(self) -> int:
        """+1 when a higher total is worse, −1 when it is better."""
        return 1 if self.higher_is_worse else -1

    @property
    def comparison(self) -> Comparison:
        if self.higher_is_worse:
            return "at_or_above" if self.inclusive else "above"
        return "at_or_below" if self.inclusive else "below"

    def at_caseness(self, total: float) -> bool:
        if self.caseness is None:
            raise measures.DefinitionError(self.id, "caseness", "is needed for NHS Talking Therapies outcomes")
        return bool(_at_caseness(total, self.sign, self.caseness, self.inclusive, _choose))

    def reliable(self, first: float, last: float) -> Reliable:
        if self.reliable_change is None:
            raise measures.DefinitionError(self.id, "reliable_change", "is needed for NHS Talking Therapies outcomes")
        improved, deteriorated = _reliable(first, last, self.sign, self.reliable_change)
        return "improved" if improved else "deteriorated" if deteriorated else "no reliable change"

    def check_total(self, value: object, which: str) -> float | int:
        """``value`` itself, if it is a total within the measure's range; else InvalidAnswers."""
        lo, hi = self.score_range
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            raise measures.InvalidAnswers(self.id, "total", f"{which} total must be a number from {lo:g} to {hi:g}; got {value!r}")
        return value

    def unconfirmed(self) -> tuple[str, ...]:
        return tuple(name for name, s in (("caseness", self.caseness_sourced), ("reliable_change", self.reliable_change_sourced))
                     if s is not None and not s.confirmed)


@dataclass(frozen=True, slots=True)
class OutcomeRules:
    """The rules in force: the depression and default anxiety measures (from the measures
    catalogue), the ADSMs, and which problem descriptors use which ADSM."""

    depression: MeasureRule
    anxiety: MeasureRule
    adsms: Mapping[str, MeasureRule]
    descriptors: tuple[tuple[str, tuple[str, ...]], ...]
    """(ICD-10 prefix, ADSM ids in order of preference), longest prefix first."""
    use_adsm: bool
    mapping_sourced: Sourced

    def measure(self, measure_id: str) -> MeasureRule:
        if measure_id == self.depression.id:
            return self.depression
        if measure_id == self.anxiety.id:
            return self.anxiety
        if measure_id in self.adsms:
            return self.adsms[measure_id]
        return _catalogue_rule(measure_id, need_caseness=False)

    @property
    def measure_ids(self) -> tuple[str, ...]:
        """Every measure an outcome may read: PHQ-9, GAD-7 and each ADSM."""
        return (self.depression.id, self.anxiety.id, *self.adsms)

    def candidates(self, problem_descriptor: str | None) -> tuple[str, ...]:
        """The ADSMs for this problem descriptor, in order of preference (none if ADSMs are off)."""
        if not self.use_adsm or not problem_descriptor:
            return ()
        code = normalise_descriptor(problem_descriptor)
        for prefix, ids in self.descriptors:
            if code.startswith(prefix):
                return ids
        return ()

    def with_adsm(self, use_adsm: bool) -> OutcomeRules:
        return OutcomeRules(self.depression, self.anxiety, self.adsms, self.descriptors, use_adsm, self.mapping_sourced)


def normalise_descriptor(code: str) -> str:
    """ICD-10 codes are compared upper-case without spaces: " f40.01 " → "F40.01"."""
    return "".join(code.split()).upper()


# -- the formulas, written once for numbers and polars expressions ----------------------------

def _choose(condition: Any, then: T, otherwise: T) -> T:
    return then if condition else otherwise


def _choose_expr(condition: Any, then: pl.Expr, otherwise: pl.Expr) -> pl.Expr:
    return pl.when(condition).then(then).otherwise(otherwise)


def _at_caseness(total: Any, sign: Any, cutoff: Any, inclusive: Any, choose: Callable[[Any, Any, Any], Any]) -> Any:
    severity, threshold = total * sign, cutoff * sign
    return choose(inclusive, severity >= threshold, severity > threshold)


def _reliable(first: Any, last: Any, sign: Any, points: Any) -> tuple[Any, Any]:
    """(reliably improved, reliably deteriorated) on one measure."""
    gain = (first - last) * sign
    return gain >= points - TOLERANCE, -gain >= points - TOLERANCE


@dataclass(frozen=True, slots=True)
class Flags:
    """The six outcome flags of one referral (booleans), or of every row (polars expressions)."""

    caseness: Any
    recovered: Any
    reliable_improvement: Any
    reliable_deterioration: Any
    no_reliable_change: Any
    reliable_recovery: Any


def _combine(dep_case_first: Any, anx_case_first: Any, dep_case_last: Any, anx_case_last: Any,
             dep: tuple[Any, Any], anx: tuple[Any, Any], not_: Callable[[Any], Any]) -> Flags:
    caseness = dep_case_first | anx_case_first
    recovered = caseness & not_(dep_case_last) & not_(anx_case_last)
    deteriorated = dep[1] | anx[1]
    improved = (dep[0] | anx[0]) & not_(deteriorated)
    no_change = not_(improved) & not_(deteriorated)
    return Flags(caseness, recovered, improved, deteriorated, no_change, recovered & improved)


def outcome_flags(rules: OutcomeRules, anxiety: MeasureRule, dep_first: float, dep_last: float,
                  anx_first: float, anx_last: float) -> Flags:
    """The outcome of one paired referral or course, from its first and last PHQ-9 and anxiety
    measure (the scalar path)."""
    dep = rules.depression
    return _combine(
        dep.at_caseness(dep_first), anxiety.at_caseness(anx_first),
        dep.at_caseness(dep_last), anxiety.at_caseness(anx_last),
        _reliable(dep_first, dep_last, dep.sign, _points(dep)),
        _reliable(anx_first, anx_last, anxiety.sign, _points(anxiety)),
        operator.not_,
    )


def outcome_exprs(rules: OutcomeRules, dep_first: pl.Expr, dep_last: pl.Expr, anx_first: pl.Expr, anx_last: pl.Expr,
                  anx_sign: pl.Expr, anx_cutoff: pl.Expr, anx_inclusive: pl.Expr, anx_points: pl.Expr) -> Flags:
    """The same outcome as polars expressions (the service path), the anxiety measure's rule
    given per row (GAD-7 or the referral's ADSM: :func:`rule_columns`)."""
    dep = rules.depression
    cut = _cutoff(dep)

    def dep_case(total: pl.Expr) -> pl.Expr:
        return _at_caseness(total, dep.sign, cut, dep.inclusive, _choose)  # type: ignore[no-any-return]

    def anx_case(total: pl.Expr) -> pl.Expr:
        return _at_caseness(total, anx_sign, anx_cutoff, anx_inclusive, _choose_expr)  # type: ignore[no-any-return]

    return _combine(
        dep_case(dep_first), anx_case(anx_first), dep_case(dep_last), anx_case(anx_last),
        _reliable(dep_first, dep_last, dep.sign, _points(dep)),
        _reliable(anx_first, anx_last, anx_sign, anx_points),
        operator.invert,
    )


def rule_columns(rules: OutcomeRules) -> pl.DataFrame:
    """One row per anxiety measure (GAD-7 and each ADSM): ``measure``, ``sign``, ``cutoff``,
    ``inclusive``, ``points`` — joined to referrals by their anxiety measure."""
    rows = [rules.anxiety, *rules.adsms.values()]
    return pl.DataFrame(
        {
            "measure": [r.id for r in rows],
            "sign": [float(r.sign) for r in rows],
            "cutoff": [_cutoff(r) for r in rows],
            "inclusive": [r.inclusive for r in rows],
            "points": [_points(r) for r in rows],
        },
        schema={"measure": pl.String, "sign": pl.Float64, "cutoff": pl.Float64, "inclusive": pl.Boolean, "points": pl.Float64},
    )


def _cutoff(rule: MeasureRule) -> float:
    if rule.caseness is None:
        raise measures.DefinitionError(rule.id, "caseness", "is needed for NHS Talking Therapies outcomes")
    return rule.caseness


def _points(rule: MeasureRule) -> float:
    if rule.reliable_change is None:
        raise measures.DefinitionError(rule.id, "reliable_change", "is needed for NHS Talking Therapies outcomes")
    return float(rule.reliable_change)


# -- paired, and which anxiety measure --------------------------------------------------------

def first_and_last(series: Sequence[tuple[Any, float | None]]) -> tuple[float, float] | None:
    """The first and last totals of one measure, or None when it is not paired.

    ``series`` is ``(point, total)`` in time order (a point is a session number, or the time the
    score was taken); missing totals are skipped. Paired when the last total was taken at a
    different (later) point than the first: two scores from one session are not a pair.
    """
    scored = [(point, total) for point, total in series if total is not None]
    if not scored or scored[-1][0] == scored[0][0]:
        return None
    return scored[0][1], scored[-1][1]


def anxiety_measure(rules: OutcomeRules, problem_descriptor: str | None, paired: Iterable[str]) -> str:
    """The anxiety measure of a referral: the first ADSM named for its problem descriptor that is
    paired, else GAD-7 (Clark et al. 2018, Table 2: GAD-7 is the back-up when the ADSM is missing)."""
    have = set(paired)
    for candidate in rules.candidates(problem_descriptor):
        if candidate in have:
            return candidate
    return rules.anxiety.id


def reliable_change(measure_id: str, first: float, last: float, rules: OutcomeRules | None = None) -> Reliable | None:
    """Reliable change on one measure (any measure with a reliable-change criterion: the
    catalogue's or an ADSM), or None when the measure has none."""
    rule = (rules or current()).measure(measure_id)
    if rule.reliable_change is None:
        return None
    return rule.reliable(first, last)


# -- loading ------------------------------------------------------------------------------------

def _catalogue_rule(measure_id: str, *, need_caseness: bool) -> MeasureRule:
    inst = measures.get(measure_id)
    worse_up = inst.direction is measures.Direction.HIGHER_IS_WORSE
    caseness = inst.caseness
    if caseness is not None and (caseness.comparison == "at_or_above") != worse_up:
        raise measures.DefinitionError(measure_id, "caseness", f"points against the instrument's direction ({inst.direction.value})")
    if need_caseness and (caseness is None or inst.reliable_change is None):
        raise measures.DefinitionError(measure_id, "caseness", "and reliable_change are needed for NHS Talking Therapies outcomes")
    lo, hi = inst.scoring.score_range
    return MeasureRule(
        id=inst.id, abbreviation=inst.abbreviation, score_range=(float(lo), float(hi)), higher_is_worse=worse_up,
        caseness=float(caseness.value) if caseness else None, inclusive=True,
        reliable_change=float(inst.reliable_change.points) if inst.reliable_change else None,
        caseness_sourced=Sourced(caseness.sourced.source, caseness.sourced.confirmed) if caseness else None,
        reliable_change_sourced=(Sourced(inst.reliable_change.sourced.source, inst.reliable_change.sourced.confirmed)
                                 if inst.reliable_change else None),
    )


def _error(field: str, problem: str) -> measures.DefinitionError:
    return measures.DefinitionError("adsm.toml", field, problem)


def _sourced(table: Mapping[str, Any], where: str) -> Sourced:
    source, confirmed = table.get("source"), table.get("confirmed")
    if not isinstance(source, str) or not source.strip():
        raise _error(f"{where}.source", "is required")
    if not isinstance(confirmed, bool):
        raise _error(f"{where}.confirmed", "must be true or false")
    return Sourced(source.strip(), confirmed)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _error(where, f"must be a number; got {value!r}")
    return float(value)


def _adsm_rule(measure_id: str, table: Mapping[str, Any]) -> MeasureRule:
    where = f"measures.{measure_id}"
    known = {"name", "abbreviation", "range", "direction", "citation", "licence", "caseness", "reliable_change"}
    if unknown := set(table) - known:
        raise _error(where, f"unknown field(s) {', '.join(sorted(unknown))}")
    direction = table.get("direction", "higher_is_worse")
    if direction not in ("higher_is_worse", "higher_is_better"):
        raise _error(f"{where}.direction", f"must be higher_is_worse or higher_is_better; got {direction!r}")
    worse_up = direction == "higher_is_worse"
    rng = table.get("range")
    if not isinstance(rng, list) or len(rng) != 2:
        raise _error(f"{where}.range", "must be [lowest, highest]")
    lo, hi = _number(rng[0], f"{where}.range"), _number(rng[1], f"{where}.range")
    if not lo < hi:
        raise _error(f"{where}.range", "lowest must be below highest")
    case = table.get("caseness")
    if not isinstance(case, Mapping):
        raise _error(f"{where}.caseness", "is required")
    keys = {"at_or_above", "above"} if worse_up else {"at_or_below", "below"}
    given = {"at_or_above", "above", "at_or_below", "below"} & set(case)
    if unknown := set(case) - {"at_or_above", "above", "at_or_below", "below", "source", "confirmed"}:
        raise _error(f"{where}.caseness", f"unknown field(s) {', '.join(sorted(unknown))}")
    if len(given) != 1 or not given <= keys:
        raise _error(f"{where}.caseness", f"needs exactly one of {' or '.join(sorted(keys))} (direction {direction})")
    (key,) = given
    cut = _number(case[key], f"{where}.caseness.{key}")
    if not lo <= cut <= hi:
        raise _error(f"{where}.caseness.{key}", f"must lie in the range {lo:g}-{hi:g}")
    rc = table.get("reliable_change")
    if not isinstance(rc, Mapping):
        raise _error(f"{where}.reliable_change", "is required")
    points = _number(rc.get("points"), f"{where}.reliable_change.points")
    if not 0 < points <= hi - lo:
        raise _error(f"{where}.reliable_change.points", "must be positive and no more than the range")
    abbreviation = table.get("abbreviation")
    if not isinstance(abbreviation, str) or not abbreviation.strip():
        raise _error(f"{where}.abbreviation", "is required")
    return MeasureRule(
        id=measure_id, abbreviation=abbreviation.strip(), score_range=(lo, hi), higher_is_worse=worse_up, caseness=cut,
        inclusive=key.startswith("at_or"), reliable_change=points,
        caseness_sourced=_sourced(case, f"{where}.caseness"), reliable_change_sourced=_sourced(rc, f"{where}.reliable_change"),
    )


def parse(data: Mapping[str, Any]) -> OutcomeRules:
    """Validate the ADSM rules (the contents of ``adsm.toml``, settings merged) against the
    measures catalogue's PHQ-9 and GAD-7."""
    if data.get("schema") != 1:
        raise _error("schema", "must be 1")
    raw_measures = data.get("measures")
    if not isinstance(raw_measures, Mapping):
        raise _error("measures", "must be a table of ADSMs")
    adsms: dict[str, MeasureRule] = {}
    for measure_id, table in raw_measures.items():
        if measure_id in (DEPRESSION_MEASURE, ANXIETY_MEASURE):
            raise _error(f"measures.{measure_id}", "PHQ-9 and GAD-7 are defined in the measures catalogue")
        if not isinstance(table, Mapping):
            raise _error(f"measures.{measure_id}", "must be a table")
        adsms[measure_id] = _adsm_rule(measure_id, table)
    mapping = data.get("mapping")
    if not isinstance(mapping, Mapping):
        raise _error("mapping", "is required")
    use_adsm = mapping.get("use_adsm")
    if not isinstance(use_adsm, bool):
        raise _error("mapping.use_adsm", "must be true or false")
    descriptors = mapping.get("problem_descriptors")
    if not isinstance(descriptors, Mapping):
        raise _error("mapping.problem_descriptors", "must be a table of ICD-10 prefix = [ADSM ids]")
    pairs: list[tuple[str, tuple[str, ...]]] = []
    for prefix, ids in descriptors.items():
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise _error(f"mapping.problem_descriptors.{prefix}", "must be a non-empty list of ADSM ids")
        if unknown := [i for i in ids if i not in adsms]:
            raise _error(f"mapping.problem_descriptors.{prefix}", f"unknown ADSM {', '.join(unknown)}")
        pairs.append((normalise_descriptor(prefix), tuple(ids)))
    pairs.sort(key=lambda p: (-len(p[0]), p[0]))
    return OutcomeRules(
        depression=_catalogue_rule(DEPRESSION_MEASURE, need_caseness=True),
        anxiety=_catalogue_rule(ANXIETY_MEASURE, need_caseness=True),
        adsms=adsms, descriptors=tuple(pairs), use_adsm=use_adsm,
        mapping_sourced=_sourced(mapping, "mapping"),
    )


def read_settings(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise measures.DefinitionError(path.name, "(file)", f"not valid TOML: {exc}") from exc
    except OSError as exc:
        raise measures.DefinitionError(str(path), "(file)", f"cannot be read: {exc.strerror or exc}") from exc


def settings_path() -> Path | None:
    value = os.environ.get(SETTINGS_VARIABLE, "").strip()
    return Path(value) if value else None


def load(settings: Path | None = None) -> OutcomeRules:
    """``adsm.toml`` with the ``[mapping]`` and ``[measures]`` tables of ``settings`` merged over it."""
    data = read_settings(ADSM_FILE)
    if settings is not None:
        override = {k: v for k, v in read_settings(settings).items() if k in ("mapping", "measures")}
        data = deep_merge(data, override)
    return parse(data)


_rules: LoadedOnce[OutcomeRules] = LoadedOnce(lambda: load(settings_path()))


def current() -> OutcomeRules:
    """The rules in force (``adsm.toml`` and INTERPERSONAL_OUTCOMES_SETTINGS), loaded once."""
    return _rules.get()


def reload() -> None:
    """Forget the loaded rules (after changing a settings file or the measures catalogue)."""
    _rules.forget()
