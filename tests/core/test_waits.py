"""Waiting-time clocks, standards and breach forecasts (interpersonal.core.waits).

The standards are NHS England's referral-to-treatment standards for NHS Talking Therapies (IAPT
Waiting Times Guidance and FAQs, 20 February 2015; england.nhs.uk/mental-health/resources/
access-waiting-time; DOMAIN.md §4, §6 [V]): 75% of referrals finishing a course of treatment waited
at most 6 weeks from referral to first attended treatment, 95% at most 18 weeks. Hand-made cases
with known answers first, then simulated services whose truth is known by construction.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import pytest

from interpersonal.core import waits
from interpersonal.core.waits import NATIONAL_STANDARDS, Standard, Waiter, WaitsError

SIX, EIGHTEEN = NATIONAL_STANDARDS
MONDAY = date(2026, 3, 2)


# --- the standards -------------------------------------------------------------------------------


def test_national_standards_are_75_percent_in_6_weeks_and_95_percent_in_18_weeks():
    # NHS England, IAPT Waiting Times Guidance and FAQs (2015): 75% within 6 weeks, 95% within 18 weeks.
    assert (SIX.weeks, SIX.target, SIX.days) == (6, 0.75, 42)
    assert (EIGHTEEN.weeks, EIGHTEEN.target, EIGHTEEN.days) == (18, 0.95, 126)
    assert SIX.since == EIGHTEEN.since == date(2015, 4, 1)  # introduced in 2015/16
    assert all(s.confirmed and "NHS England" in s.source for s in NATIONAL_STANDARDS)


def test_day_42_is_within_six_weeks_and_day_43_is_not():
    assert SIX.met_by(42)
    assert not SIX.met_by(43)
    assert EIGHTEEN.met_by(126)
    assert not EIGHTEEN.met_by(127)


def test_clock_ends_on_the_last_day_that_meets_the_standard():
    received = date(2026, 1, 5)

    assert SIX.clock_ends(received) == date(2026, 2, 16)
    assert waits.days_waited(received, SIX.clock_ends(received)) == 42
    assert EIGHTEEN.clock_ends(received) == date(2026, 5, 11)


def test_a_first_treatment_before_the_referral_date_is_an_error():
    with pytest.raises(WaitsError, match="before the referral date"):
        waits.days_waited(date(2026, 1, 5), date(2026, 1, 4))


def test_standards_from_the_setting_default_are_the_national_ones():
    assert waits.standards_from_setting("6:75,18:95") == NATIONAL_STANDARDS
    assert waits.standards_from_setting(" 18:95 , 6:75 ") == NATIONAL_STANDARDS  # any order, spaces


def test_a_services_own_target_is_marked_as_its_setting():
    six, eighteen = waits.standards_from_setting("6:80,18:95")

    assert (six.weeks, six.target, six.confirmed, six.since) == (6, 0.8, False, None)
    assert "setting" in six.source
    assert eighteen is EIGHTEEN


@pytest.mark.parametrize("text", ["", "6", "6:", "six:75", "6:seventy", "6:75,6:80", "0:75", "6:0", "6:101",
                                  "6:nan", "6:inf", "200:75"])
def test_a_malformed_standards_setting_is_refused(text):
    with pytest.raises(WaitsError):
        waits.standards_from_setting(text)


# --- performance -------------------------------------------------------------------------------


def test_performance_counts_waits_within_each_standard():
    finished = [0, 10, 42, 43, 100, 126, 127, 200]

    six, eighteen = (waits.performance(finished, s) for s in NATIONAL_STANDARDS)

    assert (six.finished, six.within, six.rate, six.meets_target) == (8, 3, 0.375, False)
    assert (eighteen.within, eighteen.rate, eighteen.meets_target) == (6, 0.75, False)


def test_performance_meets_the_target_at_exactly_the_target():
    perf = waits.performance([10, 20, 30, 50], SIX)  # 3 of 4 = 75%

    assert perf.rate == 0.75
    assert perf.meets_target is True


def test_no_finished_referral_gives_no_rate():
    perf = waits.performance([], SIX)

    assert (perf.finished, perf.rate, perf.meets_target) == (0, None, None)


def test_second_waits_median_nearest_rank_p90_and_counts_over_thresholds():
    summary = waits.second_waits([30, 7, 95, 21, 14])

    assert summary.count == 5
    assert summary.median == 21
    assert summary.p90 == 95  # nearest rank: ceil(0.9 × 5) = 5th smallest
    assert summary.over == ((28, 2), (90, 1))


def test_second_waits_of_nobody():
    assert waits.second_waits([]) == waits.SecondWaits(0, None, None, ((28, 0), (90, 0)))


# --- the queue and the forecast ----------------------------------------------------------------


def test_queue_is_longest_wait_first_and_equal_dates_by_referral_number():
    queue = [Waiter(9, date(2026, 1, 10)), Waiter(3, date(2026, 1, 12)), Waiter(5, date(2026, 1, 10))]

    assert [w.key for w in waits.queue_order(queue)] == [5, 9, 3]


def test_starts_per_week_counts_the_twelve_weeks_up_to_today():
    today = MONDAY
    starts = [today - timedelta(days=84), today - timedelta(days=83), today - timedelta(days=1), today,
              today + timedelta(days=1)]

    assert waits.starts_per_week(starts, today=today) == 3 / 12


def test_forecast_positions_expected_starts_and_breaches():
    today = MONDAY
    queue = [
        Waiter(1, today - timedelta(days=41)),   # 6-week clock ends tomorrow
        Waiter(2, today - timedelta(days=36)),   # ends in 6 days
        Waiter(3, today - timedelta(days=50)),   # 6 weeks already breached
        Waiter(4, today - timedelta(days=3)),
    ]

    result = waits.forecast(queue, rate=2.0, today=today)

    assert [f.key for f in result] == [3, 1, 2, 4]
    assert [f.position for f in result] == [1, 2, 3, 4]
    # At 2 starts a week the k-th starts ceil(7k / 2) days from today: 4, 7, 11, 14.
    assert [(f.expected_start - today).days for f in result] == [4, 7, 11, 14]
    six = [f.clock("6_weeks") for f in result]
    assert [c.breached for c in six] == [True, False, False, False]
    assert [c.forecast_breach for c in six] == [True, True, True, False]
    assert result[1].waited == 41
    assert all(not f.clock("18_weeks").forecast_breach for f in result)


def test_a_queue_with_no_starts_is_forecast_to_breach_entirely():
    result = waits.forecast([Waiter(1, MONDAY), Waiter(2, MONDAY)], rate=0.0, today=MONDAY)

    assert all(f.expected_start is None for f in result)
    assert all(c.forecast_breach is True and not c.breached for f in result for c in f.clocks)


def test_referrals_in_no_queue_show_breaches_but_no_forecast():
    result = waits.forecast([Waiter(1, MONDAY - timedelta(days=43)), Waiter(2, MONDAY)], rate=None, today=MONDAY)

    assert [f.clock("6_weeks").forecast_breach for f in result] == [True, None]
    assert [f.clock("6_weeks").breached for f in result] == [True, False]


@pytest.mark.parametrize("rate", [-1.0, math.inf, math.nan])
def test_an_impossible_rate_is_refused(rate):
    with pytest.raises(WaitsError):
        waits.forecast([Waiter(1, MONDAY)], rate=rate, today=MONDAY)


def test_breaches_by_week_count_each_forecast_breach_in_the_week_its_clock_runs_out():
    today = MONDAY  # a Monday: this week is 2 to 8 March
    queue = [
        Waiter(1, today - timedelta(days=50)),   # already breached
        Waiter(2, today - timedelta(days=40)),   # last day Wed 4 March: breaches Thu, this week
        Waiter(3, today - timedelta(days=36)),   # last day Sun 8 March: breaches Mon 9, next week
        Waiter(4, today - timedelta(days=35)),   # last day Mon 9 March: next week
        Waiter(5, today - timedelta(days=1)),    # last day 12 April: after the 3 weeks shown
    ]

    forecasts = waits.forecast(queue, rate=0.0, today=today)
    already, by_week, later = waits.breaches_by_week(forecasts, "6_weeks", today=today, weeks=3)

    assert already == 1
    assert by_week == [(date(2026, 3, 2), 1), (date(2026, 3, 9), 2), (date(2026, 3, 16), 0)]
    assert later == 1


def test_week_of_is_the_monday():
    assert waits.week_of(date(2026, 3, 8)) == date(2026, 3, 2)  # a Sunday
    assert waits.week_of(MONDAY) == MONDAY


def test_standard_refuses_impossible_values():
    with pytest.raises(WaitsError):
        Standard("x", 0, 0.5, since=None, source="")
    with pytest.raises(WaitsError):
        Standard("x", 6, 1.5, since=None, source="")


# --- simulated services with a known truth --------------------------------------------------------


def test_performance_on_simulated_waits_matches_the_distribution_they_were_drawn_from():
    """20 000 referrals whose waits are uniform on 0–167 days: P(≤ 42) = 43/168 and P(≤ 126) = 127/168
    exactly, by construction; the counts also match a brute-force count."""
    rng = random.Random(13)  # noqa: S311 - a reproducible simulation, not a secret
    waited = [rng.randrange(0, 168) for _ in range(20_000)]

    six, eighteen = (waits.performance(waited, s) for s in NATIONAL_STANDARDS)

    assert six.within == sum(1 for w in waited if w <= 42)
    assert eighteen.within == sum(1 for w in waited if w <= 126)
    assert six.rate == pytest.approx(43 / 168, abs=0.01)
    assert eighteen.rate == pytest.approx(127 / 168, abs=0.01)


def _simulate(*, seed: int, starts_on: tuple[int, ...], arrivals_per_day: float, days: int):
    """A service whose queue is served strictly longest wait first, with one start on each weekday in
    ``starts_on`` (0 = Monday) every week. Returns (referral date, start date or None) per referral."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret
    day0 = date(2025, 1, 6)  # a Monday
    received: list[date] = []
    started: dict[int, date] = {}
    waiting: list[int] = []
    for n in range(days):
        today = day0 + timedelta(days=n)
        for _ in range(sum(1 for _ in range(8) if rng.random() < arrivals_per_day / 8)):
            received.append(today)
            waiting.append(len(received) - 1)
        if today.weekday() in starts_on and waiting:
            started[waiting.pop(0)] = today  # the next in line (arrived first) starts
    return day0, received, started


