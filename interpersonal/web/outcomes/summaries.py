"""Per-referral outcome summaries, kept current at write time (docs/outcomes.md, "The dashboard").

- :func:`summarise`: one referral's summary from its rows — pure, the one computation;
- :func:`refresh`: recompute one referral's summary, in the caller's transaction. Every action
  that changes what a summary reads calls it as its last step (receiving and discharging a
  referral, starting and ending a course, recording a session or its attendance, recording a
  measure), so the dashboard never reads a stale row and never waits for a worker;
- :func:`rebuild`: every summary again, in batches (``manage.py rebuild_outcome_summaries``,
  after a bulk load such as ``synth_service``, and the migration that introduced them).

What a summary reads: the referral's received and end dates and end reason; its courses
(therapy, therapist, order); its contacts with an attendance code (date, code, whether treatment);
its PHQ-9 and anxiety-measure totals (time recorded). A new action that changes any of these must
call :func:`refresh` too: ``tests/web/outcomes/test_summaries.py`` checks, after random sequences
of actions, that the summaries kept at write time equal a full rebuild.

Nothing clinical is decided here. "Finished", "paired", the waits and the attendance codes are
the core's constants (``interpersonal.core.outcomes.service``); the outcome flags are the core's
rule, reached through :func:`outcome_of` alone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.apps import apps as live_apps
from django.db import models, transaction
from django.utils import timezone

from interpersonal.core import protocols
from interpersonal.core.codes import EndReason
from interpersonal.core.outcomes import ANXIETY_MEASURE, DEPRESSION_MEASURE, CourseOutcome
from interpersonal.core.outcomes import service as core_service
from interpersonal.core.outcomes.course import outcome_of_series

ATTENDED_CODES = frozenset(core_service.ATTENDED_CODES)
DNA_CODE = core_service.DNA_CODE
CONTACT_CODES = core_service.CONTACT_CODES  # (lowest, highest) attendance codes counted as appointments
MIN_TREATMENT = core_service.MIN_TREATMENT_SESSIONS
MEASURES = (DEPRESSION_MEASURE, ANXIETY_MEASURE)
OUTCOME_FLAGS = ("caseness_at_start", "recovered", "reliable_improvement", "reliable_deterioration",
                 "no_reliable_change", "reliable_recovery")

# Row shapes read from the database (values_list), in this order.
ReferralRow = tuple[int, dt.date, "dt.date | None", str]  # pk, received_on, ended_on, end_reason
CourseRow = tuple[int, str, int]  # pk, protocol, therapist_id — ordered by started_on, pk
ContactRow = tuple["int | None", dt.datetime, int, bool]  # course_id, scheduled_at, attendance, treatment
ScoreRow = tuple[str, float, dt.datetime]  # instrument, total, recorded_at — ordered by recorded_at, pk


def outcome_of(series: Mapping[str, Sequence[tuple[dt.datetime, float]]]) -> CourseOutcome:
    """The core's outcome of a referral from each measure's scores in time order
    (``{"phq9": [(recorded_at, total), ...]}``): the one direction-aware rule of paired, recovery
    and reliable change (``interpersonal.core.outcomes.course.outcome_of_series``; paired when the
    last score was taken at a later time than the first). The only call from the web layer into it."""
    return outcome_of_series(series)


def _end_code(reason: str) -> int | None:
    return EndReason(reason).nhs_code if reason else None


def _step(protocol: str) -> int | None:
    try:
        return protocols.get(protocol).step
    except protocols.UnknownProtocol:  # an id no longer shipped, in old data
        return None


def placed(courses: Sequence[CourseRow], attended_by_course: Mapping[int, int]) -> tuple[str, int | None]:
    """Where a referral is counted: the therapy of its last course with at least
    :data:`MIN_TREATMENT` attended treatment contacts, else of its last course, and the therapist of
    its last course (issue 13; docs/outcomes.md). ``("", None)`` before any course."""
    if not courses:
        return "", None
    treated = [c for c in courses if attended_by_course.get(c[0], 0) >= MIN_TREATMENT]
    return (treated or courses)[-1][1], courses[-1][2]


def summarise(referral: ReferralRow, courses: Sequence[CourseRow], contacts: Iterable[ContactRow],
              scores: Iterable[ScoreRow]) -> dict[str, Any]:
    """The summary fields of one referral from its rows (see the module docstring for their order)."""
    pk, received_on, ended_on, end_reason = referral
    attended_by_course: dict[int, int] = defaultdict(int)
    attended_days: list[dt.date] = []
    counted_days: list[dt.date] = []
    counts = {"treatment_contacts": 0, "attended_contacts": 0, "dna_contacts": 0}
    low, high = CONTACT_CODES
    zone = timezone.get_current_timezone()
    for course_id, at, code, treatment in contacts:
        if not treatment:
            continue
        day = at.astimezone(zone).date()
        if code in ATTENDED_CODES:
            attended_days.append(day)
            if course_id is not None:
                attended_by_course[course_id] += 1
        if low <= code <= high:
            counted_days.append(day)
            counts["treatment_contacts"] += 1
            counts["attended_contacts"] += code in ATTENDED_CODES
            counts["dna_contacts"] += code == DNA_CODE
    attended_days.sort()
    therapy, therapist_id = placed(courses, attended_by_course)

    firsts: dict[str, tuple[float, dt.datetime]] = {}
    lasts: dict[str, tuple[float, dt.datetime]] = {}
    n: dict[str, int] = defaultdict(int)
    series: dict[str, list[tuple[dt.datetime, float]]] = defaultdict(list)
    for instrument, total, at in scores:
        if instrument not in MEASURES or total is None:
            continue
        n[instrument] += 1
        series[instrument].append((at, total))
        firsts.setdefault(instrument, (total, at))
        lasts[instrument] = (total, at)
    outcome = outcome_of({m: [(at, total) for at, total in series[m]] for m in MEASURES})

    first_treatment = attended_days[0] if attended_days else None
    row: dict[str, Any] = {
        "referral_id": pk, "therapy": therapy, "therapist_id": therapist_id, "courses": len(courses),
        "stepped_up": core_service.stepped_up([_step(c[1]) for c in courses]),
        "received_on": received_on, "ended_on": ended_on, "end_code": _end_code(end_reason),
        "attended_treatment": len(attended_days), "first_treatment_on": first_treatment,
        "second_treatment_on": attended_days[1] if len(attended_days) > 1 else None,
        "wait_days": (first_treatment - received_on).days if first_treatment else None,
        **counts,
        "first_contact_on": min(counted_days, default=None), "last_contact_on": max(counted_days, default=None),
        "finished": ended_on is not None and len(attended_days) >= MIN_TREATMENT,
        "anxiety_measure": ANXIETY_MEASURE, "paired": outcome.paired,
        **{flag: getattr(outcome, flag) for flag in OUTCOME_FLAGS},
    }
    for measure, prefix in ((DEPRESSION_MEASURE, "phq9"), (ANXIETY_MEASURE, "anxiety")):
        first, last = firsts.get(measure), lasts.get(measure)
        row.update({f"{prefix}_n": n[measure], f"{prefix}_first": first[0] if first else None,
                    f"{prefix}_first_at": first[1] if first else None, f"{prefix}_last": last[0] if last else None,
                    f"{prefix}_last_at": last[1] if last else None})
    return row


# --- reading and writing ------------------------------------------------------------------------


class _Models:
    """The models summaries read and write: the live ones, or a migration's historical ones."""

    def __init__(self, apps: Any) -> None:
        self.Referral = apps.get_model("referrals", "Referral")
        self.Course = apps.get_model("courses", "Course")
        self.TherapySession = apps.get_model("courses", "TherapySession")
        self.Measurement = apps.get_model("assessments", "Measurement")
        self.ReferralSummary = apps.get_model("outcomes", "ReferralSummary")
        self.fields = [f.attname for f in self.ReferralSummary._meta.concrete_fields if f.attname not in ("id", "referral_id")]


