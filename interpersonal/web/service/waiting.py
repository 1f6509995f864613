"""The waiting list as a read model: queues, clocks, forecasts and the standards' performance,
built by one set of functions that the lead's pages and the clinician's own list both render.

Every rule comes from :mod:`interpersonal.core.waits`; this module only reads the database, with
a fixed number of queries whatever the size of the service:

- **queues** (:func:`queues`): the open referrals awaiting triage (one queue), waiting for their
  first treatment (one queue per step and therapy), and in treatment but waiting for their second
  treatment appointment (the hidden wait). One query for the referrals, one for the starts.
- **performance** (:func:`performance`): the referrals that finished a course of treatment (ended
  with at least ``MIN_TREATMENT_SESSIONS`` attended treatment contacts) in a period, their waits
  from referral to first and first to second treatment. One query.

A contact's date is its local date (``TIME_ZONE``), as everywhere else in the clinic.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from interpersonal.core import protocols, waits
from interpersonal.core.outcomes.service import MIN_TREATMENT_SESSIONS
from interpersonal.web.courses.models import ATTENDED, TherapySession
from interpersonal.web.referrals.models import Referral
from interpersonal.web.service.access import BEFORE_TREATMENT
from interpersonal.web.service.sql import count_of

TRIAGE = "triage"
"""The slug of the queue of referrals awaiting screening and triage."""
SECOND = "second"
"""The slug of the hidden-wait queue: in treatment, waiting for the second treatment appointment."""
UNKNOWN_THERAPY = "unassigned"


def standards() -> tuple[waits.Standard, ...]:
    """The standards in force: ``INTERPERSONAL_WAIT_STANDARDS`` (default NHS England's)."""
    return waits.standards_from_setting(settings.INTERPERSONAL_WAIT_STANDARDS)


def therapy_name(therapy: str) -> str:
    if not therapy:
        return "No therapy chosen"
    try:
        return protocols.get(therapy).name
    except protocols.UnknownProtocol:
        return therapy


def queue_slug(status: str, step: int | None, therapy: str) -> str:
    if status == Referral.Status.AWAITING_TRIAGE:
        return TRIAGE
    if status == Referral.Status.IN_TREATMENT:
        return SECOND
    return f"{step or 0}-{therapy or UNKNOWN_THERAPY}"


def queue_label(slug: str) -> str:
    if slug == TRIAGE:
        return "Awaiting screening and triage"
    if slug == SECOND:
        return "In treatment, waiting for the second treatment appointment"
    step, _, therapy = slug.partition("-")
    name = therapy_name("" if therapy == UNKNOWN_THERAPY else therapy)
    return f"Step {step}: {name}" if step != "0" else name


def _attended_treatment(referral_ref: str = "pk") -> QuerySet[TherapySession]:
    return TherapySession.objects.filter(referral=OuterRef(referral_ref), treatment=True, attendance__in=ATTENDED)


def with_treatment_dates(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    """``first_treatment_at``, ``second_treatment_at`` (datetimes of the first and second attended
    treatment contacts) and ``treatment_contacts`` (how many attended)."""
    ordered = _attended_treatment().order_by("scheduled_at", "id").values("scheduled_at")
    return referrals.annotate(
        first_treatment_at=Subquery(ordered[:1]), second_treatment_at=Subquery(ordered[1:2]),
        treatment_contacts=count_of(_attended_treatment()),
    )


def local_date(moment: dt.datetime | None) -> dt.date | None:
    return None if moment is None else timezone.localdate(moment)


# --- queues ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One referral on a waiting list. ``patient`` is filled only on a clinician's own list."""

    referral_id: int
    version: int
    received_on: dt.date
    status: str
    queue: str
    therapist: str
    forecast: waits.Forecast
    first_treatment_on: dt.date | None = None
    open_alert: bool = False
    invitation: dict[str, Any] | None = None
    patient: dict[str, Any] | None = None

    @property
    def second_wait(self) -> int | None:
        """Days since the first treatment, while waiting for the second."""
        if self.first_treatment_on is None:
            return None
        return (timezone.localdate() - self.first_treatment_on).days


@dataclass
class Queue:
    slug: str
    label: str
    rate: float | None
    """First treatment appointments a week over the forecast window (None: no forecast for this queue)."""
    rows: list[Row] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def longest_wait(self) -> int | None:
        return max((r.forecast.waited for r in self.rows), default=None)

    @property
    def open_alerts(self) -> int:
        return sum(1 for r in self.rows if r.open_alert)

    @property
    def longest_second_wait(self) -> int | None:
        return max((r.second_wait for r in self.rows if r.second_wait is not None), default=None)

    def breached(self, standard_id: str) -> int:
        return sum(1 for r in self.rows if r.forecast.clock(standard_id).breached)

    def forecast_breach(self, standard_id: str) -> int:
        """Not yet breached but forecast to."""
        return sum(1 for r in self.rows if not r.forecast.clock(standard_id).breached
                   and r.forecast.clock(standard_id).forecast_breach)


def starts_by_queue(*, today: dt.date, weeks: int = waits.FORECAST_WINDOW_WEEKS) -> dict[str, list[dt.date]]:
    """The dates of first treatment appointments in the forecast window, by the queue (step and
    therapy) of their referral: one query over the window's contacts."""
    since = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=7 * weeks), dt.time.max))
    until = timezone.make_aware(dt.datetime.combine(today, dt.time.max))
    earlier = TherapySession.objects.filter(referral=OuterRef("referral"), treatment=True, attendance__in=ATTENDED,
                                            scheduled_at__lt=OuterRef("scheduled_at"))
    rows = (TherapySession.objects.filter(treatment=True, attendance__in=ATTENDED, scheduled_at__gt=since,
                                          scheduled_at__lte=until)
            .filter(~Exists(earlier)).values_list("referral__step", "referral__therapy", "scheduled_at"))
    out: dict[str, list[dt.date]] = defaultdict(list)
    for step, therapy, at in rows:
        out[queue_slug(Referral.Status.WAITING, step, therapy)].append(timezone.localdate(at))
    return out