def test_forecast_matches_a_simulated_service_served_at_a_steady_rate():
    """Known truth: the service starts exactly three referrals a week (Monday, Wednesday, Friday),
    longest wait first, while more arrive than it starts. On day 500 we forecast from the last 12 weeks' starts,
    then run the service on and compare each referral's forecast with the day it really started."""
    day0, received, started = _simulate(seed=7, starts_on=(0, 2, 4), arrivals_per_day=0.55, days=900)
    today = day0 + timedelta(days=500)
    starts = [d for d in started.values() if d <= today]
    queue = [Waiter(i, received[i]) for i in range(len(received))
             if received[i] <= today and not (i in started and started[i] <= today)]
    rate = waits.starts_per_week(starts, today=today)
    assert rate == 3.0
    assert len(queue) > 60  # a long queue: the forecast reaches months ahead

    result = waits.forecast(queue, rate=rate, today=today)

    errors = [abs((f.expected_start - started[f.key]).days) for f in result if f.key in started]
    assert len(errors) == len(result)  # everyone waiting on day 500 has started by day 900
    assert max(errors) <= 3  # within half a week of the real day, however far ahead
    for standard in NATIONAL_STANDARDS:
        for f in result:
            clock = f.clock(standard.id)
            truly_breaches = started[f.key] > clock.ends_on
            if abs((started[f.key] - clock.ends_on).days) > 3:  # away from the boundary, always right
                assert clock.forecast_breach == truly_breaches, (f, standard.id)