def _read(m: _Models, referral_ids: Sequence[int], *, lock: bool = False) -> Iterator[dict[str, Any]]:
    """The summaries of ``referral_ids`` (four queries whatever their number)."""
    referrals = m.Referral.objects.filter(pk__in=referral_ids)
    if lock:  # two writes to one referral at once: the second refreshes after the first commits
        referrals = referrals.select_for_update()
    rows = list(referrals.order_by("pk").values_list("pk", "received_on", "ended_on", "end_reason"))
    if not rows:
        return
    courses: dict[int, list[CourseRow]] = defaultdict(list)
    for referral_id, *course in (m.Course.objects.filter(referral_id__in=referral_ids)
                                 .order_by("referral_id", "started_on", "pk")
                                 .values_list("referral_id", "pk", "protocol", "therapist_id")):
        courses[referral_id].append(tuple(course))  # type: ignore[arg-type]
    contacts: dict[int, list[ContactRow]] = defaultdict(list)
    for referral_id, *contact in (m.TherapySession.objects.filter(referral_id__in=referral_ids, attendance__isnull=False)
                                  .order_by("referral_id", "scheduled_at", "pk")
                                  .values_list("referral_id", "course_id", "scheduled_at", "attendance", "treatment")):
        contacts[referral_id].append(tuple(contact))  # type: ignore[arg-type]
    scores: dict[int, list[ScoreRow]] = defaultdict(list)
    for referral_id, *score in (m.Measurement.objects.filter(referral_id__in=referral_ids, instrument__in=MEASURES,
                                                             total__isnull=False)
                                .order_by("referral_id", "recorded_at", "pk")
                                .values_list("referral_id", "instrument", "total", "recorded_at")):
        scores[referral_id].append(tuple(score))  # type: ignore[arg-type]
    for row in rows:
        yield summarise(row, courses[row[0]], contacts[row[0]], scores[row[0]])


