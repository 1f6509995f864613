"""The supervisor's dashboard (issue 15): their supervisees, each one's open cases flagged, and
the hours of supervision each had this month. One function builds it; the page renders it.

Reads only what the supervisor may already read: supervisees from ``courses.supervisees`` (current
relationships) and cases from ``courses.access.supervised_caseload_for`` (active, or with a risk
alert still open). Flags, per case:

- **open risk alert** — any unacknowledged RiskAlert of the course: never hidden, listed first.
- **no supervision in N weeks** — the case was last discussed more than
  ``INTERPERSONAL_SUPERVISION_GAP_WEEKS`` weeks ago, or never while the course has run that long.
- **reliable deterioration** — on any measure with a reliable-change criterion, the course's first
  and last totals differ by a reliable worsening (``core.outcomes.rules.reliable_change``: the one
  definition the outcome reports and the charts use).

Slots filled by other apps (at merge): ``SLOTS`` names them; each maps a supervisee's id to what to
show, and the template renders a slot only when it holds something for that supervisee.

A fixed number of queries whatever the number of supervisees and cases (no N+1).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from interpersonal.web.courses.models import Course
from interpersonal.web.supervision import figures
from interpersonal.web.supervision.reach import today

SLOTS = ("fidelity_below_pass_mark", "recordings_awaiting_rating", "accreditation_progress")
"""Context keys left for the fidelity app and accreditation rules: ``{supervisee_id: [items]}``."""


def gap_weeks() -> int:
    return int(settings.INTERPERSONAL_SUPERVISION_GAP_WEEKS)


@dataclass(frozen=True, slots=True)
class CaseFlags:
    course_id: int
    local_id: str
    protocol: str
    status: str
    started_on: dt.date
    open_alerts: int
    last_supervised: dt.date | None
    unsupervised: bool
    deteriorated: tuple[str, ...]
    """The measures on which the course reliably deteriorated (first vs last total)."""

    @property
    def flagged(self) -> bool:
        return bool(self.open_alerts or self.unsupervised or self.deteriorated)


@dataclass(frozen=True, slots=True)
class SuperviseeCard:
    person: Any
    cases: list[CaseFlags]
    minutes_this_month: int
    slots: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def hours_this_month(self) -> str:
        return f"{self.minutes_this_month / 60:.1f}"

    @property
    def open_alerts(self) -> int:
        return sum(c.open_alerts for c in self.cases)


def _deteriorated(course_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """Per course, the measures whose first and last totals show reliable deterioration."""
    from interpersonal.core.outcomes import rules as outcome_rules
    from interpersonal.web.assessments.models import Measurement

    series: dict[tuple[int, str], list[float]] = defaultdict(list)
    rows = (Measurement.objects.filter(course_id__in=course_ids, total__isnull=False)
            .order_by("course_id", "instrument", "recorded_at", "pk").values_list("course_id", "instrument", "total"))
    for course_id, instrument, total in rows:
        series[(course_id, instrument)].append(float(total))
    out: dict[int, list[str]] = defaultdict(list)
    for (course_id, instrument), totals in series.items():
        if len(totals) < 2:
            continue
        try:
            verdict = outcome_rules.reliable_change(instrument, totals[0], totals[-1])
        except (KeyError, ValueError):  # an instrument with no outcome rule (no criterion): nothing to flag
            verdict = None
        if verdict == "deteriorated":
            out[course_id].append(instrument)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _open_cases(courses: QuerySet[Course]) -> list[Any]:
    from interpersonal.web.assessments.models import RiskAlert

    alerts = (RiskAlert.objects.filter(course=OuterRef("pk"), acknowledged_at__isnull=True).order_by()
              .values("course").annotate(n=Count("pk")).values("n"))
    return list(courses.select_related("patient").annotate(open_alert_count=Coalesce(Subquery(alerts), 0))
                .order_by("-open_alert_count", "started_on", "pk"))


def build(user: Any, *, slots: dict[str, dict[int, list[Any]]] | None = None) -> list[SuperviseeCard]:
    """The dashboard of ``user`` (empty without supervisees)."""
    from interpersonal.web.courses.access import supervised_caseload_for
    from interpersonal.web.courses.supervisees import supervisees_of

    people = supervisees_of(user)
    if not people:
        return []
    day = today()
    courses = _open_cases(supervised_caseload_for(user).filter(therapist__in=[p.pk for p in people]))
    ids = [c.pk for c in courses]
    last = figures.last_discussed(ids)
    worse = _deteriorated(ids)
    month_start = day.replace(day=1)
    minutes = figures.minutes_per_supervisee([p.pk for p in people], since=month_start, until=day)
    cutoff = day - dt.timedelta(weeks=gap_weeks())
    by_therapist: dict[int, list[CaseFlags]] = defaultdict(list)
    for c in courses:
        seen = last.get(c.pk)
        by_therapist[c.therapist_id].append(CaseFlags(
            course_id=c.pk, local_id=c.patient.local_id, protocol=c.definition.name, status=c.status,
            started_on=c.started_on, open_alerts=c.open_alert_count, last_supervised=seen,
            unsupervised=(seen < cutoff) if seen is not None else c.started_on < cutoff,
            deteriorated=worse.get(c.pk, ())))
    filled = slots or {}
    return [SuperviseeCard(person=p, cases=by_therapist.get(p.pk, []), minutes_this_month=minutes.get(p.pk, 0),
                           slots={name: filled.get(name, {}).get(p.pk, []) for name in SLOTS
                                  if filled.get(name, {}).get(p.pk)})
            for p in people]