def test_forecast_breach_counts_by_week_match_the_simulated_truth():
    """A service that falls behind: the forecast count of 18-week breaches in each of the next 12
    weeks equals the true count, give or take the referrals within three days of their clock's end."""
    day0, received, started = _simulate(seed=11, starts_on=(0, 2, 4), arrivals_per_day=0.55, days=900)
    today = day0 + timedelta(days=500)
    queue = [Waiter(i, received[i]) for i in range(len(received))
             if received[i] <= today and not (i in started and started[i] <= today)]
    rate = waits.starts_per_week([d for d in started.values() if d <= today], today=today)
    forecasts = waits.forecast(queue, rate=rate, today=today)
    _, by_week, _ = waits.breaches_by_week(forecasts, "18_weeks", today=today, weeks=12)

    true_by_week: dict[date, int] = {}
    near = 0
    for f in forecasts:
        clock = f.clock("18_weeks")
        if clock.breached:
            continue
        start = started[f.key]
        near += abs((start - clock.ends_on).days) <= 3
        if start > clock.ends_on:
            week = waits.week_of(clock.ends_on + timedelta(days=1))
            true_by_week[week] = true_by_week.get(week, 0) + 1
    assert sum(n for _, n in by_week) >= 5  # the queue is behind: breaches are coming
    mismatch = sum(abs(n - true_by_week.get(week, 0)) for week, n in by_week)
    assert mismatch <= near
