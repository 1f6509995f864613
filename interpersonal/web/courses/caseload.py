"""The caseload dashboard's rows: one query for any number of courses.

Attended count, open alerts, the last two PHQ-9 and GAD-7 totals (and the answers of the
last, for its unanswered risk items) and the next booked session are correlated subqueries
annotated on the course queryset (no per-row queries); phase and trend are worked out in
Python from those values. An ended course is listed only while it has an open risk alert
(courses.access.caseload_for).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.html import conditional_escape as esc
from django.utils.safestring import SafeString, mark_safe

from interpersonal.core import measures, protocols
from interpersonal.core.codes import EndReason
from interpersonal.web.accounts.models import User
from interpersonal.web.assessments.charts import BAND_COLOURS, band_colours
from interpersonal.web.assessments.models import LeftOpen, Measurement, RiskAlert, unanswered_risk
from interpersonal.web.courses.fragments import one_decimal, risk_unanswered_text
from interpersonal.web.courses.models import ATTENDED, Course, TherapySession
from interpersonal.web.patients.models import Patient
from interpersonal.web.referrals.models import Referral

TREND_MEASURES = ("phq9", "gad7")


def _count(qs: QuerySet[Any]) -> Coalesce:
    counted = qs.order_by().values("course").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _total(instrument: str, offset: int) -> Subquery:
    totals = (Measurement.objects.filter(course=OuterRef("pk"), instrument=instrument, total__isnull=False)
              .order_by("-recorded_at", "-id").values("total")[offset:offset + 1])
    return Subquery(totals)


def annotate(courses: QuerySet[Course]) -> QuerySet[Course]:
    now = timezone.now()
    extra: dict[str, Any] = {
        "attended_count": _count(TherapySession.objects.filter(course=OuterRef("pk"), attendance__in=ATTENDED)),
        "open_alerts": _count(RiskAlert.objects.filter(course=OuterRef("pk"), acknowledged_at__isnull=True)),
        "next_session": Subquery(
            TherapySession.objects.filter(course=OuterRef("pk"), attendance__isnull=True, scheduled_at__gte=now)
            .order_by("scheduled_at").values("scheduled_at")[:1]
        ),
    }
    for m in TREND_MEASURES:
        extra[f"{m}_last"] = _total(m, 0)
        extra[f"{m}_previous"] = _total(m, 1)
    return (courses.select_related("patient", "therapist").annotate(**extra)
            .order_by(F("open_alerts").desc(), F("next_session").asc(nulls_last=True), "patient__family_name", "pk"))


@dataclass(frozen=True, slots=True)
class Trend:
    last: float | None
    previous: float | None
    risk_unanswered: tuple[str, ...] = ()
    """Risk items left unanswered in the measure that gave ``last``."""

    @property
    def arrow(self) -> str:
        if self.last is None or self.previous is None:
            return ""
        return "↑" if self.last > self.previous else "↓" if self.last < self.previous else "→"

    @property
    def words(self) -> str:
        """Every shipped trend measure is higher-is-worse."""
        if self.last is None or self.previous is None:
            return "no earlier score"
        if self.last == self.previous:
            return "same as the previous score"
        direction = "worse" if self.last > self.previous else "better"
        return f"{direction}: {abs(self.last - self.previous):g} points since the previous score"


@dataclass(frozen=True, slots=True)
class CaseloadRow:
    course_id: int
    protocol: str
    family_name: str
    given_name: str
    local_id: str
    therapist_name: str
    attended: int
    planned: int | None
    phase: protocols.Phase | None
    open_alerts: int
    next_session: dt.datetime | None
    trends: dict[str, Trend]
    ended_on: dt.date | None = field(default=None)
    """Set for an ended course, listed because a risk alert of it is still open."""
    stepped_up: bool = False
    """The course ended by stepping up."""
    left_open: LeftOpen | None = None
    """Why its open alerts were left open when it ended (the latest recorded decision)."""
    referral_status: str = ""
    """The status of the referral the course is a step of (Referral.Status)."""
    step: int | None = None
    """The protocol's NHS Talking Therapies step."""

    @property
    def session_label(self) -> str:
        if self.ended_on is not None:
            return "Course ended"
        upcoming = self.attended + 1
        if self.planned is None:
            return f"{upcoming}"
        return f"{min(upcoming, self.planned)} of {self.planned}"


def _q(connection: Any, model: Any, field: str | None = None) -> str:
    if field is None:
        return connection.ops.quote_name(model._meta.db_table)
    return connection.ops.quote_name(model._meta.get_field(field).column)


