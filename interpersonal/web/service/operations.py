"""The service lead's operational figures: caseloads, capacity and costs (docs/costs.md).

All in SQL aggregates: a fixed number of queries whatever the number of sessions, the only rows
brought into Python being one per clinician, one per therapy, and one per referral that finished in
the period (for its outcome).

Costs (docs/costs.md has the formula and the reasons):

- a **session's cost** is the cost per session of its therapist's grade (``StaffProfile.grade``) in
  effect on the session's date (``GradeCost.effective_from``, until the grade's next cost); only
  attended treatment sessions (treatment contacts with attendance code 5 or 6) are costed;
- **cost per session** (by therapy: the protocol of the session's course) = Σ cost of the attended
  treatment sessions dated in the period / their number;
- **cost per finished course of treatment** (by therapy of the referral: the outcome summary's
  ``therapy``, its last course with at least two attended treatment sessions, else its last) =
  Σ cost of every attended treatment session of each referral that finished a course of treatment
  in the period (all its steps) / the number of those referrals;
- **cost per recovery** = Σ cost of those finished referrals that are paired / the number of them
  that recovered (paired and recovered as the outcome summary holds them: the core's one rule,
  interpersonal.web.outcomes.summaries).

A session that cannot be costed (its therapist has no grade, or the grade no cost for that date) is
counted and shown, never costed at £0: per-session figures leave it out; a finished referral with
any such session is left out of the per-course and per-recovery figures, and counted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from interpersonal.core.outcomes import ANXIETY_MEASURE, DEPRESSION_MEASURE
from interpersonal.web.accounts.roles import ROLES, Permission
from interpersonal.web.courses.models import ATTENDED, Course, TherapySession
from interpersonal.web.outcomes.models import ReferralSummary
from interpersonal.web.referrals.models import Referral
from interpersonal.web.service.access import BEFORE_TREATMENT
from interpersonal.web.service.models import GradeCost
from interpersonal.web.service.sql import count_of
from interpersonal.web.service.waiting import therapy_name

MONEY = DecimalField(max_digits=14, decimal_places=2)
PAIRED_MEASURES = (DEPRESSION_MEASURE, ANXIETY_MEASURE)


def clinician_roles() -> list[str]:
    return [name for name, role in ROLES.items() if Permission.HOLD_CASELOAD in role.permissions]


# --- caseloads and capacity ---------------------------------------------------------------------


@dataclass(frozen=True)
class ClinicianLoad:
    user_id: int
    name: str
    grade: str
    active_courses: int
    awaiting: int
    """Referrals allocated to them that are awaiting triage or a first treatment."""
    weekly_capacity: int | None
    booked: int
    """Sessions booked (no attendance yet) in the next ``weeks`` weeks."""
    weeks: int
    profile_version: int | None

    @property
    def caseload(self) -> int:
        return self.active_courses + self.awaiting

    @property
    def slots(self) -> int | None:
        """Weekly capacity × weeks − booked: open slots (negative: overbooked); None with no capacity set."""
        return None if self.weekly_capacity is None else self.weekly_capacity * self.weeks - self.booked


def capacity_weeks() -> int:
    return int(settings.INTERPERSONAL_CAPACITY_WEEKS)


def clinician_loads(*, now: dt.datetime | None = None, weeks: int | None = None) -> list[ClinicianLoad]:
    """Every active clinician with their caseload and open slots: one query."""
    now = now or timezone.now()
    weeks = weeks or capacity_weeks()
    until = now + dt.timedelta(weeks=weeks)
    user_model = get_user_model()
    active = Course.objects.filter(therapist=OuterRef("pk"), status=Course.Status.ACTIVE)
    awaiting = Referral.objects.filter(therapist=OuterRef("pk"), status__in=BEFORE_TREATMENT)
    booked = TherapySession.objects.filter(
        Q(course__therapist=OuterRef("pk")) | Q(course__isnull=True, referral__therapist=OuterRef("pk")),
        attendance__isnull=True, scheduled_at__gte=now, scheduled_at__lt=until,
    )
    rows = (user_model.objects.filter(role__in=clinician_roles(), is_active=True)
            .annotate(active_courses=count_of(active), awaiting=count_of(awaiting), booked=count_of(booked))
            .values_list("pk", "first_name", "last_name", "username", "service_profile__grade__name",
                         "active_courses", "awaiting", "service_profile__weekly_capacity", "booked",
                         "service_profile__version")
            .order_by("last_name", "first_name", "username"))
    return [ClinicianLoad(pk, " ".join(p for p in (first, last) if p) or username, grade or "", n_active, n_awaiting,
                          capacity, n_booked, weeks, version)
            for pk, first, last, username, grade, n_active, n_awaiting, capacity, n_booked, version in rows]


# --- costs -------------------------------------------------------------------------------------------


def unit_cost() -> Cast:
    """The cost of one session as a SQL expression over ``_grade`` (the therapist's grade id) and
    ``_day`` (the session's local date): the grade's cost in effect that day, NULL when none."""
    periods = list(GradeCost.objects.order_by("grade_id", "effective_from")
                   .values_list("grade_id", "effective_from", "cost_per_session"))
    whens = []
    for i, (grade, start, cost) in enumerate(periods):
        following = periods[i + 1] if i + 1 < len(periods) else None
        rule = Q(_grade=grade, _day__gte=start)
        if following is not None and following[0] == grade:
            rule &= Q(_day__lt=following[1])
        whens.append(When(rule, then=Value(cost, output_field=MONEY)))
    # Cast: with no cost at all the Case is a bare NULL, which PostgreSQL cannot SUM without a type.
    return Cast(Case(*whens, default=Value(None, output_field=MONEY), output_field=MONEY), output_field=MONEY)


def costed_sessions(sessions: QuerySet[TherapySession] | None = None, *, cost: Cast | None = None,
                    ) -> QuerySet[TherapySession]:
    """Attended treatment sessions annotated with ``_cost`` (None when it cannot be costed);
    ``cost``: :func:`unit_cost`, read once by a caller that costs several querysets."""
    base = sessions if sessions is not None else TherapySession.objects.all()
    return (base.filter(treatment=True, attendance__in=ATTENDED)
            .annotate(_grade=F("course__therapist__service_profile__grade"),
                      _day=TruncDate("scheduled_at", tzinfo=timezone.get_current_timezone()))
            .annotate(_cost=cost if cost is not None else unit_cost()))


@dataclass
class TherapyCost:
    therapy: str
    name: str
    sessions: int = 0
    sessions_cost: Decimal = Decimal(0)
    sessions_uncosted: int = 0
    finished: int = 0
    finished_cost: Decimal = Decimal(0)
    finished_uncosted: int = 0
    """Finished referrals left out because a session of theirs could not be costed."""
    paired_cost: Decimal = Decimal(0)
    paired: int = 0
    recovered: int = 0

    @staticmethod
    def _per(total: Decimal, n: int) -> Decimal | None:
        return (total / n).quantize(Decimal("0.01")) if n else None

    @property
    def per_session(self) -> Decimal | None:
        return self._per(self.sessions_cost, self.sessions)

    @property
    def per_finished(self) -> Decimal | None:
        return self._per(self.finished_cost, self.finished)

    @property
    def per_recovery(self) -> Decimal | None:
        return self._per(self.paired_cost, self.recovered)


def costs(*, since: dt.date, until: dt.date) -> dict[str, Any]:
    """Cost per session, per finished course of treatment and per recovery, by therapy, for
    sessions dated and referrals ended in [since, until]. Four queries."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(dt.datetime.combine(since, dt.time.min), tz)
    end = timezone.make_aware(dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min), tz)
    by: dict[str, TherapyCost] = {}
    cost = unit_cost()

    def row(therapy: str | None) -> TherapyCost:
        key = therapy or ""
        if key not in by:
            by[key] = TherapyCost(key, therapy_name(key))
        return by[key]

    # 1. Sessions dated in the period, by the protocol of their course.
    per_protocol = (costed_sessions(TherapySession.objects.filter(scheduled_at__gte=start, scheduled_at__lt=end),
                                    cost=cost)
                    .values("course__protocol")
                    .annotate(n=Count("pk"), costed=Count("_cost"), total=Sum("_cost")).order_by())
    for r in per_protocol:
        t = row(r["course__protocol"])
        t.sessions += r["costed"]
        t.sessions_uncosted += r["n"] - r["costed"]
        t.sessions_cost += r["total"] or Decimal(0)

    # 2. Referrals that finished a course of treatment in the period: where each is placed, whether
    # it is paired and recovered. Read from the per-referral outcome summaries kept at write time
    # (interpersonal.web.outcomes.summaries): the one rule, the same figures as the dashboard.
    summaries = ReferralSummary.objects.filter(finished=True, ended_on__gte=since, ended_on__lte=until)
    finished = Referral.objects.filter(pk__in=summaries.values("referral_id"))
    info = {v["referral_id"]: (v["therapy"] or "", bool(v["paired"]), bool(v["recovered"]))
            for v in summaries.values("referral_id", "therapy", "paired", "recovered")}

    # 3. The cost of every attended treatment session of those referrals (any date), per referral.
    per_referral = (costed_sessions(TherapySession.objects.filter(referral__in=finished.values("pk")), cost=cost)
                    .values("referral_id").annotate(n=Count("pk"), costed=Count("_cost"), total=Sum("_cost"))
                    .order_by())
    for r in per_referral:
        therapy, paired, was_recovered = info[r["referral_id"]]
        t = row(therapy)
        if r["costed"] < r["n"]:
            t.finished_uncosted += 1
            continue
        t.finished += 1
        t.finished_cost += r["total"] or Decimal(0)
        if paired:
            t.paired += 1
            t.paired_cost += r["total"] or Decimal(0)
            t.recovered += was_recovered
    rows = sorted(by.values(), key=lambda t: t.name)
    summed = ("sessions", "sessions_cost", "sessions_uncosted", "finished", "finished_cost", "finished_uncosted",
              "paired_cost", "paired", "recovered")
    total = TherapyCost("", "All therapies", **{name: sum((getattr(t, name) for t in rows), start=getattr(
        TherapyCost("", ""), name)) for name in summed})
    return {"since": since, "until": until, "by_therapy": rows, "total": total}


def grade_costs() -> list[dict[str, Any]]:
    """The grades with their dated costs, for the settings page."""
    out: dict[int, dict[str, Any]] = {}
    from interpersonal.web.service.models import StaffGrade

    for grade in StaffGrade.objects.order_by("name"):
        out[grade.pk] = {"grade": grade, "costs": []}
    for cost in GradeCost.objects.order_by("grade_id", "effective_from"):
        out[cost.grade_id]["costs"].append(cost)
    return list(out.values())


__all__ = ["ClinicianLoad", "TherapyCost", "capacity_weeks", "clinician_loads", "costed_sessions", "costs",
           "grade_costs", "unit_cost"]