def queues(*, today: dt.date | None = None, only: Iterable[int] | None = None,
           identifiable: bool = False) -> list[Queue]:
    """Every queue of the service with its forecast. ``only``: keep only these referrals' rows (a
    clinician's own list), still positioned in the whole queue; ``identifiable`` adds the patient."""
    from interpersonal.web.service.actions import with_opt_in

    today = today or timezone.localdate()
    standard_list = standards()
    open_referrals = Referral.objects.filter(
        Q(status__in=BEFORE_TREATMENT) | Q(status=Referral.Status.IN_TREATMENT))
    rows = with_opt_in(with_treatment_dates(open_referrals))
    # Only the hidden-wait referrals (in treatment with one attended treatment contact) are kept of those in treatment.
    rows = rows.filter(Q(status__in=BEFORE_TREATMENT) | Q(treatment_contacts=1))
    fields = ["pk", "version", "received_on", "status", "step", "therapy", "therapist__first_name",
              "therapist__last_name", "therapist__username", "first_treatment_at", "open_alert", "invitation_id",
              "invitation_sent_on", "invitation_respond_by", "invitation_channel", "invitation_delivery",
              "opted_in_on"]
    if identifiable:
        fields += ["patient_id", "patient__given_name", "patient__family_name", "patient__local_id"]
    values = list(rows.values(*fields))
    rates = {slug: waits.starts_per_week(dates, today=today) for slug, dates in starts_by_queue(today=today).items()}
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for v in values:
        grouped[queue_slug(v["status"], v["step"], v["therapy"])].append(v)
    wanted = set(only) if only is not None else None
    out = []
    for slug, members in grouped.items():
        if slug == SECOND:
            # The hidden wait: longest since the first treatment first; no standard, no start forecast.
            members.sort(key=lambda v: (v["first_treatment_at"], v["pk"]))
            waiters = [waits.Waiter(v["pk"], v["received_on"]) for v in members]
            forecasts = {f.key: f for f in waits.forecast(waiters, rate=None, today=today, standards=standard_list)}
            rate = None
        else:
            rate = None if slug == TRIAGE else rates.get(slug, 0.0)
            waiters = [waits.Waiter(v["pk"], v["received_on"]) for v in members]
            forecasts = {f.key: f for f in waits.forecast(waiters, rate=rate, today=today, standards=standard_list)}
            members.sort(key=lambda v: forecasts[v["pk"]].position)
        queue = Queue(slug, queue_label(slug), rate)
        for v in members:
            if wanted is not None and v["pk"] not in wanted:
                continue
            queue.rows.append(_row(v, slug, forecasts[v["pk"]], identifiable=identifiable))
        out.append(queue)
    order = {TRIAGE: 0, SECOND: 2}
    return sorted(out, key=lambda q: (order.get(q.slug, 1), q.slug))


