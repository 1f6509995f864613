"""Accreditation rules as data, and the pure evaluation of a trainee's evidence against them.

    >>> from datetime import date
    >>> from interpersonal.core.fidelity import accreditation as acc
    >>> route = acc.get("dit_practitioner")
    >>> evidence = acc.Evidence(cases=(
    ...     acc.Case("c1", "dit", in_depression=True, started=date(2026, 1, 5), sessions_attended=16,
    ...              sessions_planned=16, sessions_supervised=14, supervision_minutes=600),))
    >>> progress = acc.evaluate(route, evidence)
    >>> [(r.key, r.status, r.figures) for r in progress.rules][:2]
    [('supervised_cases', 'not yet', '1 of 2 supervised cases'), ('supervision_total', 'not yet', '10 of 16 hours of supervision')]

A **route** (``accreditation/<id>.toml``) is a list of rules, each of a known ``kind`` with its
thresholds, the words shown to the trainee, its ``source`` and whether the values were
``confirmed`` in it. Unconfirmed rules are service settings: a TOML file named by
``INTERPERSONAL_ACCREDITATION_SETTINGS`` changes them, the way measures and risk forms are
configured (``[dit_practitioner.rules.recording_phases] phases = ["ipaf", "ending"]``); a
confirmed rule may not be changed there (that would misstate what the accrediting body asks).

**Evidence** is what the supervision log, the course records and the ratings hold, passed in as
frozen values (:class:`Case`, :class:`RatedRecording`, the case study's date) so that this
module needs no database. What counts:

* a **supervised case** is a case of one of the route's therapies with supervision logged
  against it: supervision minutes or at least one session reviewed in supervision. A case with
  no supervision logged is not part of the accreditation casework, whatever else it has;
* cases are taken in the order they **started** (then by id), so "the first two cases" are the
  two earliest-starting supervised cases;
* only recordings of supervised cases count; a recording is given here once rated, ``passed``
  saying whether its rating reached the scale's pass mark.

Each rule is judged on its own, and says which cases and recordings counted (their ids, for the
progress page's links) with figures such as "3 of 4 supervised cases". That several per-case
rules are met by the same cases is for the supervisor to confirm when signing off.

Rule kinds and their values:

=============================  ============================================================
kind                           values
=============================  ============================================================
supervised_cases               minimum
first_cases_in_depression      count
sessions_per_case              minimum, of, counts ("attended" | "supervised"), cases
supervision_per_case           minutes, cases
recordings_per_case            minimum, cases, passing_only
supervision_total              minutes
rated_recordings               minimum, passing_only
recording_phases               phases (list of phase keys), passing_only
case_study                     (none)
=============================  ============================================================
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from interpersonal.core._definitions import LoadedOnce, configured_directories, deep_merge, load_directories, read_toml
from interpersonal.core.fidelity.errors import AccreditationConfigError, EvidenceError

__all__ = [
    "BUILTIN_DIR",
    "DIRS_VARIABLE",
    "KINDS",
    "SETTINGS_VARIABLE",
    "Case",
    "Evidence",
    "Progress",
    "RatedRecording",
    "Route",
    "Rule",
    "RuleResult",
    "catalogue",
    "evaluate",
    "get",
    "load",
    "reload",
]

BUILTIN_DIR = Path(__file__).parent / "accreditation"
SETTINGS_VARIABLE = "INTERPERSONAL_ACCREDITATION_SETTINGS"
DIRS_VARIABLE = "INTERPERSONAL_ACCREDITATION_DIRS"
SCHEMA = 1
ID_MAX = 100
TEXT_MAX = 500
SOURCE_MAX = 2_000
COUNT_MAX = 100
"""The largest count a rule may ask for (cases, sessions, recordings)."""
MINUTES_MAX = 100 * 60
"""The most supervision a rule may ask for: 100 hours."""
SESSIONS_MAX = 200
"""The most sessions one case may record (far beyond any protocol's maximum of 20)."""
CASE_MINUTES_MAX = 500 * 60
"""The most supervision one case may record: 500 hours."""
_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")

ParamType = Literal["count", "minutes", "bool", "counts", "phases"]
KINDS: Mapping[str, Mapping[str, ParamType]] = MappingProxyType({
    "supervised_cases": {"minimum": "count"},
    "first_cases_in_depression": {"count": "count"},
    "sessions_per_case": {"minimum": "count", "of": "count", "counts": "counts", "cases": "count"},
    "supervision_per_case": {"minutes": "minutes", "cases": "count"},
    "recordings_per_case": {"minimum": "count", "cases": "count", "passing_only": "bool"},
    "supervision_total": {"minutes": "minutes"},
    "rated_recordings": {"minimum": "count", "passing_only": "bool"},
    "recording_phases": {"phases": "phases", "passing_only": "bool"},
    "case_study": {},
})
"""Each rule kind and the values it takes (all required)."""
COUNTS = ("attended", "supervised")
Param = int | bool | str | tuple[str, ...]


# --- Definitions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    key: str
    kind: str
    text: str
    """What the rule asks, with its values filled in ("4 IPT cases completed under supervision")."""
    params: Mapping[str, Param]
    source: str
    confirmed: bool
    note: str = ""

    def count(self, name: str) -> int:
        value = self.params[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"rule {self.key}: {name} is not a count")
        return value

    def flag(self, name: str) -> bool:
        return bool(self.params[name])

    def word(self, name: str) -> str:
        return str(self.params[name])

    def phases(self) -> tuple[str, ...]:
        value = self.params["phases"]
        return value if isinstance(value, tuple) else ()


@dataclass(frozen=True, slots=True)
class Route:
    id: str
    name: str
    therapies: tuple[str, ...]
    source: str
    rules: tuple[Rule, ...]

    def unconfirmed(self) -> tuple[str, ...]:
        """The keys of the rules that are service settings."""
        return tuple(r.key for r in self.rules if not r.confirmed)

    def rule(self, key: str) -> Rule:
        found = next((r for r in self.rules if r.key == key), None)
        if found is None:
            raise LookupError(f"route {self.id!r} has no rule {key!r}")
        return found


def _hours(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if rest == 0:
        return f"{hours} hour{'' if hours == 1 else 's'}"
    return f"{hours} h {rest} min"


def _text(data: Mapping[str, Any], key: str, source: str, where: str, limit: int, *, required: bool = True) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise AccreditationConfigError(source, f"{where}{key}", "must be a non-empty string" if required else "must be a string")
    if len(value) > limit:
        raise AccreditationConfigError(source, f"{where}{key}", f"must be at most {limit} characters")
    return value.strip()


def _param(value: Any, kind: ParamType, source: str, where: str) -> Param:
    if kind in ("count", "minutes"):
        top = COUNT_MAX if kind == "count" else MINUTES_MAX
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
            raise AccreditationConfigError(source, where, f"must be a whole number from 0 to {top}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise AccreditationConfigError(source, where, "must be true or false")
        return value
    if kind == "counts":
        if value not in COUNTS:
            raise AccreditationConfigError(source, where, f"must be one of {', '.join(COUNTS)}")
        return str(value)
    if (not isinstance(value, list) or not value or len(value) > 20
            or not all(isinstance(p, str) and _KEY.fullmatch(p) for p in value) or len(set(value)) != len(value)):
        raise AccreditationConfigError(source, where, "must list 1 to 20 distinct phase keys (lower-case letters, digits, _)")
    return tuple(value)


def _fill(template: str, params: Mapping[str, Param], source: str, where: str) -> str:
    values: dict[str, str] = {}
    for name, value in params.items():
        if isinstance(value, tuple):
            values[name] = ", ".join(value[:-1]) + (" and " if len(value) > 1 else "") + value[-1]
        else:
            values[name] = str(value).lower() if isinstance(value, bool) else str(value)
    minutes = params.get("minutes")
    if isinstance(minutes, int) and not isinstance(minutes, bool):
        values["hours"] = _hours(minutes)
    try:
        fields = [name for _, name, spec, conversion in string.Formatter().parse(template) if name is not None]
        if bad := next((name for name in fields if name not in values), None):
            raise KeyError(bad)
        return template.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        raise AccreditationConfigError(source, where, f"has a placeholder the rule does not fill: {exc}") from None


def _rule(key: str, raw: Any, source: str) -> Rule:
    where = f"rules.{key}."
    if not _KEY.fullmatch(key):
        raise AccreditationConfigError(source, f"rules.{key}", "must be a key of lower-case letters, digits and _ (at most 40)")
    if not isinstance(raw, Mapping):
        raise AccreditationConfigError(source, f"rules.{key}", "must be a table")
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise AccreditationConfigError(source, f"{where}kind", f"must be one of {', '.join(KINDS)}")
    expected = KINDS[kind]
    unknown = set(raw) - {"kind", "text", "source", "confirmed", "note"} - set(expected)
    if unknown:
        raise AccreditationConfigError(source, f"{where}{sorted(unknown)[0]}", f"is not a value of a {kind} rule")
    missing = [name for name in expected if name not in raw]
    if missing:
        raise AccreditationConfigError(source, f"{where}{missing[0]}", "is required")
    params = {name: _param(raw[name], ptype, source, f"{where}{name}") for name, ptype in expected.items()}
    low, high = params.get("minimum"), params.get("of")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        raise AccreditationConfigError(source, f"{where}minimum", "must not exceed 'of'")
    confirmed = raw.get("confirmed")
    if not isinstance(confirmed, bool):
        raise AccreditationConfigError(source, f"{where}confirmed", "must be true or false")
    text = _fill(_text(raw, "text", source, where, TEXT_MAX), params, source, f"{where}text")
    return Rule(key, kind, text, MappingProxyType(params), _text(raw, "source", source, where, SOURCE_MAX), confirmed,
                _text(raw, "note", source, where, SOURCE_MAX, required=False))


def parse(data: Mapping[str, Any], source: str) -> Route:
    """One route from its definition, validated; ``source`` names it in errors."""
    if data.get("schema") != SCHEMA:
        raise AccreditationConfigError(source, "schema", f"must be {SCHEMA}")
    unknown = set(data) - {"schema", "id", "name", "therapies", "source", "rules"}
    if unknown:
        raise AccreditationConfigError(source, sorted(unknown)[0], "is not a route field")
    route_id = data.get("id")
    if not isinstance(route_id, str) or not _KEY.fullmatch(route_id):
        raise AccreditationConfigError(source, "id", "must be lower-case letters, digits and _ (at most 40)")
    therapies = data.get("therapies")
    if not isinstance(therapies, list) or not therapies or not all(isinstance(t, str) and _KEY.fullmatch(t) for t in therapies):
        raise AccreditationConfigError(source, "therapies", "must list at least one therapy (protocol) id")
    rules = data.get("rules")
    if not isinstance(rules, Mapping) or not rules:
        raise AccreditationConfigError(source, "rules", "must hold at least one [rules.<key>] table")
    return Route(route_id, _text(data, "name", source, "", TEXT_MAX), tuple(therapies),
                 _text(data, "source", source, "", SOURCE_MAX), tuple(_rule(k, v, source) for k, v in rules.items()))


def _apply_settings(raw: dict[str, tuple[str, dict[str, Any]]], settings: Path) -> None:
    """Merge a service's settings over the unconfirmed rules of ``raw`` (in place)."""
    for route_id, table in read_toml(settings, AccreditationConfigError).items():
        if route_id not in raw:
            raise AccreditationConfigError(settings.name, route_id, "is not a known accreditation route")
        if not isinstance(table, Mapping) or set(table) - {"rules"}:
            raise AccreditationConfigError(settings.name, route_id, "may only hold [<route>.rules.<key>] tables")
        name, data = raw[route_id]
        rules = data.get("rules", {})
        for key, change in table.get("rules", {}).items():
            where = f"{route_id}.rules.{key}"
            shipped = rules.get(key)
            if not isinstance(shipped, Mapping):
                raise AccreditationConfigError(settings.name, where, "is not a rule of this route")
            if shipped.get("confirmed") is not False:
                raise AccreditationConfigError(
                    settings.name, where, "is confirmed against its source: only unconfirmed rules are service settings")
            if not isinstance(change, Mapping):
                raise AccreditationConfigError(settings.name, where, "must be a table")
            if fixed := sorted({"kind", "text"} & set(change)):
                raise AccreditationConfigError(settings.name, f"{where}.{fixed[0]}", "may not be changed by settings")
        raw[route_id] = (f"{name} + {settings.name}", deep_merge(data, {"rules": table.get("rules", {})}))


def load(directories: Iterable[Path] = (BUILTIN_DIR,), settings: Path | None = None) -> dict[str, Route]:
    """The routes defined in ``directories``, with ``settings`` merged over their unconfirmed rules."""
    raw = load_directories(directories, None, kind="accreditation route", protected=frozenset(),
                           parse=lambda data, name: (name, dict(data)), error=AccreditationConfigError)
    if settings is not None:
        _apply_settings(raw, settings)
    return {route_id: parse(data, name) for route_id, (name, data) in raw.items()}


def _configured() -> dict[str, Route]:
    directories, settings = configured_directories(BUILTIN_DIR, DIRS_VARIABLE, SETTINGS_VARIABLE)
    return load(directories, settings)


_routes: LoadedOnce[dict[str, Route]] = LoadedOnce(_configured)


def catalogue() -> tuple[Route, ...]:
    """Every route in force (built in, any in INTERPERSONAL_ACCREDITATION_DIRS, with settings)."""
    return tuple(_routes.get().values())


def get(route_id: str) -> Route:
    routes = _routes.get()
    if route_id not in routes:
        raise LookupError(f"unknown accreditation route {route_id!r} (known: {', '.join(sorted(routes))})")
    return routes[route_id]


def reload() -> None:
    """Forget the loaded routes (after changing the settings file or directories)."""
    _routes.forget()


# --- Evidence ------------------------------------------------------------------------------------


def _check_id(value: object, what: str) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > ID_MAX:
        raise EvidenceError(f"{what} must be a non-empty id of at most {ID_MAX} characters, got {value!r}")


def _check_count(value: object, what: str, top: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise EvidenceError(f"{what} must be a whole number from 0 to {top}, got {value!r}")


@dataclass(frozen=True, slots=True)
class Case:
    """One course of therapy a trainee delivered, as the accreditation sees it."""

    id: str
    therapy: str
    in_depression: bool
    started: date
    sessions_attended: int = 0
    sessions_planned: int = 0
    sessions_supervised: int = 0
    """Therapy sessions reviewed in supervision (from the supervision log)."""
    supervision_minutes: int = 0
    """Supervision time logged against this case."""

    def __post_init__(self) -> None:
        _check_id(self.id, "a case id")
        _check_id(self.therapy, f"case {self.id}: the therapy")
        if not isinstance(self.in_depression, bool):
            raise EvidenceError(f"case {self.id}: in_depression must be true or false")
        if not isinstance(self.started, date) or isinstance(self.started, datetime):
            raise EvidenceError(f"case {self.id}: started must be a date")
        for name in ("sessions_attended", "sessions_planned", "sessions_supervised"):
            _check_count(getattr(self, name), f"case {self.id}: {name}", SESSIONS_MAX)
        _check_count(self.supervision_minutes, f"case {self.id}: supervision_minutes", CASE_MINUTES_MAX)

    @property
    def supervised(self) -> bool:
        """Supervision is logged against the case (time, or sessions reviewed)."""
        return self.supervision_minutes > 0 or self.sessions_supervised > 0


@dataclass(frozen=True, slots=True)
class RatedRecording:
    """A recorded session of a case, rated on the fidelity scale."""

    id: str
    case_id: str
    phase: str
    """The scale's phase key of the session recorded (e.g. "ipaf", "middle", "ending")."""
    passed: bool

    def __post_init__(self) -> None:
        _check_id(self.id, "a recording id")
        _check_id(self.case_id, f"recording {self.id}: the case id")
        _check_id(self.phase, f"recording {self.id}: the phase")
        if not isinstance(self.passed, bool):
            raise EvidenceError(f"recording {self.id}: passed must be true or false")


@dataclass(frozen=True, slots=True)
class Evidence:
    cases: tuple[Case, ...] = ()
    recordings: tuple[RatedRecording, ...] = ()
    case_study_submitted: date | None = None

    def __post_init__(self) -> None:
        case_ids = [c.id for c in self.cases]
        if repeated := sorted({i for i in case_ids if case_ids.count(i) > 1}):
            raise EvidenceError(f"case {repeated[0]} is given more than once")
        recording_ids = [r.id for r in self.recordings]
        if repeated := sorted({i for i in recording_ids if recording_ids.count(i) > 1}):
            raise EvidenceError(f"recording {repeated[0]} is given more than once")
        known = set(case_ids)
        if stray := next((r for r in self.recordings if r.case_id not in known), None):
            raise EvidenceError(f"recording {stray.id} belongs to case {stray.case_id}, which is not among the cases")
        if self.case_study_submitted is not None and (
                not isinstance(self.case_study_submitted, date) or isinstance(self.case_study_submitted, datetime)):
            raise EvidenceError("case_study_submitted must be a date or None")


# --- Evaluation ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: Rule
    met: bool
    figures: str
    """The evidence in a phrase: "3 of 4 supervised cases", "10 of 16 hours of supervision"."""
    case_ids: tuple[str, ...] = ()
    """The cases that counted towards the rule (to link from the progress page)."""
    recording_ids: tuple[str, ...] = ()
    """The rated recordings that counted."""

    @property
    def key(self) -> str:
        return self.rule.key

    @property
    def status(self) -> Literal["met", "not yet"]:
        return "met" if self.met else "not yet"


@dataclass(frozen=True, slots=True)
class Progress:
    route: Route
    rules: tuple[RuleResult, ...]
    supervised_cases: tuple[str, ...] = field(default=())
    """The supervised cases of the route's therapies, in the order they started."""

    @property
    def met(self) -> bool:
        """Every rule met (the supervisor still signs the accreditation off)."""
        return all(r.met for r in self.rules)

    def result(self, key: str) -> RuleResult:
        return next(r for r in self.rules if r.key == key)


def _of(count: int, needed: int, noun: str) -> str:
    return f"{count} of {needed} {noun}" if count <= needed else f"{count} {noun} ({needed} needed)"


def _judge(rule: Rule, cases: tuple[Case, ...], recordings: tuple[RatedRecording, ...],
           case_study: date | None) -> RuleResult:
    kind = rule.kind
    if kind == "supervised_cases":
        needed = rule.count("minimum")
        return RuleResult(rule, len(cases) >= needed, _of(len(cases), needed, "supervised cases"),
                          tuple(c.id for c in cases))
    if kind == "first_cases_in_depression":
        needed = rule.count("count")
        first = cases[:needed]
        others = [c.id for c in first if not c.in_depression]
        figures = f"{len(first) - len(others)} of the first {needed} supervised cases in depression"
        if len(first) < needed:
            figures += f" ({len(first)} supervised so far)"
        if others:
            figures += f"; not in depression: {', '.join(others)}"
        return RuleResult(rule, len(first) == needed and not others, figures, tuple(c.id for c in first))
    if kind == "sessions_per_case":
        minimum, counted = rule.count("minimum"), rule.word("counts")
        meeting = [c for c in cases if (c.sessions_attended if counted == "attended" else c.sessions_supervised) >= minimum]
        needed = rule.count("cases")
        return RuleResult(rule, len(meeting) >= needed,
                          _of(len(meeting), needed, f"cases with at least {minimum} sessions {counted}"),
                          tuple(c.id for c in meeting))
    if kind == "supervision_per_case":
        minutes, needed = rule.count("minutes"), rule.count("cases")
        meeting = [c for c in cases if c.supervision_minutes >= minutes]
        return RuleResult(rule, len(meeting) >= needed,
                          _of(len(meeting), needed, f"cases with at least {_hours(minutes)} of supervision"),
                          tuple(c.id for c in meeting))
    if kind == "supervision_total":
        minutes = rule.count("minutes")
        total = sum(c.supervision_minutes for c in cases)
        hours, rest = divmod(total, 60)
        figures = f"{hours}{f' h {rest} min' if rest else ''} of {_hours(minutes)} of supervision"
        return RuleResult(rule, total >= minutes, figures, tuple(c.id for c in cases if c.supervision_minutes))
    if kind == "case_study":
        if case_study is None:
            return RuleResult(rule, False, "not submitted")
        return RuleResult(rule, True, f"submitted {case_study.isoformat()}")
    counted_recordings = tuple(r for r in recordings if r.passed or not rule.flag("passing_only"))
    rated = "passing recordings" if rule.flag("passing_only") else "rated recordings"
    if kind == "recordings_per_case":
        minimum, needed = rule.count("minimum"), rule.count("cases")
        per_case = {c.id: [r for r in counted_recordings if r.case_id == c.id] for c in cases}
        meeting_ids = [c.id for c in cases if len(per_case[c.id]) >= minimum]
        return RuleResult(rule, len(meeting_ids) >= needed,
                          _of(len(meeting_ids), needed, f"cases with at least {minimum} {rated}"), tuple(meeting_ids),
                          tuple(r.id for cid in meeting_ids for r in per_case[cid]))
    if kind == "rated_recordings":
        needed = rule.count("minimum")
        return RuleResult(rule, len(counted_recordings) >= needed, _of(len(counted_recordings), needed, rated),
                          tuple(sorted({r.case_id for r in counted_recordings})), tuple(r.id for r in counted_recordings))
    # recording_phases
    phases = rule.phases()
    covering = [r for r in counted_recordings if r.phase in phases]
    missing = [p for p in phases if not any(r.phase == p for r in covering)]
    covered = [p for p in phases if p not in missing]
    figures = f"covered: {', '.join(covered) or 'none'}" + (f"; not yet: {', '.join(missing)}" if missing else "")
    return RuleResult(rule, not missing, figures, tuple(sorted({r.case_id for r in covering})),
                      tuple(r.id for r in covering))


def evaluate(route: Route, evidence: Evidence) -> Progress:
    """Each rule of ``route`` judged on ``evidence``: met or not yet, with figures and the ids
    of the cases and recordings that counted. Pure: the same evidence gives the same result."""
    cases = tuple(sorted((c for c in evidence.cases if c.therapy in route.therapies and c.supervised),
                         key=lambda c: (c.started, c.id)))
    case_ids = {c.id for c in cases}
    recordings = tuple(r for r in evidence.recordings if r.case_id in case_ids)
    results = tuple(_judge(rule, cases, recordings, evidence.case_study_submitted) for rule in route.rules)
    return Progress(route, results, tuple(c.id for c in cases))
