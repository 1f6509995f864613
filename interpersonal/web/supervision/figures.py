"""Figures that follow from the supervision log (issue 15), each defined once here.

- **Supervision of a case** = Σ the minutes recorded against that case (``DiscussedCase.minutes``)
  across sessions — in a group session, the case's own minutes as recorded, never the whole
  session's length (the other supervisees' cases took the rest).
- **Supervision of a supervisee** over a period = Σ the length of every session they attended
  dated in the period: an hour of group supervision is an hour of the supervisee's supervision
  (IPT UK and the DIT route count hours attended; DOMAIN.md §2 and §9).
- **Cost** (docs/costs.md, "Supervision"): the hours of a session × (the supervisor's grade's
  hourly cost shared equally among the supervisees present + the supervisee's own grade's hourly
  cost), each at the cost in force on the session's date. A session whose grades have no cost
  that day is counted as "not costed", never costed at £0.

All are SQL aggregates over the period's rows, one query each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, OuterRef, Subquery, Sum

from interpersonal.web.supervision.models import DiscussedCase, SupervisionHourlyCost, SupervisionSession


def minutes_per_case(course_ids: Iterable[int], *, since: dt.date | None = None,
                     until: dt.date | None = None) -> dict[int, int]:
    """Minutes of supervision per course (only courses with any), in the period when given."""
    rows = DiscussedCase.objects.filter(course_id__in=list(course_ids))
    if since is not None:
        rows = rows.filter(session__date__gte=since)
    if until is not None:
        rows = rows.filter(session__date__lte=until)
    return dict(rows.order_by().values("course_id").annotate(m=Sum("minutes")).values_list("course_id", "m"))


def minutes_per_supervisee(supervisee_ids: Iterable[int], *, since: dt.date, until: dt.date,
                           supervisor: Any = None) -> dict[int, int]:
    """Minutes of supervision each supervisee attended between ``since`` and ``until`` (inclusive);
    only sessions given by ``supervisor`` when given."""
    through = SupervisionSession.supervisees.through
    rows = through.objects.filter(user_id__in=list(supervisee_ids), supervisionsession__date__gte=since,
                                  supervisionsession__date__lte=until)
    if supervisor is not None:
        rows = rows.filter(supervisionsession__supervisor=supervisor)
    return dict(rows.order_by().values("user_id").annotate(m=Sum("supervisionsession__minutes"))
                .values_list("user_id", "m"))


def last_discussed(course_ids: Iterable[int]) -> dict[int, dt.date]:
    """The date each course was last discussed in supervision (only courses ever discussed)."""
    from django.db.models import Max

    return dict(DiscussedCase.objects.filter(course_id__in=list(course_ids)).order_by().values("course_id")
                .annotate(d=Max("session__date")).values_list("course_id", "d"))


# --- costs ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SupervisionCost:
    """A supervisee's supervision over a period: hours, what was costed and what could not be."""

    minutes: int
    sessions: int
    cost: Decimal
    not_costed: int
    """Sessions left out of ``cost``: the supervisor's or the supervisee's grade had no hourly cost that day."""

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / 60).quantize(Decimal("0.01"))


def hourly_cost(grade_id: int | None, day: dt.date, table: dict[int, list[tuple[dt.date, Decimal]]]) -> Decimal | None:
    """The grade's hourly cost in force on ``day`` (the latest from on or before it), or None."""
    if grade_id is None:
        return None
    found = None
    for effective_from, cost in table.get(grade_id, []):
        if effective_from <= day:
            found = cost
    return found


def cost_table() -> dict[int, list[tuple[dt.date, Decimal]]]:
    """Every grade's hourly costs, oldest first (one query; a service has a handful of grades)."""
    table: dict[int, list[tuple[dt.date, Decimal]]] = {}
    for grade_id, effective_from, cost in (SupervisionHourlyCost.objects.order_by("grade_id", "effective_from")
                                           .values_list("grade_id", "effective_from", "cost_per_hour")):
        table.setdefault(grade_id, []).append((effective_from, cost))
    return table


def supervision_cost(supervisee: Any, *, since: dt.date, until: dt.date) -> SupervisionCost:
    """The supervisee's supervision between ``since`` and ``until`` (inclusive), costed (module docstring)."""
    from interpersonal.web.service.models import StaffProfile

    through = SupervisionSession.supervisees.through
    present = (through.objects.filter(supervisionsession=OuterRef("pk")).order_by().values("supervisionsession")
               .annotate(n=Count("pk")).values("n"))
    # Counted in a subquery: the filter on this supervisee would otherwise leave one row per session.
    sessions = list(SupervisionSession.objects.filter(supervisees=supervisee, date__gte=since, date__lte=until)
                    .annotate(present=Subquery(present)).order_by("date", "pk")
                    .values("date", "minutes", "present", "supervisor_id"))
    grades = dict(StaffProfile.objects.filter(user_id__in={s["supervisor_id"] for s in sessions} | {supervisee.pk})
                  .values_list("user_id", "grade_id"))
    table = cost_table() if sessions else {}
    total, not_costed = Decimal("0"), 0
    for s in sessions:
        own = hourly_cost(grades.get(supervisee.pk), s["date"], table)
        theirs = hourly_cost(grades.get(s["supervisor_id"]), s["date"], table)
        if own is None or theirs is None:
            not_costed += 1
            continue
        total += Decimal(s["minutes"]) / 60 * (theirs / max(s["present"], 1) + own)
    return SupervisionCost(minutes=sum(s["minutes"] for s in sessions), sessions=len(sessions),
                           cost=total.quantize(Decimal("0.01")), not_costed=not_costed)