def _row(v: dict[str, Any], slug: str, forecast: waits.Forecast, *, identifiable: bool) -> Row:
    therapist = " ".join(p for p in (v["therapist__first_name"], v["therapist__last_name"]) if p) \
        or v["therapist__username"] or "Not allocated"
    invitation = None
    if v["invitation_id"] is not None:
        invitation = {"id": v["invitation_id"], "sent_on": v["invitation_sent_on"],
                      "respond_by": v["invitation_respond_by"], "channel": v["invitation_channel"],
                      "delivery": v["invitation_delivery"], "opted_in_on": v["opted_in_on"]}
    patient = None
    if identifiable:
        patient = {"id": v["patient_id"], "name": f'{v["patient__given_name"]} {v["patient__family_name"]}',
                   "local_id": v["patient__local_id"]}
    return Row(referral_id=v["pk"], version=v["version"], received_on=v["received_on"], status=v["status"],
               queue=slug, therapist=therapist, forecast=forecast,
               first_treatment_on=local_date(v["first_treatment_at"]), open_alert=bool(v["open_alert"]),
               invitation=invitation, patient=patient)


def breach_forecast_by_week(queue_list: Sequence[Queue], *, today: dt.date, weeks: int = 12) -> list[dict[str, Any]]:
    """For each standard: already breached, forecast breaches by week (the clock's last day's week),
    and later ones, over the referrals waiting for a first treatment (not the hidden-wait queue)."""
    forecasts = [r.forecast for q in queue_list if q.slug != SECOND for r in q.rows]
    out = []
    for standard in standards():
        already, by_week, later = waits.breaches_by_week(forecasts, standard.id, today=today, weeks=weeks)
        out.append({"standard": standard, "already": already, "by_week": by_week, "later": later,
                    "total": already + sum(n for _, n in by_week) + later})
    return out


# --- performance against the standards ----------------------------------------------------------------


@dataclass(frozen=True)
class Finished:
    """A referral that finished a course of treatment: when, its therapy, its two waits."""

    referral_id: int
    ended_on: dt.date
    therapy: str
    first_wait: int | None
    second_wait: int | None


def finished_between(since: dt.date, until: dt.date) -> list[Finished]:
    """Referrals that ended in [since, until] with at least ``MIN_TREATMENT_SESSIONS`` attended
    treatment contacts (NHS Talking Therapies' "finished a course of treatment", DOMAIN.md §4).
    A first treatment recorded before the referral date (a recording error) gives no wait: it is
    left out of the standards rather than counted as within them."""
    rows = (with_treatment_dates(Referral.objects.filter(status=Referral.Status.DISCHARGED,
                                                         ended_on__gte=since, ended_on__lte=until))
            .filter(treatment_contacts__gte=MIN_TREATMENT_SESSIONS)
            .values_list("pk", "ended_on", "therapy", "received_on", "first_treatment_at", "second_treatment_at"))
    out = []
    for pk, ended, therapy, received, first_at, second_at in rows:
        first, second = local_date(first_at), local_date(second_at)
        try:
            first_wait = waits.days_waited(received, first) if first else None
            second_wait = waits.days_waited(first, second) if first and second else None
        except waits.WaitsError:
            first_wait = second_wait = None
        out.append(Finished(pk, ended, therapy or "", first_wait, second_wait))
    return out


@dataclass(frozen=True)
class PeriodPerformance:
    label: str
    since: dt.date
    until: dt.date
    finished: int
    standards: tuple[waits.Performance, ...]
    second: waits.SecondWaits
    by_therapy: tuple[tuple[str, str, tuple[waits.Performance, ...]], ...]
    unmeasured: int
    """Finished referrals with no usable first-treatment wait (recorded before the referral date)."""


def _perf(label: str, since: dt.date, until: dt.date, finished: list[Finished]) -> PeriodPerformance:
    standard_list = standards()
    measured = [f for f in finished if f.first_wait is not None]
    by_therapy: dict[str, list[Finished]] = defaultdict(list)
    for f in measured:
        by_therapy[f.therapy].append(f)
    return PeriodPerformance(
        label=label, since=since, until=until, finished=len(finished),
        standards=tuple(waits.performance((f.first_wait for f in measured if f.first_wait is not None), s)
                        for s in standard_list),
        second=waits.second_waits(f.second_wait for f in measured if f.second_wait is not None),
        by_therapy=tuple((t, therapy_name(t), tuple(waits.performance(
            (f.first_wait for f in group if f.first_wait is not None), s) for s in standard_list))
            for t, group in sorted(by_therapy.items())),
        unmeasured=len(finished) - len(measured),
    )


def performance(*, today: dt.date | None = None) -> list[PeriodPerformance]:
    """This month so far, and the rolling 12 months up to today (one query for both)."""
    today = today or timezone.localdate()
    month_start = today.replace(day=1)
    year_start = _months_before(today, 12) + dt.timedelta(days=1)
    finished = finished_between(year_start, today)
    return [
        _perf(f"{today:%B %Y} so far", month_start, today, [f for f in finished if f.ended_on >= month_start]),
        _perf("The last 12 months", year_start, today, finished),
    ]


def _months_before(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover
