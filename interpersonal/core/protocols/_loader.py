"""Load and validate course protocol definitions (TOML).

The schema is documented in definitions/README.md. Every problem raises
:class:`DefinitionError` naming the file and the field, e.g.
``dit.toml: phases[1].length: must be a whole number of sessions (1 or more) or "rest", not 0``.

A service may (a) add protocols by dropping ``*.toml`` definitions into a directory named
in ``INTERPERSONAL_PROTOCOLS_DIRS`` (``os.pathsep``-separated), and (b) change the values
of any protocol (an unconfirmed phase length, say) in a settings file named by
``INTERPERSONAL_PROTOCOLS_SETTINGS``: top-level tables keyed by protocol id, deep-merged
into the definition before validation (an array such as ``phases`` is replaced whole).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, cast

from interpersonal.core import _definitions, measures

from ._errors import DefinitionError
from ._model import DEFAULT_LETTERS, FEATURES, LETTERS, NOTE_TEMPLATE_MAX, REST, Phase, Protocol, Sourced, Task

BUILTIN_DIR = Path(__file__).with_name("definitions")
SCHEMA_VERSION = 1
THERAPIES = ("dit", "ipt", "cbt", "lit")
"""The therapies a protocol may deliver (its ``therapy`` field)."""
STEPS = (2, 3)
CADENCES = ("weekly", "monthly")
_ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


class _Reader:
    """Typed access to one table of a definition, naming the field on error."""

    def __init__(self, source: str, data: Mapping[str, Any], path: str = "") -> None:
        self.source = source
        self.data = data
        self.path = path
        self.seen: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str) -> DefinitionError:
        return DefinitionError(self.source, self.name(key), problem)

    def _get(self, key: str, required: bool) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if required:
                raise self.fail(key, "is required")
            return None
        return self.data[key]

    def string(self, key: str, *, required: bool = True) -> Any:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty string, not {value!r}")
        return value.strip()

    def identifier(self, key: str) -> str:
        value = cast(str, self.string(key))
        if not set(value) <= _ID_CHARS or not value[0].isalpha():
            raise self.fail(key, f"must be lower-case letters, digits and underscores, starting with a letter: {value!r}")
        return value

    def integer(self, key: str, *, required: bool = True, minimum: int = 1) -> Any:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"must be a whole number, {minimum} or more, not {value!r}")
        return value

    def flag(self, key: str, *, default: bool) -> bool:
        value = self._get(key, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {value!r}")
        return value

    def choice(self, key: str, choices: tuple[Any, ...]) -> Any:
        value = self._get(key, True)
        if isinstance(value, bool) or value not in choices:
            raise self.fail(key, f"must be one of {', '.join(map(str, choices))}, not {value!r}")
        return value

    def table(self, key: str) -> _Reader:
        value = self._get(key, True)
        if not isinstance(value, Mapping):
            raise self.fail(key, "must be a table")
        return _Reader(self.source, value, self.name(key))

    def tables(self, key: str) -> list[_Reader]:
        value = self._get(key, True)
        if not isinstance(value, list) or not value or not all(isinstance(v, Mapping) for v in value):
            raise self.fail(key, "must be a non-empty array of tables")
        return [_Reader(self.source, v, f"{self.name(key)}[{i}]") for i, v in enumerate(value)]

    def strings(self, key: str, *, allow_empty: bool, required: bool = True) -> tuple[str, ...] | None:
        """A list of distinct strings; None when the key is left out and not ``required``."""
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or (not value and not allow_empty):
            raise self.fail(key, "must be a list of strings" + ("" if allow_empty else " (at least one)"))
        if len(set(value)) != len(value):
            raise self.fail(key, f"lists a value twice: {value}")
        return tuple(value)

    def done(self) -> None:
        """Reject keys the schema does not know: a typo must not pass silently."""
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise self.fail(unknown[0], "is not a known field")


def _sourced(r: _Reader) -> Sourced:
    return Sourced(source=r.string("source"), confirmed=r.flag("confirmed", default=False))


def _measure_ids(r: _Reader, key: str, *, allow_empty: bool) -> tuple[str, ...]:
    ids = cast(tuple[str, ...], r.strings(key, allow_empty=allow_empty))  # required: never None
    for mid in ids:
        try:
            measures.get(mid)
        except measures.UnknownInstrument:
            known = ", ".join(i.id for i in measures.catalogue())
            raise r.fail(key, f"unknown measure {mid!r} (known: {known})") from None
    return ids


def _patient_measure_ids(r: _Reader, key: str) -> tuple[str, ...] | None:
    """Measures sent to the patient by link: known, self-report, with item text the licence
    lets us show (None when the key is left out)."""
    ids = r.strings(key, allow_empty=True, required=False)
    if ids is None:
        return None
    for mid in ids:
        try:
            instrument = measures.get(mid)
        except measures.UnknownInstrument:
            known = ", ".join(i.id for i in measures.catalogue())
            raise r.fail(key, f"unknown measure {mid!r} (known: {known})") from None
        if not _answerable_by_patient(instrument):
            raise r.fail(key, f"{mid!r} cannot be sent to the patient by link: only self-report measures whose "
                              "licence lets us show the items can")
    return tuple(ids)


def _answerable_by_patient(instrument: measures.Instrument) -> bool:
    return instrument.respondent is measures.Respondent.PATIENT and instrument.licence.item_text


def _names(r: _Reader, key: str, known: Mapping[str, str], what: str) -> tuple[str, ...] | None:
    """A list of names from ``known`` (None when the key is left out)."""
    names = r.strings(key, allow_empty=True, required=False)
    if names is None:
        return None
    for name in names:
        if name not in known:
            raise r.fail(key, f"unknown {what} {name!r} (known: {', '.join(sorted(known))})")
    return tuple(names)


def _note_template(r: _Reader) -> str:
    """A phase's note template: optional; a string of printable lines, at most
    :data:`NOTE_TEMPLATE_MAX` characters (it is put into a bounded form field)."""
    value = r._get("note_template", False)
    if value is None:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise r.fail("note_template", f"must be a non-empty string, not {value!r}")
    text = value.strip()
    if len(text) > NOTE_TEMPLATE_MAX:
        raise r.fail("note_template", f"must be at most {NOTE_TEMPLATE_MAX} characters, not {len(text)}")
    if any(not (c.isprintable() or c in "\n\t") for c in text):
        raise r.fail("note_template", "must hold printable text and line breaks only (no control characters)")
    return text


def _phase(r: _Reader, task_ids: dict[str, str]) -> Phase:
    phase_id = r.identifier("id")
    name = r.string("name")
    raw = r.data.get("length")
    r.seen.add("length")
    if raw != REST and (isinstance(raw, bool) or not isinstance(raw, int) or raw < 1):
        raise r.fail("length", f'must be a whole number of sessions (1 or more) or "rest", not {raw!r}')
    length = cast(int | Literal["rest"], raw)
    sourced = _sourced(r)
    treatment = r.flag("treatment", default=True)
    note_template = _note_template(r)
    tasks: list[Task] = []
    for tr in r.tables("tasks"):
        task_id = tr.identifier("id")
        if task_id in task_ids:
            raise tr.fail("id", f"task {task_id!r} is already defined in {task_ids[task_id]}")
        task_ids[task_id] = tr.path
        tasks.append(
            Task(
                id=task_id,
                label=tr.string("label"),
                confirmed=tr.flag("confirmed", default=sourced.confirmed),
                source=tr.string("source", required=False),
            )
        )
        tr.done()
    r.done()
    return Phase(id=phase_id, name=name, length=length, tasks=tuple(tasks), sourced=sourced, treatment=treatment,
                 note_template=note_template)


def parse(data: Mapping[str, Any], source: str) -> Protocol:
    """Build a :class:`Protocol` from a parsed definition, validating every field."""
    r = _Reader(source, data)
    schema = r._get("schema", True)
    if schema != SCHEMA_VERSION:
        raise r.fail("schema", f"this version reads schema {SCHEMA_VERSION}, not {schema!r}")
    protocol_id = r.identifier("id")
    name = r.string("name")
    therapy = r.choice("therapy", THERAPIES)
    step = r.choice("step", STEPS)
    description = r.string("description")
    citation = r.string("source")
    session_measures = _measure_ids(r, "session_measures", allow_empty=False)
    baseline_measures = _measure_ids(r, "baseline_measures", allow_empty=True)
    link_measures = _patient_measure_ids(r, "link_measures")
    if link_measures is None:  # by default, the session measures a patient can answer by link
        link_measures = tuple(m for m in session_measures if _answerable_by_patient(measures.get(m)))
    features = _names(r, "features", FEATURES, "feature") or ()
    letters = _names(r, "letters", LETTERS, "letter")
    if letters is None:
        letters = DEFAULT_LETTERS

    sn = r.table("snomed")
    snomed = sn.string("code", required=False)
    if snomed is not None and not snomed.isdigit():
        raise sn.fail("code", f"must be a SNOMED CT concept id (digits only), not {snomed!r}")
    snomed_sourced = _sourced(sn)
    sn.done()

    s = r.table("sessions")
    cadence = s.choice("cadence", CADENCES)
    open_ended = s.flag("open_ended", default=False)
    minimum = s.integer("min")
    default = s.integer("default", required=not open_ended)
    maximum = s.integer("max", required=not open_ended)
    sessions_sourced = _sourced(s)
    s.done()
    if open_ended:
        for key, value in (("default", default), ("max", maximum)):
            if value is not None:
                raise s.fail(key, "must be left out of an open-ended protocol")
    elif not minimum <= default <= maximum:
        raise s.fail("default", f"must lie within min..max ({minimum}..{maximum}), not {default}")

    task_ids: dict[str, str] = {}
    phases = tuple(_phase(pr, task_ids) for pr in r.tables("phases"))
    r.done()

    seen: set[str] = set()
    for i, p in enumerate(phases):
        if p.id in seen:
            raise DefinitionError(source, f"phases[{i}].id", f"phase {p.id!r} is defined twice")
        seen.add(p.id)
    if not any(p.treatment for p in phases):
        raise DefinitionError(source, "phases", "at least one phase must be treatment (treatment = false marks "
                                                "assessment or screening phases only)")
    rest = [i for i, p in enumerate(phases) if p.is_rest]
    if len(rest) != 1:
        raise DefinitionError(source, "phases", f'exactly one phase must have length = "rest"; found {len(rest)}')
    if open_ended and rest[0] != len(phases) - 1:
        raise DefinitionError(source, f"phases[{rest[0]}].length", "the rest phase of an open-ended protocol must be the last phase")
    fixed = sum(p.length for p in phases if not isinstance(p.length, str))
    if fixed + 1 > minimum:
        raise DefinitionError(
            source, "sessions.min",
            f"the fixed-length phases take {fixed} sessions, so the rest phase needs min ≥ {fixed + 1}, not {minimum}",
        )

    return Protocol(
        id=protocol_id,
        name=name,
        therapy=therapy,
        step=step,
        snomed=snomed,
        snomed_confirmed=snomed_sourced.confirmed and snomed is not None,
        default_sessions=default,
        min_sessions=minimum,
        max_sessions=maximum,
        cadence=cadence,
        open_ended=open_ended,
        phases=phases,
        session_measures=session_measures,
        baseline_measures=baseline_measures,
        description=description,
        source=citation,
        snomed_source=snomed_sourced.source,
        sessions_sourced=sessions_sourced,
        source_file=source,
        features=features,
        letters=letters,
        link_measures=link_measures,
    )


def read_toml(path: Path) -> dict[str, Any]:
    return _definitions.read_toml(path, DefinitionError)


def load_directories(directories: Iterable[Path], settings: Path | None = None) -> dict[str, Protocol]:
    """Every protocol definition in ``directories`` (ids unique), with ``settings`` overrides."""
    return _definitions.load_directories(
        directories, settings, kind="protocol", protected=frozenset({"id", "schema"}), parse=parse, error=DefinitionError,
    )


def configured_directories() -> tuple[list[Path], Path | None]:
    """The built-in directory, then any from INTERPERSONAL_PROTOCOLS_DIRS; the settings file."""
    return _definitions.configured_directories(
        BUILTIN_DIR, "INTERPERSONAL_PROTOCOLS_DIRS", "INTERPERSONAL_PROTOCOLS_SETTINGS"
    )
