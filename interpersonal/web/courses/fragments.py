"""The course page's repeated parts (chart tables, sessions, phase tasks) built in Python.

Django template nodes and filters cost microseconds each; these loops ran hundreds of them
per page. Each function returns the markup its template loop gave, every value escaped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.html import conditional_escape as esc
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from interpersonal.core import protocols
from interpersonal.core.codes import Attendance
from interpersonal.core.outcomes import CourseOutcome
from interpersonal.web.assessments.charts import Change, Point
from interpersonal.web.assessments.models import Measurement
from interpersonal.web.courses.summary import SessionRow

PRORATED = ' <span class="muted">(prorated)</span>'
ALERT_CLASS = ' class="row--alert"'
RISK_YES = '<strong class="risk-text">▲ Yes</strong>'


def risk_unanswered_text(items: Iterable[str]) -> str:
    """Markup for risk items left unanswered: unknown risk, to be asked about (escaped)."""
    ids = list(items)
    if not ids:
        return ""
    which = esc(", ".join(ids))
    return (f'<strong class="risk-text">△ Item{"s" if len(ids) > 1 else ""} {which} not answered: '
            f'ask about {"them" if len(ids) > 1 else "it"}</strong>')


def score_cell(total: Any, point: Point | None) -> SafeString:
    """A total for the score tables, with any unanswered risk item beside it."""
    text = esc(one_decimal(total)) if total is not None else ""
    if point is not None and point.risk_unanswered:
        text = f"{text} {risk_unanswered_text(point.risk_unanswered)}"
    return mark_safe(text)  # noqa: S308 - escaped above


def one_decimal(value: Any) -> str:
    """``|floatformat:"-1"``: whole numbers without decimals (the common case, done here), else
    Django's filter."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**15:
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return floatformat(value, "-1")


def form_fields(form: Any, key: Any) -> SafeString:
    """Each field of a form through ``includes/field.html``. An unbound form's markup does
    not change between requests (no request state in it), so it is rendered once per key
    and language."""
    if form.is_bound:
        return render_to_string("courses/_fields.html", {"form": form})
    cache_key = (type(form), key, get_language(), protocols.generation())  # choices come from the catalogue
    html = _FORM_HTML.get(cache_key)
    if html is None:
        html = _FORM_HTML[cache_key] = mark_safe(render_to_string("courses/_fields.html", {"form": form}))  # noqa: S308
    return html


_FORM_HTML: dict[Any, SafeString] = {}


def _local(value: dt.datetime) -> dt.datetime:
    """What the ``date`` filter formats: an aware datetime in the current time zone."""
    return timezone.localtime(value) if isinstance(value, dt.datetime) and timezone.is_aware(value) else value


def day_month_year(value: dt.date) -> str:
    """``|date:"j M Y"``."""
    return f"{value.day} {MONTHS_3[value.month].title()} {value.year}"


def day_month(value: dt.date) -> str:
    """``|date:"j M"``."""
    return f"{value.day} {MONTHS_3[value.month].title()}"


def _safe(parts: Iterable[str]) -> SafeString:
    return mark_safe("".join(parts))  # noqa: S308 - callers escape every value


CORRECTED = ' <span class="badge badge--corrected">Corrected</span>'


def correction_cell(version: int, url: str | None, what: str) -> str:
    """The last cell of a session's or a measure's row: a "Corrected" marker once corrected
    (the history is in the course page's Corrections section) and, for the course's therapist,
    the link to correct it or delete it as entered in error."""
    marker = CORRECTED if version > 1 else ""
    link = (f' <a href="{esc(url)}" class="correct-link">Correct or delete<span class="visually-hidden"> {esc(what)}'
            f"</span></a>") if url else ""
    return f'<td data-label="Corrections">{marker}{link}</td>'


def chart_rows(rows: list[tuple[Point, Measurement]], correct_url: Callable[[int], str] | None = None) -> SafeString:
    """A progress chart's table rows: session, date, total, severity, risk, corrections."""
    out = []
    for point, m in rows:
        total = "not scored" if m.total is None else f"{one_decimal(m.total)}{PRORATED if m.prorated else ''}"
        out.append(
            f"\n      <tr{ALERT_CLASS if point.risk or point.risk_unanswered else ''}><th scope=\"row\">"
            f"{esc(point.x) if point.x else 'Before'}</th><td>{esc(day_month_year(_local(m.recorded_at)))}</td>\n"
            f"        <td>{total}</td>\n"
            f"        <td>{esc(m.severity) if m.severity else '—'}</td><td>"
            f"{_risk_cell(point)}</td>"
            f"{correction_cell(m.version, correct_url(m.pk) if correct_url else None, f'{m.instrument} of {day_month_year(_local(m.recorded_at))}')}"
            f"</tr>\n    "
        )
    return _safe(out)


def _risk_cell(point: Point) -> str:
    cells = [RISK_YES] if point.risk else []
    if point.risk_unanswered:
        cells.append(risk_unanswered_text(point.risk_unanswered))
    return "<br>".join(cells) or "—"


