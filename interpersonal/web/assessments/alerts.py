"""Risk alerts as people read them: what each one is about, and which are still open.

An open alert stays in front of the clinicians responsible (the course's therapist and their
supervisor) until one of them acknowledges it, whatever happened to the course since.
Callers pass courses already filtered by courses.access.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from interpersonal.core import measures
from interpersonal.core.codes import EndReason
from interpersonal.web.assessments.models import LeftOpen, RiskAlert


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def unanswered_risk_prompts(instrument: measures.Instrument, items: Iterable[str]) -> list[str]:
    """One sentence per unanswered risk item, telling the clinician to ask about it."""
    labels = {r.item: r.label for r in instrument.risk}
    return [
        f"{instrument.abbreviation} item {i} ({_lower_first(labels.get(i, 'risk item'))}) was not answered: "
        "ask about it at the next contact."
        for i in items
    ]


@dataclass(frozen=True, slots=True)
class AlertRow:
    alert: RiskAlert
    instrument: str
    """The instrument's abbreviation."""
    items: list[str]
    """What raised it, one line per risk item (answered at or above its threshold, or not answered)."""
    unanswered: bool
    """True when a risk item was left unanswered (the risk is unknown)."""
    left_open: str = ""
    """The recorded decision to leave it open when its course ended or stepped up (empty: none)."""
    corrected: str = ""
    """What became of the measure that raised it, if it was corrected since (empty: it was not)."""
    source: str = ""
    """Where it came from: "questionnaire link sent 3 Dec (answered by the patient at 21:14)",
    "session 4 (recorded by Sam Lee)", "screening on 1 Dec"."""
    source_url: str = ""
    """The page of that link list, session or screening (its own page checks who may open it)."""
    raised: str = ""
    """When it was raised, in the service's time: "3 Dec 2026 at 21:14"."""
    duration: str = ""
    """"open 3 days", or "acknowledged after 2 hours"."""

    @property
    def detail_url(self) -> str:
        return reverse("assessments:alert", args=[self.alert.pk])


def left_open_text(alert: RiskAlert) -> str:
    """The decision to leave ``alert`` open, as its clinicians read it: "Left open by Sam Lee
    when the course ended on 3 Dec 2026: supervisor to review with the therapist." Empty when
    it was not left open. Reads ``alert.course`` and ``alert.left_open_by`` (select them)."""
    if not alert.left_open_reason:
        return ""
    try:
        why = LeftOpen(alert.left_open_reason).summary
    except ValueError:
        why = "no reason recorded"
    course = alert.course
    when = course.ended_on or (timezone.localdate(alert.left_open_at) if alert.left_open_at else None)
    event = "was stepped up" if course.end_reason == EndReason.STEPPED_UP.value else "ended"
    on = f" on {when.day} {when:%b %Y}" if when else ""
    who = f" by {alert.left_open_by.display_name}" if alert.left_open_by is not None else ""
    return f"Left open{who} when the course {event}{on}: {why}."


def corrected_text(alert: RiskAlert) -> str:
    """The correction of the measure that raised ``alert``, as its clinicians read it: "Its
    measure was corrected on 3 Dec 2026: the corrected answers carry no risk. It stays open
    until a clinician acknowledges it." Empty when it was not corrected. Reads ``alert.measurement``."""
    if alert.measurement_corrected_at is None:
        return ""
    when = timezone.localtime(alert.measurement_corrected_at)
    on = f"on {when.day} {when:%b %Y}"
    m = alert.measurement
    if m is not None and m.entered_in_error_at is not None:
        text = f"Its measure was deleted as entered in error {on}."
    elif m is not None and not m.risk and not m.risk_unanswered:
        text = f"Its measure was corrected {on}: the corrected answers carry no risk."
    else:
        text = f"Its measure was corrected {on}."
    if alert.open:
        text += " The alert stays open until a clinician acknowledges it."
    return text