def _write(m: _Models, rows: Iterable[dict[str, Any]]) -> int:
    now = timezone.now()
    objects = [m.ReferralSummary(refreshed_at=now, **{k: v for k, v in row.items() if k in m.fields or k == "referral_id"})
               for row in rows]
    if objects:
        m.ReferralSummary.objects.bulk_create(objects, update_conflicts=True, unique_fields=["referral"],
                                              update_fields=m.fields)
    return len(objects)


class _Statements:
    """The SQL of :func:`refresh`, built once per database from the live models' tables and
    columns (quoted by the backend): one referral costs five short statements and no ORM query
    compilation, which cost more than the queries themselves (as for the caseload,
    docs/performance.md). ``rebuild`` reads through the ORM, so the hypothesis test that holds
    refreshed summaries equal to a rebuild also holds these statements to the ORM's reading."""

    def __init__(self, connection: Any) -> None:
        from interpersonal.web.assessments.models import Measurement
        from interpersonal.web.courses.models import Course, TherapySession
        from interpersonal.web.outcomes.models import ReferralSummary
        from interpersonal.web.referrals.models import Referral

        q = connection.ops.quote_name

        def cols(model: Any, *names: str) -> str:
            return ", ".join(q(model._meta.get_field(n).column) for n in names)

        def table(model: Any) -> str:
            return q(model._meta.db_table)

        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        self.referral = (f"SELECT {cols(Referral, 'id', 'received_on', 'ended_on', 'end_reason')} FROM {table(Referral)} "  # noqa: S608 - quoted names from the models; values are parameters
                         f"WHERE {cols(Referral, 'id')} = %s{lock}")
        self.courses = (f"SELECT {cols(Course, 'id', 'protocol', 'therapist')} FROM {table(Course)} "  # noqa: S608 - quoted names from the models; values are parameters
                        f"WHERE {cols(Course, 'referral')} = %s ORDER BY {cols(Course, 'started_on', 'id')}")
        self.contacts = (f"SELECT {cols(TherapySession, 'course', 'scheduled_at', 'attendance', 'treatment')} "  # noqa: S608 - quoted names from the models; values are parameters
                         f"FROM {table(TherapySession)} WHERE {cols(TherapySession, 'referral')} = %s "
                         f"AND {cols(TherapySession, 'attendance')} IS NOT NULL "
                         f"AND {cols(TherapySession, 'entered_in_error_at')} IS NULL "
                         f"ORDER BY {cols(TherapySession, 'scheduled_at', 'id')}")
        self.scores = (f"SELECT {cols(Measurement, 'instrument', 'total', 'recorded_at')} FROM {table(Measurement)} "  # noqa: S608 - quoted names from the models; values are parameters
                       f"WHERE {cols(Measurement, 'referral')} = %s AND {cols(Measurement, 'instrument')} IN "
                       f"({', '.join(['%s'] * len(MEASURES))}) AND {cols(Measurement, 'total')} IS NOT NULL "
                       f"AND {cols(Measurement, 'entered_in_error_at')} IS NULL "
                       f"ORDER BY {cols(Measurement, 'recorded_at', 'id')}")
        self.fields = [f for f in ReferralSummary._meta.concrete_fields if f.attname != "id"]
        # How each value is adapted for the database: dates and times as the ORM does; numbers,
        # text and booleans as they are.
        self.adapt = [connection.ops.adapt_datetimefield_value if isinstance(f, models.DateTimeField)
                      else connection.ops.adapt_datefield_value if isinstance(f, models.DateField) else None
                      for f in self.fields]
        names = [q(f.column) for f in self.fields]
        key = q(ReferralSummary._meta.get_field("referral").column)
        self.upsert = (f"INSERT INTO {table(ReferralSummary)} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))}) "  # noqa: S608 - quoted names from the models; values are parameters
                       f"ON CONFLICT ({key}) DO UPDATE SET "
                       + ", ".join(f"{n} = excluded.{n}" for n in names if n != key))
        self.delete = f"DELETE FROM {table(ReferralSummary)} WHERE {key} = %s"  # noqa: S608 - quoted names from the models; values are parameters


