"""Immutable, typed values of the protocols library.

A :class:`Protocol` is built from one definition file by :mod:`._loader`, which
validates it (phase lengths fit the session range, exactly one ``"rest"`` phase, task
ids unique, measures known, at least one treatment phase, features and letters known);
the methods here assume a valid protocol.

What a therapy *has* is data, never a therapy name in code: its :data:`FEATURES` (the IPAF,
the timeline, the interpersonal inventory, the interpersonal formulation), the letters
(:data:`LETTERS`) that end a course of it, the measures a patient answers by link
(``link_measures``), and which phases are treatment (``Phase.treatment``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from ._errors import ProtocolError, UnknownTask

REST: Literal["rest"] = "rest"
"""The length of the one phase that takes the sessions the fixed-length phases leave."""

Cadence = Literal["weekly", "monthly"]
PhaseRange = tuple["Phase", int, int | None]

FEATURES: Mapping[str, str] = MappingProxyType({
    "ipaf": "Interpersonal Affective Focus (IPAF)",
    "timeline": "Timeline of life events and mood",
    "inventory": "Interpersonal inventory",
    "ipt_formulation": "Interpersonal formulation, focal areas and contract",
})
"""The treatment features a protocol may list (``features``): the focus records the web
application offers for a course of it. DIT's IPAF and IPT's timeline, inventory and
formulation (DOMAIN.md §1)."""

LETTERS: Mapping[str, str] = MappingProxyType({
    "goodbye": "Goodbye letter",
    "ending_summary": "End-of-treatment summary",
    "gp_discharge": "Discharge letter to the GP",
})
"""The letters a course may end with (``letters``): DIT's goodbye letter (DOMAIN.md §1 [C]),
an end-of-treatment summary for the patient, the discharge letter to the GP."""

DEFAULT_LETTERS = ("gp_discharge",)

NOTE_TEMPLATE_MAX = 2_000
"""The longest note template a phase may have: well under a session note's own bound (5,000
characters in the web application), so the therapist has room to write under the headings."""
"""The letters of a protocol that does not list any: the GP discharge letter."""


@dataclass(frozen=True, slots=True)
class Sourced:
    """Where a value comes from, and whether that source has been confirmed.

    ``confirmed=False`` marks a value that could not be confirmed in a primary source: a
    service may change it with ``INTERPERSONAL_PROTOCOLS_SETTINGS``; show it as a default.
    """

    source: str
    confirmed: bool


@dataclass(frozen=True, slots=True)
class Task:
    """Something the therapist does, or checks, in a phase. ``id`` is unique within the
    protocol. ``confirmed`` is False when the task is not named by the protocol's source."""

    id: str
    label: str
    confirmed: bool = True
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Phase:
    """A phase of a course: a fixed number of sessions, or ``"rest"`` (the sessions the
    fixed phases leave). ``sourced`` covers the phase's length and place. ``treatment`` is
    False for a phase of assessment or screening contacts: its sessions are not treatment
    and do not count towards a finished course (DOMAIN.md §4, §6)."""

    id: str
    name: str
    length: int | Literal["rest"]
    tasks: tuple[Task, ...]
    sourced: Sourced
    treatment: bool = True
    note_template: str = ""
    """Headings a therapist writes a session's notes under in this phase (empty: none). The
    record-session form starts with it; the loader keeps it at most :data:`NOTE_TEMPLATE_MAX`
    characters."""

    @property
    def is_rest(self) -> bool:
        return self.length == REST


