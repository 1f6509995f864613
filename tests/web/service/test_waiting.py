"""The waiting list read from the database: clocks, standards, queues, forecasts (service.waiting).

Standards: NHS England, IAPT Waiting Times Guidance and FAQs (2015) — 75% of referrals finishing a
course of treatment waited at most 6 weeks from referral to first attended treatment, 95% at most
18 weeks (DOMAIN.md §4, §6 [V]). Every expected number below is worked out by hand from the fixture.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone

from interpersonal.core import waits
from interpersonal.web.courses.models import TherapySession
from interpersonal.web.service import waiting
from web.service.conftest import at, day, received, treated
from web.service.conftest import waiting as waiting_referral

pytestmark = pytest.mark.django_db


def _year(today=None):
    return waiting.performance(today=today)[1]


def test_finished_referrals_waits_and_the_two_standards(therapist):
    # First waits 10, 42, 43 and 130 days; second waits 7, 30, 95 and 14 days.
    treated(therapist, received_ago=200, sessions=(190, 183), ended_ago=100)
    treated(therapist, received_ago=250, sessions=(208, 178), ended_ago=90)
    treated(therapist, received_ago=300, sessions=(257, 162), ended_ago=80)
    treated(therapist, received_ago=330, sessions=(200, 186), ended_ago=70)

    year = _year()

    assert year.finished == 4
    six, eighteen = year.standards
    assert (six.within, six.finished, six.rate, six.meets_target) == (2, 4, 0.5, False)  # 10 and 42 days
    assert (eighteen.within, eighteen.rate, eighteen.meets_target) == (3, 0.75, False)  # all but 130 days
    assert year.second.count == 4
    assert year.second.median == (14 + 30) / 2
    assert year.second.over == ((28, 2), (90, 1))


def test_a_referral_with_one_attended_treatment_session_has_not_finished(therapist):
    treated(therapist, received_ago=100, sessions=(90,), ended_ago=80)

    assert _year().finished == 0


def test_open_referrals_and_referrals_ended_over_a_year_ago_are_not_counted(therapist):
    treated(therapist, received_ago=500, sessions=(480, 470), ended_ago=400)
    treated(therapist, received_ago=60, sessions=(50, 40))  # still in treatment

    assert _year().finished == 0


def test_an_assessment_contact_does_not_stop_the_clock(therapist):
    """A contact with no course is not treatment: the clock runs to the first treatment session."""
    referral = treated(therapist, received_ago=120, sessions=(60, 50), ended_ago=40)
    TherapySession.objects.create(referral=referral, course=None, treatment=False, attendance=5, scheduled_at=at(115))

    six, _ = _year().standards

    assert (six.finished, six.within) == (1, 0)  # 60 days, not 5


def test_did_not_attend_does_not_stop_the_clock(therapist):
    referral = treated(therapist, received_ago=100, sessions=(50, 40), ended_ago=30)
    course = referral.courses.get()
    TherapySession.objects.create(referral=referral, course=course, treatment=True, attendance=3, scheduled_at=at(95))

    six, _ = _year().standards

    assert six.within == 0  # the first *attended* treatment was 50 days after referral


def test_performance_by_therapy(therapist):
    treated(therapist, received_ago=100, sessions=(90, 80), ended_ago=70, protocol="dit")
    treated(therapist, received_ago=100, sessions=(40, 30), ended_ago=20, protocol="ipt")

    by = {therapy: perfs for therapy, _name, perfs in _year().by_therapy}

    assert by["dit"][0].within == 1
    assert by["ipt"][0].within == 0


def test_this_month_counts_only_referrals_ending_this_month(therapist):
    treated(therapist, received_ago=40, sessions=(30, 20), ended_ago=0)
    this_month, year = waiting.performance()

    assert this_month.finished == 1
    assert this_month.since == timezone.localdate().replace(day=1)
    assert year.finished == 1


def test_simulated_service_matches_a_brute_force_count(therapist):
    """Known truth: 40 referrals with waits drawn at random (seeded); the page's figures equal a
    count of the waits the fixture drew."""
    rng = random.Random(42)  # noqa: S311 - a reproducible simulation, not a secret
    drawn = []
    for _ in range(40):
        wait, gap = rng.randrange(0, 160), rng.randrange(1, 60)
        first = 300 - wait
        treated(therapist, received_ago=300, sessions=(first, first - gap), ended_ago=first - gap - 1)
        drawn.append((wait, gap))

    year = _year()

    assert year.finished == 40
    for perf in year.standards:
        assert perf.within == sum(1 for w, _ in drawn if w <= perf.standard.days)
    assert year.second.count == 40
    assert year.second.over == tuple((t, sum(1 for _, g in drawn if g > t)) for t in waits.SECOND_WAIT_THRESHOLDS)


# --- queues and forecasts -------------------------------------------------------------------------


def test_queue_order_rate_and_forecast(therapist):
    # Three first treatments from the DIT queue in the last 12 weeks: 0.25 a week.
    for first in (10, 20, 30):
        treated(therapist, received_ago=first + 20, sessions=(first,))
    late = waiting_referral(therapist, received_ago=50)
    tie_a = waiting_referral(therapist, received_ago=30)
    tie_b = waiting_referral(therapist, received_ago=30)
    today = timezone.localdate()

    [dit] = [q for q in waiting.queues(today=today) if q.slug == "3-dit"]

    assert dit.rate == 0.25
    assert [r.referral_id for r in dit.rows] == [late.pk, tie_a.pk, tie_b.pk]  # longest first, then by number
    # At 0.25 a week, position k starts after 28·k days.
    assert [(r.forecast.expected_start - today).days for r in dit.rows] == [28, 56, 84]
    six = [r.forecast.clock("6_weeks") for r in dit.rows]
    assert [c.breached for c in six] == [True, False, False]  # 50 days > 42
    assert [c.forecast_breach for c in six] == [True, True, True]  # clocks end in 12 days
    eighteen = [r.forecast.clock("18_weeks") for r in dit.rows]
    assert [c.ends_on for c in eighteen] == [day(50 - 126), day(30 - 126), day(30 - 126)]
    assert [c.forecast_breach for c in eighteen] == [False, False, False]  # 28/56/84 days, clocks end in 76/96/96
    assert dit.breached("6_weeks") == 1
    assert dit.forecast_breach("6_weeks") == 2


def test_a_queue_that_gave_no_first_treatment_is_forecast_to_breach(therapist):
    waiting_referral(therapist, received_ago=3, therapy="ipt")

    [ipt] = [q for q in waiting.queues() if q.slug == "3-ipt"]

    assert ipt.rate == 0.0
    assert ipt.rows[0].forecast.expected_start is None
    assert ipt.forecast_breach("6_weeks") == 1


def test_referrals_awaiting_triage_have_clocks_but_no_forecast(therapist):
    received(therapist, received_ago=45)

    [triage] = [q for q in waiting.queues() if q.slug == waiting.TRIAGE]

    assert triage.rate is None
    clock = triage.rows[0].forecast.clock("6_weeks")
    assert (clock.breached, triage.rows[0].forecast.expected_start) == (True, None)


def test_the_hidden_wait_lists_referrals_waiting_for_their_second_treatment(therapist):
    one = treated(therapist, received_ago=60, sessions=(40,))
    treated(therapist, received_ago=60, sessions=(40, 30))  # has had its second

    [second] = [q for q in waiting.queues() if q.slug == waiting.SECOND]

    assert [r.referral_id for r in second.rows] == [one.pk]
    assert second.rows[0].second_wait == 40


def test_breaches_by_week_for_the_whole_service(therapist):
    waiting_referral(therapist, received_ago=50)  # 6 weeks breached already
    waiting_referral(therapist, received_ago=40)  # no starts: breaches in two days
    today = timezone.localdate()

    six, eighteen = waiting.breach_forecast_by_week(waiting.queues(today=today), today=today, weeks=12)

    assert six["already"] == 1
    assert sum(n for _, n in six["by_week"]) + six["later"] == 1
    assert eighteen["already"] == 0
    assert eighteen["total"] == 2  # nothing moves in this queue


def test_only_filters_rows_but_keeps_the_place_in_the_whole_queue(therapist, unrelated_therapist):
    waiting_referral(unrelated_therapist, received_ago=80)
    mine = waiting_referral(therapist, received_ago=20)

    [dit] = waiting.queues(only=[mine.pk])

    assert [(r.referral_id, r.forecast.position) for r in dit.rows] == [(mine.pk, 2)]


def test_a_service_setting_changes_the_standards(settings, therapist):
    settings.INTERPERSONAL_WAIT_STANDARDS = "4:80,18:95"
    treated(therapist, received_ago=100, sessions=(70, 60), ended_ago=50)  # waited 30 days

    four, _eighteen = _year().standards

    assert (four.standard.weeks, four.standard.confirmed, four.within) == (4, False, 0)


def test_the_queues_take_a_fixed_number_of_queries(therapist, django_assert_max_num_queries):
    for n in range(12):
        waiting_referral(therapist, received_ago=10 + n)
        treated(therapist, received_ago=60 + n, sessions=(30 + n,))

    with django_assert_max_num_queries(3):
        waiting.queues()


def test_months_before_clamps_the_day():
    assert waiting._months_before(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert waiting._months_before(dt.date(2026, 3, 15), 12) == dt.date(2025, 3, 15)
