"""The patient page's read model: each referral as a pathway (docs/adr/0009).

One referral is one episode of care (DOMAIN.md §6): received, screened and assessed, triaged to
a step and therapy, treated in one or more courses (step 2 stepped up to step 3 stays in the
same referral), discharged with one NHS end code. :func:`pathways` builds every referral of an
already-authorised patient (the caller used patients.access) in a fixed number of queries:
referrals, courses, screening scores, assessment contacts and open risk alerts, one each.

Courses another clinician delivers (a step the reader does not hold) are listed — the step is
part of the patient's pathway — but not linked: their content stays behind courses.access.
Every open risk alert of the referral is listed, whatever its course, and alerts raised at
screening (no course) too: risk is never hidden from a clinician of the patient.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from interpersonal.core import measures, protocols
from interpersonal.core.codes import EndReason
from interpersonal.web.assessments.alerts import ALERT_RELATED, AlertRow, describe_alert
from interpersonal.web.assessments.models import Measurement, RiskAlert
from interpersonal.web.courses.models import Course, TherapySession
from interpersonal.web.referrals.models import Referral

# The order of events that fall on one day: the pathway's own order.
_ORDER = {"received": 0, "screening": 1, "contact": 2, "triaged": 3, "course": 4, "discharged": 5}


@dataclass(frozen=True, slots=True)
class Step:
    """A course of the referral: one step of its stepped care."""

    course: Course
    name: str
    step: int | None
    visible: bool
    """Whether the reader may open the course (courses.access); else it is listed, not linked."""

    @property
    def stepped_up(self) -> bool:
        return self.course.end_reason == EndReason.STEPPED_UP.value


@dataclass(frozen=True, slots=True)
class Event:
    """One dated line of the pathway."""

    on: dt.date
    kind: str
    text: str
    step: Step | None = None
    muted: str = ""


@dataclass(frozen=True, slots=True)
class Pathway:
    referral: Referral
    steps: list[Step]
    events: list[Event]
    screening: list[Measurement]
    contacts: list[TherapySession]
    open_alerts: list[AlertRow]
    triaged_to: str = ""
    """The triaged step and therapy in words ("" before triage)."""
    step_path: str = ""
    """"step 2 → step 3 in the same referral" once the referral has been stepped up."""

    @property
    def has_active_course(self) -> bool:
        return any(s.course.is_active for s in self.steps)

    @property
    def may_start_course(self) -> bool:
        return self.referral.is_open and not self.has_active_course

    @property
    def may_end(self) -> bool:
        """An open referral with no active course ends here; one in a course ends with it."""
        return self.referral.is_open and not self.has_active_course


def protocol_name(protocol_id: str) -> tuple[str, int | None]:
    """A protocol's name and step; the id itself for a protocol withdrawn since."""
    try:
        definition = protocols.get(protocol_id)
    except protocols.UnknownProtocol:
        return protocol_id, None
    return definition.name, definition.step


def triaged_to(referral: Referral) -> str:
    """"Step 3: Dynamic Interpersonal Therapy (DIT)", or "" before triage."""
    if not referral.therapy and referral.step is None:
        return ""
    name = protocol_name(referral.therapy)[0] if referral.therapy else ""
    step = f"Step {referral.step}" if referral.step else ""
    return ": ".join(p for p in (step, name) if p)


def _local_date(value: dt.datetime) -> dt.date:
    return timezone.localdate(value) if timezone.is_aware(value) else value.date()


def _end_text(reason: EndReason | None) -> str:
    if reason is None:
        return ""
    code = f" (NHS end code {reason.nhs_code}{'' if reason.nhs_code_confirmed else ', unconfirmed'})" \
        if reason.nhs_code is not None else ""
    return f"{reason.label}{code}"