_STATEMENTS: dict[str, _Statements] = {}


def _aware(moment: dt.datetime) -> dt.datetime:
    """A timestamp read without the ORM: SQLite's are naive UTC (as Django stores them)."""
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=dt.UTC)


_deferring = threading.local()


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Refresh each referral once, as this block's last step, however many actions inside it
    changed it: recording a session with its PHQ-9 and GAD-7 is three actions and one summary.
    Use inside the transaction the actions share (the summary is then written in it, from what
    they wrote); if the block raises, nothing is refreshed and the transaction rolls back."""
    outer = getattr(_deferring, "ids", None)
    if outer is not None:  # nested: the outermost block refreshes
        yield
        return
    _deferring.ids = ids = {}
    try:
        yield
    finally:
        _deferring.ids = None
    for referral_id in ids:
        refresh(referral_id)


def refresh(referral_id: int) -> None:
    """Recompute one referral's summary in the caller's transaction (the last step of every action
    that changes what it reads), under a lock on the referral row so that two writes to one
    referral at once refresh one after the other; a referral that no longer exists loses its summary.
    Inside :func:`deferred`, once at the end of that block instead."""
    from django.db import connection

    waiting = getattr(_deferring, "ids", None)
    if waiting is not None:
        waiting[referral_id] = None  # a dict: refreshed in the order first changed
        return
    sql = _STATEMENTS.get(connection.alias)
    if sql is None:
        sql = _STATEMENTS[connection.alias] = _Statements(connection)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql.referral, [referral_id])
        referral = cursor.fetchone()
        if referral is None:
            cursor.execute(sql.delete, [referral_id])
            return
        cursor.execute(sql.courses, [referral_id])
        courses = cursor.fetchall()
        cursor.execute(sql.contacts, [referral_id])
        contacts = [(course, _aware(at), code, bool(treatment)) for course, at, code, treatment in cursor.fetchall()]
        cursor.execute(sql.scores, [referral_id, *MEASURES])
        scores = [(instrument, total, _aware(at)) for instrument, total, at in cursor.fetchall()]
        row = summarise(tuple(referral), courses, contacts, scores)  # type: ignore[arg-type]
        row["refreshed_at"] = timezone.now()
        cursor.execute(sql.upsert, [row[f.attname] if adapt is None or row[f.attname] is None else adapt(row[f.attname])
                                    for f, adapt in zip(sql.fields, sql.adapt, strict=True)])


def rebuild(*, batch: int = 2000, apps: Any = live_apps, progress: Any = None) -> int:
    """Every referral's summary again, ``batch`` referrals per transaction; summaries of referrals
    that no longer exist are deleted. The number written. ``progress(done)`` after each batch."""
    m = _Models(apps)
    m.ReferralSummary.objects.exclude(referral_id__in=m.Referral.objects.values("pk")).delete()
    ids = list(m.Referral.objects.order_by("pk").values_list("pk", flat=True))
    done = 0
    for start in range(0, len(ids), batch):
        with transaction.atomic():
            done += _write(m, _read(m, ids[start:start + batch], lock=True))
        if progress is not None:
            progress(done)
    return done