@dataclass(frozen=True, slots=True)
class Protocol:
    """A course protocol: how many sessions, how often, in which phases, with which tasks
    and measures. ``default_sessions`` and ``max_sessions`` are None for an open-ended
    protocol (maintenance IPT). ``features`` (keys of :data:`FEATURES`) and ``letters``
    (keys of :data:`LETTERS`) say what a course of it has; ``link_measures`` are the measures
    sent to the patient by link before a session (self-report measures only)."""

    id: str
    name: str
    therapy: str
    step: int
    snomed: str | None
    snomed_confirmed: bool
    default_sessions: int | None
    min_sessions: int
    max_sessions: int | None
    cadence: Cadence
    open_ended: bool
    phases: tuple[Phase, ...]
    session_measures: tuple[str, ...]
    baseline_measures: tuple[str, ...]
    description: str
    source: str
    snomed_source: str = ""
    sessions_sourced: Sourced = Sourced("", True)
    source_file: str = ""
    features: tuple[str, ...] = ()
    letters: tuple[str, ...] = DEFAULT_LETTERS
    link_measures: tuple[str, ...] = ()

    # -- lookups -------------------------------------------------------------------

    @property
    def tasks(self) -> tuple[Task, ...]:
        """Every task, in phase order."""
        return tuple(t for p in self.phases for t in p.tasks)

    @property
    def tasks_by_phase(self) -> Mapping[str, tuple[Task, ...]]:
        """``{phase id: tasks}``, in phase order."""
        return MappingProxyType({p.id: p.tasks for p in self.phases})

    def task(self, task_id: str) -> Task:
        """The task with this id; :class:`UnknownTask` if there is none."""
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise UnknownTask(self.id, str(task_id))

    def phase(self, phase_id: str) -> Phase:
        """The phase with this id; ``KeyError`` if there is none."""
        for p in self.phases:
            if p.id == phase_id:
                return p
        raise KeyError(phase_id)

    def has_feature(self, feature: str) -> bool:
        """Whether a course of this protocol has ``feature`` (a key of :data:`FEATURES`)."""
        return feature in self.features

    def phase_of_task(self, task_id: str) -> Phase:
        """The phase holding the task with this id; :class:`UnknownTask` if none does."""
        for p in self.phases:
            if any(t.id == task_id for t in p.tasks):
                return p
        raise UnknownTask(self.id, str(task_id))

    # -- session arithmetic ----------------------------------------------------------

    def check_planned(self, planned_sessions: int | None = None) -> int:
        """``planned_sessions`` validated against [min, max] (None: the default, or the
        minimum for an open-ended protocol); raises :class:`ProtocolError` otherwise."""
        if planned_sessions is None:
            return self.default_sessions if self.default_sessions is not None else self.min_sessions
        if isinstance(planned_sessions, bool) or not isinstance(planned_sessions, int):
            raise ProtocolError(f"{self.name}: planned sessions must be a whole number, not {planned_sessions!r}")
        if planned_sessions < self.min_sessions or (self.max_sessions is not None and planned_sessions > self.max_sessions):
            allowed = (
                f"at least {self.min_sessions}"
                if self.max_sessions is None
                else f"{self.min_sessions}" if self.min_sessions == self.max_sessions
                else f"{self.min_sessions} to {self.max_sessions}"
            )
            raise ProtocolError(
                f"{self.name} is contracted for {allowed} sessions; {planned_sessions} planned is outside that range"
            )
        return planned_sessions

    def phase_ranges(self, planned_sessions: int | None = None) -> tuple[PhaseRange, ...]:
        """``(phase, first session, last session)`` for each phase of a course contracted
        to ``planned_sessions`` (None: the protocol's default). In an open-ended protocol
        the rest phase's last session is None."""
        n = self.check_planned(planned_sessions)
        fixed = sum(p.length for p in self.phases if not isinstance(p.length, str))
        ranges: list[PhaseRange] = []
        first = 1
        for p in self.phases:
            if isinstance(p.length, str):
                if self.open_ended:
                    ranges.append((p, first, None))
                    continue  # the loader keeps the open-ended rest phase last
                length = n - fixed
            else:
                length = p.length
            ranges.append((p, first, first + length - 1))
            first += length
        return tuple(ranges)

    def phase_for(self, attended: int, planned_sessions: int | None = None) -> Phase:
        """The phase of the next session (``attended + 1``), capped at the last phase:
        0 attended → the first phase; 16 of 16 attended → the ending phase."""
        if isinstance(attended, bool) or not isinstance(attended, int) or attended < 0:
            raise ProtocolError(f"attended sessions must be a whole number, 0 or more, not {attended!r}")
        upcoming = attended + 1
        ranges = self.phase_ranges(planned_sessions)
        for phase, first, last in ranges:
            if first <= upcoming and (last is None or upcoming <= last):
                return phase
        return ranges[-1][0]

    def phase_at(self, session_number: int, planned_sessions: int | None = None) -> Phase:
        """The phase of the ``session_number``-th session (1 = the first), capped at the last
        phase: the phase :meth:`phase_for` gives after ``session_number - 1`` attended."""
        if isinstance(session_number, bool) or not isinstance(session_number, int) or session_number < 1:
            raise ProtocolError(f"a session number is a whole number, 1 or more, not {session_number!r}")
        return self.phase_for(session_number - 1, planned_sessions)

    def is_treatment(self, session_number: int, planned_sessions: int | None = None) -> bool:
        """Whether the ``session_number``-th session of a course is a treatment contact: its
        phase is not one of assessment or screening (``treatment = false``)."""
        return self.phase_at(session_number, planned_sessions).treatment

    def unconfirmed(self) -> tuple[str, ...]:
        """Names of the values whose source is unconfirmed (service settings)."""
        names: list[str] = []
        if not self.snomed_confirmed:
            names.append("snomed")
        if not self.sessions_sourced.confirmed:
            names.append("sessions")
        for p in self.phases:
            if not p.sourced.confirmed:
                names.append(f"phases.{p.id}")
            names.extend(f"phases.{p.id}.tasks.{t.id}" for t in p.tasks if not t.confirmed and p.sourced.confirmed)
        return tuple(names)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "therapy": self.therapy,
            "step": self.step,
            "snomed": self.snomed,
            "snomed_confirmed": self.snomed_confirmed,
            "default_sessions": self.default_sessions,
            "min_sessions": self.min_sessions,
            "max_sessions": self.max_sessions,
            "cadence": self.cadence,
            "open_ended": self.open_ended,
            "phases": [
                {
                    "id": p.id,
                    "name": p.name,
                    "length": p.length,
                    "confirmed": p.sourced.confirmed,
                    "treatment": p.treatment,
                    "note_template": p.note_template,
                    "tasks": [{"id": t.id, "label": t.label, "confirmed": t.confirmed} for t in p.tasks],
                }
                for p in self.phases
            ],
            "session_measures": list(self.session_measures),
            "baseline_measures": list(self.baseline_measures),
            "link_measures": list(self.link_measures),
            "features": list(self.features),
            "letters": list(self.letters),
            "description": self.description,
            "source": self.source,
            "unconfirmed": list(self.unconfirmed()),
        }