def _rows_sql(connection: Any, base: str) -> str:
    """The same columns as :func:`annotate`, as one SELECT of plain correlated subqueries.

    Written out rather than built with the ORM: compiling seven subquery expressions cost
    several times what the query itself does. Portable SQL (SQLite and PostgreSQL)."""
    q = connection.ops.quote_name
    course, patient, user = _q(connection, Course), _q(connection, Patient), _q(connection, User)
    session, alert, measurement = _q(connection, TherapySession), _q(connection, RiskAlert), _q(connection, Measurement)
    sc = {f: _q(connection, TherapySession, f) for f in ("course", "attendance", "scheduled_at", "entered_in_error_at")}
    mc = {f: _q(connection, Measurement, f) for f in ("course", "instrument", "total", "recorded_at", "id",
                                                      "entered_in_error_at")}
    attended = ", ".join(["%s"] * len(ATTENDED))
    totals = ",\n".join(
        f"(SELECT m.{mc['total']} FROM {measurement} m WHERE m.{mc['course']} = c.{q('id')} AND m.{mc['instrument']} = %s"  # noqa: S608
        f" AND m.{mc['total']} IS NOT NULL AND m.{mc['entered_in_error_at']} IS NULL"
        f" ORDER BY m.{mc['recorded_at']} DESC, m.{mc['id']} DESC LIMIT 1 OFFSET {offset})"
        for _ in TREND_MEASURES for offset in (0, 1)
    )
    answers = ",\n".join(
        f"(SELECT m.{_q(connection, Measurement, 'answers')} FROM {measurement} m WHERE m.{mc['course']} = c.{q('id')}"  # noqa: S608
        f" AND m.{mc['instrument']} = %s AND m.{mc['total']} IS NOT NULL AND m.{mc['entered_in_error_at']} IS NULL"
        f" ORDER BY m.{mc['recorded_at']} DESC, m.{mc['id']} DESC LIMIT 1)"
        for _ in TREND_MEASURES
    )
    return (  # identifiers from the models' metadata; every value is a parameter
        f"SELECT c.{q('id')}, c.{_q(connection, Course, 'protocol')}, c.{_q(connection, Course, 'planned_sessions')}, "  # noqa: S608
        f"p.{_q(connection, Patient, 'family_name')}, p.{_q(connection, Patient, 'given_name')}, "
        f"p.{_q(connection, Patient, 'local_id')}, t.{_q(connection, User, 'username')}, "
        f"t.{_q(connection, User, 'first_name')}, t.{_q(connection, User, 'last_name')}, "
        f"c.{_q(connection, Course, 'status')}, c.{_q(connection, Course, 'ended_on')}, "
        f"c.{_q(connection, Course, 'end_reason')}, r.{_q(connection, Referral, 'status')},\n"
        f"(SELECT COUNT(*) FROM {session} s WHERE s.{sc['course']} = c.{q('id')} AND s.{sc['attendance']} IN ({attended})"
        f" AND s.{sc['entered_in_error_at']} IS NULL),\n"
        f"(SELECT COUNT(*) FROM {alert} a WHERE a.{_q(connection, RiskAlert, 'course')} = c.{q('id')}"
        f" AND a.{_q(connection, RiskAlert, 'acknowledged_at')} IS NULL) AS open_alerts,\n"
        f"(SELECT a.{_q(connection, RiskAlert, 'left_open_reason')} FROM {alert} a"
        f" WHERE a.{_q(connection, RiskAlert, 'course')} = c.{q('id')} AND a.{_q(connection, RiskAlert, 'acknowledged_at')} IS NULL"
        f" AND a.{_q(connection, RiskAlert, 'left_open_reason')} <> ''"
        f" ORDER BY a.{_q(connection, RiskAlert, 'left_open_at')} DESC, a.{q('id')} DESC LIMIT 1),\n"
        f"(SELECT s.{sc['scheduled_at']} FROM {session} s WHERE s.{sc['course']} = c.{q('id')} AND s.{sc['attendance']} IS NULL"
        f" AND s.{sc['entered_in_error_at']} IS NULL AND s.{sc['scheduled_at']} >= %s ORDER BY s.{sc['scheduled_at']} LIMIT 1) AS next_session,\n"
        f"{totals},\n{answers}\n"
        f"FROM {course} c INNER JOIN {patient} p ON p.{q('id')} = c.{_q(connection, Course, 'patient')}"
        f" INNER JOIN {user} t ON t.{q('id')} = c.{_q(connection, Course, 'therapist')}"
        f" INNER JOIN {_q(connection, Referral)} r ON r.{q('id')} = c.{_q(connection, Course, 'referral')}\n"
        f"WHERE c.{q('id')} IN ({base})\n"
        f"ORDER BY open_alerts DESC, next_session ASC NULLS LAST, p.{_q(connection, Patient, 'family_name')} ASC, c.{q('id')} ASC"
    )


def _datetime(value: Any) -> dt.datetime | None:
    """A fetched DateTimeField value as the ORM gives it (SQLite returns text, in UTC)."""
    if value is None:
        return None
    parsed = value if isinstance(value, dt.datetime) else parse_datetime(value)
    if parsed is not None and settings.USE_TZ and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt.UTC)
    return parsed


