"""Waiting times: a referral's clocks, the national waiting-time standards, and a forecast of
who will breach them and when (DOMAIN.md §4, §6; docs/waiting.md).

The clocks
    **Referral to first treatment**: the days from the referral date (the day the service received
    the referral) to the date of the first *attended treatment* contact — attendance code 5 or 6
    (:func:`interpersonal.core.codes.attended`) at a contact that counts as treatment (assessment and
    screening contacts do not). NHS England measures the standards with this clock: "the waiting
    time between the referral date and the first attended treatment appointment", counted in days
    (NHS Digital, *Psychological Therapies: reports on the use of IAPT services*, "Waiting times",
    e.g. September 2019 and June 2021).

    **First to second treatment** (the "hidden wait", DOMAIN.md §6): the days from the first to the
    second attended treatment contact. No national standard applies; NHS Digital publishes the
    numbers waiting more than 28 and more than 90 days, which :data:`SECOND_WAIT_THRESHOLDS` reports
    (unconfirmed in the technical output specification: a reporting choice, not a standard).

The standards (:data:`NATIONAL_STANDARDS`)
    NHS England's referral-to-treatment waiting time standards for NHS Talking Therapies, introduced
    in 2015/16 (NHS England, *Improving Access to Psychological Therapies (IAPT) Waiting Times
    Guidance and FAQs*, 20 February 2015; *Mental health access and waiting time standards*,
    https://www.england.nhs.uk/mental-health/resources/access-waiting-time): **75% of referrals
    within 6 weeks and 95% within 18 weeks**, counted over the referrals that **finished a course
    of treatment in the period** (NHS Digital: "for referrals finishing a course of treatment in the
    month, 75% enter treatment within 6 weeks, and 95% within 18 weeks"). A referral waited within
    W weeks when it waited at most 7·W days (day 42 counts as within 6 weeks; the boundary day is
    [C], as ``core.outcomes.service`` counts it: check it against the technical output specification).
    A service may set other targets (:func:`standards_from_setting`); they are then marked as the
    service's setting, not the national standard.

The forecast (:func:`forecast`)
    Each queue (one step and therapy) is served **longest wait first**: earliest referral date first,
    equal dates by referral number (:func:`queue_order`). The queue's **rate** is the first treatment
    appointments it actually gave: starts in the last :data:`FORECAST_WINDOW_WEEKS` weeks divided by
    that many weeks (:func:`starts_per_week`). At rate *r* a week, the referral at position *k*
    (1 = next) is expected to start ``ceil(7·k / r)`` days from today; it is **forecast to breach** a
    standard when that date is after the last day its clock allows, and has **breached** when today
    is. With no start in the window (rate 0) no date can be forecast, and every referral in the queue
    is forecast to breach: nothing is moving. The method assumes the queue keeps its recent rate and
    its order; new referrals join at the back, so they do not move anyone already waiting. Referrals
    that leave without starting (discharged before treatment) move everyone behind them forward, so
    the forecast errs towards breaching. tests/core/test_waits.py checks it against a simulated
    service with a known answer.

    >>> from datetime import date
    >>> six, eighteen = NATIONAL_STANDARDS
    >>> six.clock_ends(date(2026, 1, 5))
    datetime.date(2026, 2, 16)
    >>> six.met_by(42), six.met_by(43)
    (True, False)
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = [
    "FORECAST_WINDOW_WEEKS",
    "NATIONAL_STANDARDS",
    "SECOND_WAIT_THRESHOLDS",
    "Clock",
    "Forecast",
    "Performance",
    "SecondWaits",
    "Standard",
    "Waiter",
    "WaitsError",
    "breaches_by_week",
    "days_waited",
    "forecast",
    "performance",
    "queue_order",
    "second_waits",
    "standards_from_setting",
    "starts_per_week",
    "week_of",
]


class WaitsError(ValueError):
    """A value the waiting-time rules cannot use (a setting, a date); the message says which."""


@dataclass(frozen=True, slots=True)
class Standard:
    """A waiting-time standard: ``target`` of referrals finishing treatment waited at most
    ``weeks`` weeks from referral to first treatment. ``since`` is when it took effect (None for a
    service's own setting), ``source`` where it is written, ``confirmed`` False for a service's own
    setting."""

    id: str
    weeks: int
    target: float
    since: date | None
    source: str
    confirmed: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.weeks <= 104:
            raise WaitsError(f"a waiting-time standard's weeks must be 1 to 104, not {self.weeks}")
        if not 0 < self.target <= 1:
            raise WaitsError(f"a waiting-time standard's target must be above 0% and at most 100%, not {self.target}")

    @property
    def days(self) -> int:
        """The longest wait, in days, that meets the standard."""
        return 7 * self.weeks

    @property
    def label(self) -> str:
        return f"{self.weeks} weeks"

    @property
    def target_percent(self) -> str:
        return f"{self.target * 100:g}%"

    def met_by(self, waited: int) -> bool:
        """Whether a wait of ``waited`` days meets the standard (at most :attr:`days`)."""
        return waited <= self.days

    def clock_ends(self, received_on: date) -> date:
        """The last day on which a first treatment still meets the standard."""
        return received_on + timedelta(days=self.days)


_NHS_SOURCE = (
    "NHS England, IAPT Waiting Times Guidance and FAQs (20 February 2015) and Mental health access and waiting "
    "time standards (england.nhs.uk/mental-health/resources/access-waiting-time): 75% of referrals finishing a "
    "course of treatment entered treatment within 6 weeks of referral, 95% within 18 weeks"
)

NATIONAL_STANDARDS: tuple[Standard, Standard] = (
    Standard("6_weeks", 6, 0.75, since=date(2015, 4, 1), source=_NHS_SOURCE),
    Standard("18_weeks", 18, 0.95, since=date(2015, 4, 1), source=_NHS_SOURCE),
)
"""NHS England's two referral-to-treatment standards for NHS Talking Therapies (DOMAIN.md §4, §6 [V]),
in force from 2015/16."""

SECOND_WAIT_THRESHOLDS: tuple[int, ...] = (28, 90)
"""Days between first and second treatment reported as counts (NHS Digital's published breakdowns of
the wait between first and second treatment appointments, [C]: no national standard applies)."""

FORECAST_WINDOW_WEEKS = 12
"""Weeks of observed first treatment appointments from which a queue's rate is worked out."""

SETTING_SOURCE = "this service's setting (INTERPERSONAL_WAIT_STANDARDS), not the national standard"


def standards_from_setting(text: str) -> tuple[Standard, ...]:
    """Standards from a service setting such as ``"6:75,18:95"`` (weeks:percent, comma-separated).

    A pair equal to a national standard is that standard (with its source); any other is the
    service's own, marked ``confirmed=False``. Raises :class:`WaitsError` naming the problem."""
    national = {(s.weeks, round(s.target * 100, 6)): s for s in NATIONAL_STANDARDS}
    out: list[Standard] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        weeks_text, sep, percent_text = part.partition(":")
        try:
            weeks, percent = int(weeks_text), float(percent_text)
        except ValueError:
            raise WaitsError(f"{part!r} is not weeks:percent, such as 6:75") from None
        if not sep or not math.isfinite(percent):
            raise WaitsError(f"{part!r} is not weeks:percent, such as 6:75")
        found = national.get((weeks, round(percent, 6)))
        out.append(found or Standard(f"{weeks}_weeks", weeks, percent / 100, since=None, source=SETTING_SOURCE,
                                     confirmed=False))
    if not out:
        raise WaitsError("no standard given: use weeks:percent pairs such as 6:75,18:95")
    if len({s.weeks for s in out}) != len(out):
        raise WaitsError("each number of weeks may be given once")
    return tuple(sorted(out, key=lambda s: s.weeks))


def days_waited(received_on: date, first_treatment: date) -> int:
    """Days from the referral date to the first treatment (or any later date). A date before the
    referral is a recording error: :class:`WaitsError`."""
    days = (first_treatment - received_on).days
    if days < 0:
        raise WaitsError(f"{first_treatment} is before the referral date {received_on}")
    return days


# --- performance against a standard ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Performance:
    """How many of ``finished`` referrals waited within the standard; ``rate`` None when none finished."""

    standard: Standard
    finished: int
    within: int

    @property
    def rate(self) -> float | None:
        return self.within / self.finished if self.finished else None

    @property
    def meets_target(self) -> bool | None:
        rate = self.rate
        return None if rate is None else rate >= self.standard.target


def performance(waits: Iterable[int], standard: Standard) -> Performance:
    """The standard's performance over the waits (days, referral to first treatment) of the
    referrals that finished a course of treatment in the period."""
    finished = within = 0
    for waited in waits:
        if waited < 0:
            raise WaitsError("a wait cannot be negative")
        finished += 1
        within += standard.met_by(waited)
    return Performance(standard, finished, within)


@dataclass(frozen=True, slots=True)
class SecondWaits:
    """The waits (days) from first to second treatment: how many, the median and 90th percentile
    (nearest rank), and how many waited longer than each of :data:`SECOND_WAIT_THRESHOLDS`."""

    count: int
    median: float | None
    p90: int | None
    over: tuple[tuple[int, int], ...]


def _nearest_rank(ordered: Sequence[int], fraction: float) -> int:
    """The nearest-rank percentile: the smallest value with at least ``fraction`` of values at or below it."""
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def second_waits(waits: Iterable[int], thresholds: Sequence[int] = SECOND_WAIT_THRESHOLDS) -> SecondWaits:
    ordered = sorted(waits)
    if any(w < 0 for w in ordered):
        raise WaitsError("a wait cannot be negative")
    if not ordered:
        return SecondWaits(0, None, None, tuple((t, 0) for t in thresholds))
    return SecondWaits(
        count=len(ordered), median=float(statistics.median(ordered)), p90=_nearest_rank(ordered, 0.9),
        over=tuple((t, sum(1 for w in ordered if w > t)) for t in thresholds),
    )


# --- the queue and its forecast -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Waiter:
    """One referral waiting in a queue: its number (``key``) and referral date."""

    key: int
    received_on: date


def queue_order(waiters: Iterable[Waiter]) -> list[Waiter]:
    """Longest wait first: earliest referral date first, equal dates by referral number."""
    return sorted(waiters, key=lambda w: (w.received_on, w.key))


def starts_per_week(starts: Iterable[date], *, today: date, weeks: int = FORECAST_WINDOW_WEEKS) -> float:
    """First treatment appointments a week: the starts dated in the ``weeks`` weeks up to and
    including ``today`` (after ``today − 7·weeks``), divided by ``weeks``."""
    if weeks < 1:
        raise WaitsError("the forecast window must be at least one week")
    since = today - timedelta(days=7 * weeks)
    return sum(1 for d in starts if since < d <= today) / weeks


@dataclass(frozen=True, slots=True)
class Clock:
    """One standard's clock for one waiting referral. ``forecast_breach`` is None when no start
    can be forecast for a reason other than the queue standing still (not yet triaged)."""

    standard: Standard
    ends_on: date
    breached: bool
    forecast_breach: bool | None


@dataclass(frozen=True, slots=True)
class Forecast:
    key: int
    received_on: date
    position: int
    waited: int
    expected_start: date | None
    clocks: tuple[Clock, ...]

    def clock(self, standard_id: str) -> Clock:
        return next(c for c in self.clocks if c.standard.id == standard_id)


def forecast(
    queue: Sequence[Waiter], *, rate: float | None, today: date, standards: Sequence[Standard] = NATIONAL_STANDARDS,
) -> list[Forecast]:
    """The forecast for every referral of one queue, in queue order (see the module docstring).

    ``rate`` is the queue's first treatment appointments a week (:func:`starts_per_week`); None
    when the referrals are in no queue yet (awaiting triage): their clocks run and may have
    breached, but no start date is forecast."""
    if rate is not None and (rate < 0 or not math.isfinite(rate)):
        raise WaitsError(f"a rate of starts must be a number of at least 0, not {rate}")
    out = []
    for position, waiter in enumerate(queue_order(queue), start=1):
        waited = max(0, (today - waiter.received_on).days)
        expected = today + timedelta(days=math.ceil(7 * position / rate)) if rate else None
        clocks = []
        for standard in standards:
            ends = standard.clock_ends(waiter.received_on)
            breached = today > ends
            if breached or rate == 0:
                predicted: bool | None = True
            elif expected is None:
                predicted = None
            else:
                predicted = expected > ends
            clocks.append(Clock(standard, ends, breached, predicted))
        out.append(Forecast(waiter.key, waiter.received_on, position, waited, expected, tuple(clocks)))
    return out


def week_of(day: date) -> date:
    """The Monday of ``day``'s week (ISO weeks)."""
    return day - timedelta(days=day.weekday())


def breaches_by_week(
    forecasts: Iterable[Forecast], standard_id: str, *, today: date, weeks: int,
) -> tuple[int, list[tuple[date, int]], int]:
    """Forecast breaches of one standard that have not happened yet, counted by the week (Monday)
    in which each clock runs out, for ``weeks`` weeks from this one: ``(already breached, [(week,
    count)], later)`` — ``later`` the forecast breaches whose clocks run out after those weeks."""
    first = week_of(today)
    weeks_list = [first + timedelta(days=7 * i) for i in range(weeks)]
    counts: Counter[date] = Counter()
    already = later = 0
    for f in forecasts:
        clock = f.clock(standard_id)
        if clock.breached:
            already += 1
        elif clock.forecast_breach:
            # The breach happens the day after the last day the standard allows.
            week = week_of(clock.ends_on + timedelta(days=1))
            if week in weeks_list:
                counts[week] += 1
            else:
                later += 1
    return already, [(w, counts[w]) for w in weeks_list], later
