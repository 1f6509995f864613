"""Risk alerts as people read them: what each one is about, and which are still open.

An open alert stays in front of the clinicians responsible (the course's therapist and their
supervisor) until one of them acknowledges it, whatever happened to the course since.
Callers pass courses already filtered by courses.access.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
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


def describe_alert(alert: RiskAlert) -> AlertRow:
    """``alert`` in words. Reads ``alert.measurement``, and for an alert left open
    ``alert.course`` and ``alert.left_open_by`` (select them with the alert)."""
    left_open = left_open_text(alert)
    try:
        instrument = measures.get(alert.instrument)
    except measures.UnknownInstrument:
        return AlertRow(alert, alert.instrument, [f"Item {i}" for i in alert.items], False, left_open,
                        corrected_text(alert))
    labels = {r.item: r.label for r in instrument.risk}
    unanswered = set(alert.measurement.risk_unanswered) if alert.measurement is not None else set()
    lines = []
    for item in alert.items:
        if item in unanswered:
            lines.extend(unanswered_risk_prompts(instrument, [item]))
        else:
            lines.append(f"Item {item}: {labels.get(item, '')}".rstrip(": "))
    return AlertRow(alert, instrument.abbreviation, lines, bool(unanswered & set(alert.items)), left_open,
                    corrected_text(alert))


def open_alerts(courses: QuerySet[object]) -> list[AlertRow]:
    """The open alerts of ``courses`` (any state: active, ended, stepped up), oldest first."""
    found = (RiskAlert.objects.filter(course__in=courses, acknowledged_at__isnull=True)
             .select_related("measurement", "course", "left_open_by").order_by("raised_at", "id"))
    return [describe_alert(a) for a in found]