def _events(referral: Referral, steps: list[Step], screening: list[Measurement],
            contacts: list[TherapySession]) -> list[Event]:
    source = referral.get_source_display()
    events = [Event(referral.received_on, "received",
                    f"Referral received ({source}{f': {referral.referrer}' if referral.referrer else ''})")]
    for m in screening:
        total = "not scored" if m.total is None else f"{m.total:g}"
        severity = f" ({m.severity.lower()})" if m.severity else ""
        events.append(Event(_local_date(m.recorded_at), "screening", f"Screening {_abbreviation(m.instrument)}: {total}{severity}",
                            muted="risk item answered" if m.risk else ""))
    for c in contacts:
        what = c.get_attendance_display() if c.attendance is not None else "booked"
        events.append(Event(_local_date(c.scheduled_at), "contact", f"Assessment contact: {what}",
                            muted="not treatment"))
    if referral.triaged_at is not None:
        events.append(Event(_local_date(referral.triaged_at), "triaged", f"Triaged to {triaged_to(referral) or 'a step'}"))
    for s in steps:
        c = s.course
        label = f"Step {s.step}: {s.name}" if s.step else s.name
        if c.is_active:
            status = "active"
        else:
            status = f"ended {c.ended_on:%-d %b %Y}: {_end_text(c.end_reason_enum).lower() or 'no reason recorded'}"
        events.append(Event(c.started_on, "course", label, step=s, muted=status))
    if referral.ended_on is not None:
        events.append(Event(referral.ended_on, "discharged", f"Discharged: {_end_text(referral.end_reason_enum)}"))
    return sorted(events, key=lambda e: (e.on, _ORDER[e.kind]))


def _abbreviation(instrument_id: str) -> str:
    try:
        return measures.get(instrument_id).abbreviation
    except measures.UnknownInstrument:
        return instrument_id


def step_path(steps: list[int | None]) -> str:
    """"step 2 → step 3 in the same referral" when the referral's courses (their steps, in
    order) moved between steps; "" otherwise."""
    numbers = [n for n in steps if n is not None]
    if len(set(numbers)) < 2:
        return ""
    return " → ".join(f"step {n}" for n in numbers) + " in the same referral"


def pathways(patient: Any, visible_courses: QuerySet[Course]) -> list[Pathway]:
    """Every referral of ``patient``, newest first, as a pathway. ``visible_courses``: the
    courses the reader may open (courses.access.courses_visible_to)."""
    referrals = list(Referral.objects.filter(patient=patient).select_related("therapist", "triaged_by")
                     .order_by("-received_on", "-id"))
    if not referrals:
        return []
    visible = set(visible_courses.filter(patient=patient).values_list("pk", flat=True))
    courses = list(Course.objects.filter(patient=patient).select_related("therapist").order_by("started_on", "id"))
    screening = list(Measurement.objects.filter(referral__patient=patient, course__isnull=True)
                     .defer("answers", "variants").order_by("recorded_at", "id"))
    contacts = list(TherapySession.objects.filter(referral__patient=patient, course__isnull=True)
                    .order_by("scheduled_at", "id"))
    alerts = list(RiskAlert.objects.filter(referral__patient=patient, acknowledged_at__isnull=True)
                  .select_related(*ALERT_RELATED, "course", "left_open_by").order_by("raised_at", "id"))
    out = []
    for r in referrals:
        steps = []
        for c in courses:
            if c.referral_id == r.pk:
                name, step = protocol_name(c.protocol)
                steps.append(Step(c, name, step, c.pk in visible))
        own_screening = [m for m in screening if m.referral_id == r.pk]
        own_contacts = [c for c in contacts if c.referral_id == r.pk]
        out.append(Pathway(
            referral=r, steps=steps, events=_events(r, steps, own_screening, own_contacts),
            screening=own_screening, contacts=own_contacts,
            open_alerts=[describe_alert(a) for a in alerts if a.referral_id == r.pk],
            triaged_to=triaged_to(r), step_path=step_path([s.step for s in steps]),
        ))
    return out