def session_rows(rows: list[SessionRow], correct_url: Callable[[int], str] | None = None) -> SafeString:
    """The sessions table's rows, in date order (with the correction link for ``correct_url``)."""
    out = []
    for row in rows:
        s = row.session
        when = _local(s.scheduled_at)
        text = (f"{WEEKDAYS_ABBR[when.weekday()]} {when.day} {MONTHS_3[when.month].title()} {when.year}, "
                f"{when:%H:%M}")
        attendance = esc(s.get_attendance_display()) if s.attendance else '<span class="muted">Booked</span>'
        if not s.treatment:
            attendance += ' <span class="badge">Assessment: not treatment</span>'
        out.append(
            f"\n    <tr><th scope=\"row\">{esc(row.number) if row.number else '—'}</th>\n"
            f"      <td data-label=\"Date\"><time datetime=\"{esc(when.isoformat())}\">{esc(text)}</time></td>\n"
            f"      <td data-label=\"Attendance\">{attendance}</td>\n"
            f"      <td data-label=\"Medium\">{esc(s.get_medium_display())}</td>\n"
            f"      <td data-label=\"Minutes\">{esc(s.duration_minutes) if s.duration_minutes else '—'}</td>\n"
            f"      <td data-label=\"Home practice\">{esc(s.home_practice) if s.home_practice else '—'}</td>\n"
            f"      {correction_cell(s.version, correct_url(s.pk) if correct_url else None, f'session of {text}')}</tr>\n  "
        )
    return _safe(out)


def task_items(tasks: list[tuple[Any, Any]], *, may_write: bool, action: str, csrf_input: str) -> SafeString:
    """A phase's task list items: a toggle form each for the course's therapist, else read only."""
    out = []
    for t, done in tasks:
        label = esc(t.label)
        tick = "✓" if done else ""
        if may_write:
            body = (
                f"\n        <form method=\"post\" action=\"{esc(action)}\" class=\"inline-form\">{csrf_input}\n"
                f"          <input type=\"hidden\" name=\"task\" value=\"{esc(t.id)}\"><input type=\"hidden\" "
                f"name=\"done\" value=\"{'0' if done else '1'}\">\n"
                f"          <button type=\"submit\" class=\"task__toggle\" aria-pressed=\"{'true' if done else 'false'}\">"
                f"<span class=\"task__box\" aria-hidden=\"true\">{tick}</span> {label}</button>\n"
                f"        </form>\n        "
            )
        else:
            body = (
                f"\n        <span class=\"task__box\" aria-hidden=\"true\">{tick}</span> {label}"
                f"<span class=\"visually-hidden\">{' (done)' if done else ' (not done)'}</span>\n        "
            )
        completed = (f"<span class=\"muted\">done {esc(day_month(_local(done.completed_on)))}</span>"
                     if done else "")
        out.append(
            f"\n      <li class=\"task{' task--done' if done else ''}\">\n        {body}\n        {completed}\n      </li>\n    "
        )
    return _safe(out)


# -- the one-line summaries of the course page's collapsed sections ---------------------------

SHORT_ATTENDANCE = {
    Attendance.CANCELLED_BY_PATIENT: "cancelled by the patient",
    Attendance.DID_NOT_ATTEND: "did not attend",
    Attendance.CANCELLED_BY_PROVIDER: "cancelled by the service",
    Attendance.ATTENDED_ON_TIME: "attended",
    Attendance.ATTENDED_LATE: "attended late",
    Attendance.ARRIVED_LATE_NOT_SEEN: "arrived late, not seen",
}
"""The attendance codes (core.codes.Attendance) in a few words, for a summary line; the sessions
table gives each code's full NHS wording."""


def sessions_line(rows: list[SessionRow]) -> str:
    """"12 sessions — last 3 Dec 2026, attended; next booked 10 Dec 2026"."""
    if not rows:
        return "No sessions yet"
    now = timezone.now()
    held = [r.session for r in rows if r.session.attendance is not None]
    booked = [r.session for r in rows if r.session.attendance is None and r.session.scheduled_at >= now]
    parts = [f"{len(rows)} session{'s' if len(rows) != 1 else ''}"]
    if held:
        last = held[-1]
        parts.append(f" — last {day_month_year(_local(last.scheduled_at))}, "
                     f"{SHORT_ATTENDANCE.get(Attendance(last.attendance), '')}")
    if booked:
        parts.append(f"{';' if held else ' —'} next booked {day_month_year(_local(booked[0].scheduled_at))}")
    return "".join(parts)


def tasks_line(phases: list[dict[str, Any]]) -> str:
    """"Middle phase (now): 2 of 4 tasks done; 5 of 12 in all"."""
    done = sum(1 for p in phases for _t, d in p["tasks"] if d)
    total = sum(len(p["tasks"]) for p in phases)
    if not total:
        return "No phase tasks in this protocol"
    current = next((p for p in phases if p["current"]), None)
    overall = f"{done} of {total} tasks done"
    if current is None:
        return overall
    now_done = sum(1 for _t, d in current["tasks"] if d)
    return f"{current['phase'].name} (now): {now_done} of {len(current['tasks'])} done; {overall} in all"


def outcome_line(outcome: CourseOutcome, changes: list[tuple[Any, Change | None]]) -> str:
    """"PHQ-9 18 → 9, GAD-7 15 → 8, WSAS 10 → 23 (▲ reliable deterioration); reliable improvement,
    recovered". A single score is one score, never "17 → 17"."""
    scores = []
    for instrument, change in changes:
        if change is None:
            continue
        text = f"{instrument.abbreviation} {one_decimal(change.first.total)}"
        if change.paired:
            text += f" → {one_decimal(change.last.total)}"
            if change.reliable == "deteriorated":
                text += " (▲ reliable deterioration)"
            elif change.reliable == "improved":
                text += " (▼ reliable improvement)"
        scores.append(text)
    if not scores:
        return "No scores yet"
    line = ", ".join(scores)
    if not outcome.paired:
        return f"{line}; recovery needs a first and a later PHQ-9 and GAD-7"
    verdicts = ["reliable improvement" if outcome.reliable_improvement else "no reliable improvement"]
    if outcome.reliable_deterioration:
        verdicts.append("reliable deterioration")
    if outcome.caseness_at_start:
        verdicts.append("recovered" if outcome.recovered else "not recovered")
    return f"{line}; {', '.join(verdicts)}"
