"""A course's progress and end-of-course summary: first and last scores, the NHS Talking
Therapies outcome (interpersonal.core.outcomes) and attendance counts.

Reads an already-authorised course (the caller used courses.access); issues a fixed
number of queries.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from interpersonal.core import measures
from interpersonal.core.codes import Attendance
from interpersonal.core.outcomes import ANXIETY_MEASURE, DEPRESSION_MEASURE, CourseOutcome, outcome_of_series, rules
from interpersonal.web.assessments.charts import Point
from interpersonal.web.assessments.models import Measurement
from interpersonal.web.courses.models import ATTENDED, Course, TherapySession

MISSED = (Attendance.DID_NOT_ATTEND.value, Attendance.ARRIVED_LATE_NOT_SEEN.value)
"""Appointments the patient missed (DNA, or too late to be seen)."""
CANCELLED = (Attendance.CANCELLED_BY_PATIENT.value, Attendance.CANCELLED_BY_PROVIDER.value)


@dataclass(frozen=True, slots=True)
class SessionRow:
    session: TherapySession
    number: int | None
    """Its number among attended sessions (None if not attended)."""


@dataclass(frozen=True, slots=True)
class MeasureSeries:
    instrument: measures.Instrument
    rows: list[tuple[Point, Measurement]]

    @property
    def points(self) -> list[Point]:
        return [p for p, _ in self.rows]


@dataclass(frozen=True, slots=True)
class CourseSummary:
    attended: int
    missed: int
    cancelled: int
    booked: int
    first: dict[str, float | None]
    last: dict[str, float | None]
    outcome: CourseOutcome
    paired_in_distinct_sessions: bool
    sessions: list[SessionRow] = field(default_factory=list)
    series: list[MeasureSeries] = field(default_factory=list)
    sessions_corrected: bool = True
    measures_corrected: bool = True
    """Whether any of the course's sessions (measures), deleted ones included, was ever corrected:
    every correction raises the row's version (courses.corrections, assessments.corrections), so
    False means the correction history has nothing to read."""
    treatment_attended: int | None = None
    """Attended sessions that are treatment (TherapySession.treatment, from the protocol's
    phases); None: every attended session (the same as ``attended``)."""

    @property
    def attended_treatment(self) -> int:
        return self.attended if self.treatment_attended is None else self.treatment_attended

    @property
    def finished_treatment(self) -> bool:
        """NHS Talking Therapies (DOMAIN.md §4 [V]): a course is finished with at least two
        attended *treatment* sessions; assessment sessions (a phase with ``treatment = false``)
        do not count."""
        return self.attended_treatment >= 2


def _session_rows(sessions: list[TherapySession]) -> tuple[list[SessionRow], dict[int, int]]:
    rows, numbers, n = [], {}, 0
    for s in sessions:
        if s.attendance in ATTENDED:
            n += 1
            numbers[s.pk] = n
        rows.append(SessionRow(s, numbers.get(s.pk)))
    return rows, numbers


def _x_for(m: Measurement, numbers: dict[int, int], attended: list[TherapySession],
           booked: dict[int, dt.datetime]) -> int:
    """The session a measure belongs to: its session's number; for a session still booked (the
    questionnaire sent by link before it, answered before it takes place) the number it will
    have, one after the sessions attended before it — never the previous session's; a patient's
    answers to a link "for the next session" sent with nothing booked, the same: the session after
    those attended before them; else (a clinician's measure with no session) the number of
    sessions attended by the time it was recorded (0: before treatment)."""
    if m.session_id in numbers:
        return numbers[m.session_id]
    if m.session_id in booked:
        return sum(1 for s in attended if s.scheduled_at < booked[m.session_id]) + 1
    before = sum(1 for s in attended if s.scheduled_at <= m.recorded_at)
    return before + 1 if m.session_id is None and m.source == Measurement.Source.PATIENT else before


def summarise(course: Course) -> CourseSummary:
    # Every row (all_rows), to know whether any was corrected; those in force are the ones shown.
    # With who recorded each: the course page's notes panel reads its notes from these rows.
    every_session = list(TherapySession.all_rows.filter(course=course).select_related("recorded_by")
                         .order_by("scheduled_at", "id"))
    sessions = [s for s in every_session if s.entered_in_error_at is None]
    rows, numbers = _session_rows(sessions)
    attended = [s for s in sessions if s.attendance in ATTENDED]
    booked = {s.pk: s.scheduled_at for s in sessions if s.attendance is None}
    counts = Counter(s.attendance for s in sessions)
    # The answers say which risk items were left unanswered; the variants are not shown here.
    every_measure = list(Measurement.all_rows.filter(course=course).defer("variants").order_by("recorded_at", "id"))
    found = [m for m in every_measure if m.entered_in_error_at is None]
    by_instrument: dict[str, list[tuple[Point, Measurement]]] = {}
    for m in found:
        point = Point(x=_x_for(m, numbers, attended, booked), total=m.total, date=m.recorded_at.date(),
                      severity=m.severity, risk=bool(m.risk), risk_unanswered=m.risk_unanswered)
        by_instrument.setdefault(m.instrument, []).append((point, m))
    series = []
    for instrument_id, pairs in by_instrument.items():
        try:
            series.append(MeasureSeries(measures.get(instrument_id), pairs))
        except measures.UnknownInstrument:  # a definition withdrawn since: keep the rest
            continue
    order = {i: n for n, i in enumerate((DEPRESSION_MEASURE, ANXIETY_MEASURE, "wsas", "hrsd17"))}
    series.sort(key=lambda s: (order.get(s.instrument.id, 99), s.instrument.id))

    first: dict[str, float | None] = {}
    last: dict[str, float | None] = {}
    for s in series:
        scored = [p for p in s.points if p.total is not None]
        if scored:
            first[s.instrument.id], last[s.instrument.id] = scored[0].total, scored[-1].total
    # The one rule (core rules.first_and_last): paired only when the last score comes from a later session.
    by_session = {s.instrument.id: [(p.x, p.total) for p in s.points] for s in series}
    outcome = outcome_of_series(by_session)
    distinct = all(rules.first_and_last(by_session.get(k, [])) is not None for k in (DEPRESSION_MEASURE, ANXIETY_MEASURE))
    return CourseSummary(
        attended=len(attended), treatment_attended=sum(1 for s in attended if s.treatment),
        missed=sum(counts[c] for c in MISSED),
        cancelled=sum(counts[c] for c in CANCELLED),
        booked=counts[None],
        first=first, last=last, outcome=outcome, paired_in_distinct_sessions=distinct,
        sessions=rows, series=series,
        sessions_corrected=any(s.version > 1 for s in every_session),
        measures_corrected=any(m.version > 1 for m in every_measure),
    )

