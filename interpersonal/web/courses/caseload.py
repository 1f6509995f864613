"""The caseload dashboard's rows: one query for any number of courses.

Attended count, open alerts, the last two PHQ-9 and GAD-7 totals and the next booked
session are correlated subqueries annotated on the course queryset (no per-row queries);
phase and trend are worked out in Python from those values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from interpersonal.core import protocols
from interpersonal.web.assessments.models import Measurement, RiskAlert
from interpersonal.web.courses.models import ATTENDED, Course, TherapySession

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
    course: Course
    attended: int
    planned: int | None
    phase: protocols.Phase | None
    open_alerts: int
    next_session: dt.datetime | None
    trends: dict[str, Trend]

    @property
    def session_label(self) -> str:
        upcoming = self.attended + 1
        if self.planned is None:
            return f"{upcoming}"
        return f"{min(upcoming, self.planned)} of {self.planned}"


def rows(courses: QuerySet[Course]) -> list[CaseloadRow]:
    out = []
    for c in annotate(courses):
        try:
            phase = c.definition.phase_for(c.attended_count, c.planned_sessions)
        except (protocols.ProtocolError, protocols.UnknownProtocol):
            phase = None
        out.append(CaseloadRow(
            course=c, attended=c.attended_count, planned=c.planned_sessions, phase=phase,
            open_alerts=c.open_alerts, next_session=c.next_session,
            trends={m: Trend(getattr(c, f"{m}_last"), getattr(c, f"{m}_previous")) for m in TREND_MEASURES},
        ))
    return out