def _span(delta: dt.timedelta) -> str:
    """A duration as people say it: "12 minutes", "5 hours", "3 days" (rounded down, at least 1 minute)."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        n, unit = max(minutes, 1), "minute"
    elif minutes < 24 * 60:
        n, unit = minutes // 60, "hour"
    else:
        n, unit = minutes // (24 * 60), "day"
    return f"{n} {unit}{'' if n == 1 else 's'}"


def duration_text(alert: RiskAlert, now: dt.datetime | None = None) -> str:
    """How long ``alert`` has been open ("open 3 days"), or was ("acknowledged after 2 hours")."""
    if alert.acknowledged_at is not None:
        return f"acknowledged after {_span(alert.acknowledged_at - alert.raised_at)}"
    return f"open {_span((now or timezone.now()) - alert.raised_at)}"


def _day(value: dt.datetime) -> str:
    local = timezone.localtime(value)
    return f"{local.day} {local:%b}"


def _session_number(session: Any) -> int | None:
    """The session's number among its course's attended sessions (None if it was not attended)."""
    from interpersonal.web.courses.models import ATTENDED, TherapySession

    if session.course_id is None or session.attendance not in ATTENDED:
        return None
    return (TherapySession.objects.filter(course_id=session.course_id, attendance__in=ATTENDED)
            .filter(scheduled_at__lte=session.scheduled_at).count())


def source_of(alert: RiskAlert) -> tuple[str, str]:
    """(where ``alert`` came from, in words; the page that shows it). Reads the alert's
    measurement (with its session and recorder) and questionnaire link: select them."""
    m = alert.measurement
    link = alert.questionnaire_link or (m.questionnaire_link if m is not None else None)
    by = f" (recorded by {m.recorded_by.display_name})" if m is not None and m.recorded_by is not None else ""
    if link is not None:
        url = (reverse("questionnaires:list", args=[alert.course_id]) if alert.course_id is not None
               else reverse("screening:referral", args=[alert.referral_id]) + "#alerts")
        if m is not None:
            answered = f"answered by the patient at {timezone.localtime(m.recorded_at):%H:%M}"
            if _day(m.recorded_at) != _day(link.created_at):
                answered = f"answered by the patient on {_day(m.recorded_at)} at {timezone.localtime(m.recorded_at):%H:%M}"
        else:
            answered = (f"saved by the patient at {timezone.localtime(alert.raised_at):%H:%M}, "
                        "before they sent the questionnaire")
        where = " at screening" if alert.course_id is None else ""
        return f"questionnaire link sent {_day(link.created_at)}{where} ({answered})", url
    if alert.course_id is None:
        return f"screening on {_day(alert.raised_at)}{by}", reverse("screening:referral", args=[alert.referral_id]) + "#alerts"
    session = m.session if m is not None else None
    if session is not None:
        number = _session_number(session)
        what = f"session {number}" if number else f"the session of {_day(session.scheduled_at)}"
        return f"{what}{by}", reverse("courses:detail", args=[alert.course_id]) + "#sessions"
    return f"a measure recorded on {_day(alert.raised_at)}{by}", reverse("courses:detail", args=[alert.course_id]) + "#progress"


def _answer_line(instrument: measures.Instrument, item_id: str, value: Any, label: str) -> str:
    """"Item 9 'Thoughts that you would be better off dead…': 2 — More than half the days";
    for an instrument whose item text is licensed, only the number and the score."""
    item = next((i for i in instrument.items if i.id == item_id), None)
    if item is None or value is None:
        return f"Item {item_id}: {label}".rstrip(": ")
    if not instrument.licence.item_text or item.text is None:
        return f"Item {item_id} ({_lower_first(label)}): {value}" if label else f"Item {item_id}: {value}"
    option = next((o.label for o in item.options if o.value == value and o.label), None)
    answer = f"{value} — {option}" if option else f"{value}"
    return f"Item {item_id} ‘{item.text}’: {answer}"


def _answers(alert: RiskAlert) -> dict[str, Any]:
    """The answers that raised it: the measure's, or a patient's saved (unsent) ones."""
    if alert.measurement is not None:
        return dict(alert.measurement.answers or {})
    link = alert.questionnaire_link
    return dict((link.draft or {}).get(alert.instrument, {})) if link is not None else {}


def describe_alert(alert: RiskAlert, *, now: dt.datetime | None = None) -> AlertRow:
    """``alert`` in words: the answers, where it came from, when, how long open. Reads
    ``alert.measurement`` (its session and recorder) and ``alert.questionnaire_link``, and for
    an alert left open ``alert.course`` and ``alert.left_open_by`` (select them with the alert)."""
    left_open = left_open_text(alert)
    source, source_url = source_of(alert)
    local = timezone.localtime(alert.raised_at)
    when = {"source": source, "source_url": source_url, "raised": f"{local.day} {local:%b %Y} at {local:%H:%M}",
                "duration": duration_text(alert, now)}
    try:
        instrument = measures.get(alert.instrument)
    except measures.UnknownInstrument:
        return AlertRow(alert, alert.instrument, [f"Item {i}" for i in alert.items], False, left_open,
                        corrected_text(alert), **when)
    labels = {r.item: r.label for r in instrument.risk}
    unanswered = set(alert.measurement.risk_unanswered) if alert.measurement is not None else set()
    answers = _answers(alert)
    lines = []
    for item in alert.items:
        if item in unanswered:
            lines.extend(unanswered_risk_prompts(instrument, [item]))
        else:
            lines.append(_answer_line(instrument, item, answers.get(item), labels.get(item, "")))
    return AlertRow(alert, instrument.abbreviation, lines, bool(unanswered & set(alert.items)), left_open,
                    corrected_text(alert), **when)


ALERT_RELATED = ("measurement__session", "measurement__recorded_by", "measurement__questionnaire_link",
                 "questionnaire_link")
"""What :func:`describe_alert` reads: select it with the alerts."""


def open_alerts(courses: QuerySet[object]) -> list[AlertRow]:
    """The open alerts of ``courses`` (any state: active, ended, stepped up), oldest first."""
    found = (RiskAlert.objects.filter(course__in=courses, acknowledged_at__isnull=True)
             .select_related(*ALERT_RELATED, "course", "left_open_by").order_by("raised_at", "id"))
    return [describe_alert(a) for a in found]