def _date(value: Any) -> dt.date | None:
    """A fetched DateField value (SQLite returns text)."""
    if value is None or isinstance(value, dt.date):
        return value
    return parse_date(value)


def _unanswered_risk(instrument_id: str, answers: Any) -> tuple[str, ...]:
    """The risk items missing from fetched answers (JSON text on SQLite, decoded on PostgreSQL)."""
    if isinstance(answers, str | bytes):
        answers = json.loads(answers)
    return unanswered_risk(instrument_id, answers) if isinstance(answers, dict) else ()


def _left_open(code: str | None) -> LeftOpen | None:
    try:
        return LeftOpen(code) if code else None
    except ValueError:
        return None


def rows(courses: QuerySet[Course]) -> list[CaseloadRow]:
    """The caseload rows of ``courses`` in one query, open alerts first, then the next session."""
    connection = connections[courses.db]
    try:
        base, base_params = courses.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        return []
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = [*ATTENDED, now, *(m for m in TREND_MEASURES for _ in (0, 1)), *TREND_MEASURES, *base_params]
    with connection.cursor() as cursor:
        cursor.execute(_rows_sql(connection, base), params)
        fetched = cursor.fetchall()
    out = []
    n_totals = 2 * len(TREND_MEASURES)
    for (pk, protocol, planned, family, given, local_id, username, first, last, status, ended_on, end_reason,
         referral_status, attended, open_alerts, left_open, next_session, *values) in fetched:
        totals, last_answers = values[:n_totals], values[n_totals:]
        try:
            definition = protocols.get(protocol)
        except protocols.UnknownProtocol:
            definition = None
        try:
            phase = definition.phase_for(attended, planned) if definition is not None else None
        except protocols.ProtocolError:
            phase = None
        trends = {m: Trend(totals[2 * n], totals[2 * n + 1], _unanswered_risk(m, last_answers[n]))
                  for n, m in enumerate(TREND_MEASURES)}
        out.append(CaseloadRow(
            course_id=pk, protocol=protocol, family_name=family, given_name=given, local_id=local_id,
            therapist_name=f"{first} {last}".strip() or username, attended=attended, planned=planned, phase=phase,
            open_alerts=open_alerts, next_session=_datetime(next_session), trends=trends,
            ended_on=_date(ended_on) if status != Course.Status.ACTIVE else None,
            stepped_up=end_reason == EndReason.STEPPED_UP.value, left_open=_left_open(left_open),
            referral_status=referral_status, step=definition.step if definition is not None else None,
        ))
    return out


# -- rendering ------------------------------------------------------------------------------
# The table body is built here rather than with template tags: 40 rows × ~25 template nodes
# and filters were most of the page's cost. The markup is what ``_caseload_table.html`` gave.

TREND_LABELS = {"phq9": "PHQ-9", "gad7": "GAD-7"}
_PK = 987654321


def _when(value: dt.datetime) -> tuple[str, str]:
    """``|date:'c'`` and ``|date:"D j M, H:i"`` of an aware datetime, in the current time zone."""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return local.isoformat(), f"{WEEKDAYS_ABBR[local.weekday()]} {local.day} {MONTHS_3[local.month].title()}, {local:%H:%M}"


def _band(key: str, total: float) -> tuple[str, str]:
    """(CSS class, band label) of a total: the chart's fill for its severity band
    (assessments.charts.band_colours, ``.band-N`` in site.css), so a score reads the same
    colour on the caseload as on the chart; the label is always written beside it."""
    try:
        instrument = measures.get(key)
    except measures.UnknownInstrument:
        return "", ""
    label = instrument.severity(total)
    if label is None:
        return "", ""
    labels = [b.label for b in instrument.bands]
    fills = band_colours(len(labels))
    if instrument.direction == measures.Direction.HIGHER_IS_BETTER:
        fills.reverse()
    return f"band-{BAND_COLOURS.index(fills[labels.index(label)])}", label


def _trend_cell(key: str, trend: Trend) -> str:
    label = TREND_LABELS.get(key, "GAD-7")  # as the template had it: anything but PHQ-9 read GAD-7
    if trend.last is None:
        return f'\n    <td data-label="{label}">—</td>\n    '
    words = esc(trend.words)
    unanswered = f"<br>{risk_unanswered_text(trend.risk_unanswered)}" if trend.risk_unanswered else ""
    band_class, band = _band(key, trend.last)
    band_text = f'<br><span class="score-band__label">{esc(band)}</span>' if band else ""
    return (f'\n    <td data-label="{label}"><span class="score-band {band_class}">{one_decimal(trend.last)}{band_text}</span>'
            f' <span class="trend" aria-hidden="true" '
            f'title="{words}">{esc(trend.arrow)}</span><span class="visually-hidden"> ({words})</span>{unanswered}</td>\n    ')


def _protocol_label(protocol_id: str) -> str:
    """The therapy's short name (DIT, IPT, ...); the id of a protocol withdrawn since."""
    try:
        return str(protocols.get(protocol_id).therapy).upper()
    except protocols.UnknownProtocol:
        return protocol_id


_STATUS = dict(Referral.Status.choices)


def _referral_note(row: CaseloadRow) -> str:
    """"Step 3 · referral in treatment" under the protocol."""
    parts = [f"Step {row.step}"] if row.step else []
    if row.referral_status:
        parts.append(f"referral {_STATUS.get(row.referral_status, row.referral_status).lower()}")
    return f'<br><span class="muted">{esc(" · ".join(parts))}</span>' if parts else ""


def row_html(row: CaseloadRow, detail_url: str, *, show_therapist: bool = False) -> str:
    alerts = row.open_alerts
    if alerts:
        badge = f'<br><span class="badge badge--risk">Risk: {alerts} open alert{"" if alerts == 1 else "s"}</span>'
    else:
        badge = ""
    if row.ended_on is not None:
        on = f"{row.ended_on.day} {MONTHS_3[row.ended_on.month].title()} {row.ended_on.year}"
        event = "was stepped up" if row.stepped_up else "ended"
        if row.left_open is not None:
            text = f"Left open when the course {event} on {on}: {row.left_open.summary}"
        else:
            text = f"Course {'stepped up' if row.stepped_up else 'ended'} {on}: acknowledge the open alert{'' if alerts == 1 else 's'}"
        badge += f'<br><span class="badge">{esc(text)}</span>'

    if row.next_session:
        iso, text = _when(row.next_session)
        nxt = f'<time datetime="{esc(iso)}">{esc(text)}</time>'
    else:
        nxt = '<span class="muted">none booked</span>'
    therapist = f'<td data-label="Therapist">{esc(row.therapist_name)}</td>' if show_therapist else ""
    phase = row.phase.name if row.phase is not None else ""
    alert_class = ' class="row--alert"' if alerts else ""
    return "".join((
        f'\n  <tr{alert_class}>\n    <th scope="row">\n'
        f'      <a href="{esc(detail_url.replace(str(_PK), str(row.course_id)))}">{esc(row.family_name)}, '
        f'{esc(row.given_name)}</a>\n      <span class="muted">{esc(row.local_id)}</span>\n      {badge}\n    </th>\n'
        f'    <td data-label="Protocol">{esc(_protocol_label(row.protocol))}{_referral_note(row)}</td>\n'
        f'    <td data-label="Session">{esc(row.session_label)} <span class="muted">({row.attended} attended)</span></td>\n'
        f'    <td data-label="Phase">{esc(phase) if phase and row.ended_on is None else "—"}</td>\n    ',
        *(_trend_cell(k, t) for k, t in row.trends.items()),
        f'\n    <td data-label="Next session">{nxt}</td>\n    {therapist}\n  </tr>\n  ',
    ))


def rows_html(caseload: list[CaseloadRow], *, show_therapist: bool = False) -> SafeString:
    """The ``<tr>`` elements of the caseload table (every value escaped)."""
    detail_url = reverse("courses:detail", args=[_PK])
    return mark_safe("".join(row_html(r, detail_url, show_therapist=show_therapist) for r in caseload))  # noqa: S308


# -- allocated, not in a course ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AllocatedRow:
    """An open referral allocated to the clinician with no active course: the patient awaits
    screening and triage, waits for treatment, or is between steps."""

    referral: Referral
    triaged_to: str
    open_alerts: int

    @property
    def since_referral(self) -> str:
        """How long ago the referral was received: days for the first fortnight, then weeks."""
        days = (timezone.localdate() - self.referral.received_on).days
        if days < 14:
            return "today" if days == 0 else f"{days} day{'' if days == 1 else 's'} ago"
        return f"{days // 7} weeks ago"


def allocated_rows(referrals: QuerySet[Referral]) -> list[AllocatedRow]:
    """The rows of ``referrals`` in one query: open risk alerts first, then the longest wait."""
    from interpersonal.web.patients.pathway import triaged_to

    alerts = (RiskAlert.objects.filter(referral=OuterRef("pk"), acknowledged_at__isnull=True).order_by()
              .values("referral").annotate(n=Count("pk")).values("n"))
    found = (referrals.select_related("patient", "therapist")
             .annotate(open_alert_count=Coalesce(Subquery(alerts, output_field=IntegerField()), Value(0)))
             .order_by(F("open_alert_count").desc(), "received_on", "pk"))
    return [AllocatedRow(r, triaged_to(r), r.open_alert_count) for r in found]
