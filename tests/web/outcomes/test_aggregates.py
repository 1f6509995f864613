"""The dashboard's SQL aggregates over the summaries equal the core's report on the same data.

``aggregates.report`` / ``aggregates.funnel`` against ``service.report(from_database(), by="month")``
/ ``service.funnel`` (the CLI's and a notebook's path; DOMAIN.md §4, docs/outcomes.md) on a
synthetic service with referrals at every stage: every count identical, every rate and effect
size equal to rounding (the SDs come from sums of squares in SQL rather than from the scores).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from interpersonal.core.outcomes import service
from interpersonal.web.courses.management.commands import synth_service
from interpersonal.web.courses.management.synthetic import synthetic_nhs_numbers
from interpersonal.web.outcomes import aggregates, summaries
from interpersonal.web.outcomes.dataset import from_database, therapists
from interpersonal.web.outcomes.models import ReferralSummary

pytestmark = pytest.mark.django_db


def _same(core, ours, path="") -> list[str]:
    """Where two reports differ: exact for everything but floats, which agree to 1e-9."""
    if isinstance(core, dict):
        if set(core) != set(ours):
            return [f"{path}: keys {sorted(set(core) ^ set(ours))}"]
        return [d for k in core for d in _same(core[k], ours[k], f"{path}.{k}")]
    if isinstance(core, list):
        if len(core) != len(ours):
            return [f"{path}: {len(core)} rows != {len(ours)}"]
        return [d for i, (a, b) in enumerate(zip(core, ours, strict=True)) for d in _same(a, b, f"{path}[{i}]")]
    if isinstance(core, float) and isinstance(ours, float):
        return [] if math.isclose(core, ours, rel_tol=1e-9, abs_tol=1e-12) else [f"{path}: {core} != {ours}"]
    return [] if core == ours and type(core) is type(ours) else [f"{path}: {core!r} != {ours!r}"]


@pytest.fixture
def synthetic_service(db):
    call_command("synth_service", "--referrals", "400", "--seed", "5", "--therapists", "12", "--bench-caseloads", "",
                 stdout=io.StringIO(), stderr=io.StringIO())
    return ReferralSummary.objects.count()


def _periods():
    today = timezone.localdate()
    return [
        {}, {"therapy": "dit"}, {"therapy": "lit"}, {"provider": "Synthetic service"}, {"provider": "Nowhere"},
        {"since": today - dt.timedelta(days=365)},
        {"until": today - dt.timedelta(days=200)},
        {"since": today - dt.timedelta(days=300), "until": today - dt.timedelta(days=60), "therapy": "cbt"},
        {"since": today - dt.timedelta(days=45), "until": today - dt.timedelta(days=10)},
    ]


def test_the_synthetic_service_has_every_stage(synthetic_service):
    assert synthetic_service == 400
    assert ReferralSummary.objects.filter(courses=0, ended_on__isnull=True).exists()  # awaiting triage or waiting
    assert ReferralSummary.objects.filter(courses=0, ended_on__isnull=False).exists()  # discharged before treatment
    assert ReferralSummary.objects.filter(courses=2).exists()  # stepped up
    assert ReferralSummary.objects.filter(finished=True, paired=True).count() > 100


def test_dashboard_figures_equal_the_core_report_on_a_synthetic_service(synthetic_service):
    for filters in _periods():
        data = from_database(since=filters.get("since"), until=filters.get("until"))
        core = service.report(data, by="month", **filters)

        ours = aggregates.report(**filters)

        assert _same(core, ours) == [], filters
        assert core["overall"]["finished"] or filters.get("provider") == "Nowhere"  # the comparison compared something


def test_dashboard_figures_equal_the_core_report_for_one_therapist(synthetic_service):
    for therapist in therapists()[:3]:
        assert _same(service.report(from_database(), by="month", therapist=therapist),
                     aggregates.report(therapist=therapist)) == [], therapist


def test_funnel_equals_the_core_funnel_on_a_synthetic_service(synthetic_service):
    for filters in _periods():
        data = from_database(since=filters.get("since"), until=filters.get("until"))

        assert _same(service.funnel(data, **filters), aggregates.funnel(**filters)) == [], filters


def test_a_period_counts_the_contacts_of_referrals_that_straddle_it(synthetic_service):
    """Attendance counts contacts dated in the period: referrals whose contacts cross an end of the
    period are counted from their contacts, the rest from their stored counts."""
    today = timezone.localdate()
    filters = {"since": today - dt.timedelta(days=40), "until": today - dt.timedelta(days=20)}
    straddling = ReferralSummary.objects.filter(first_contact_on__lt=filters["since"],
                                                last_contact_on__gte=filters["since"])
    assert straddling.exists()

    core = service.report(from_database(**filters), **filters)["overall"]
    ours = aggregates.report(**filters)["overall"]

    assert (ours["treatment_contacts"], ours["attended_contacts"], ours["dna_contacts"]) == (
        core["treatment_contacts"], core["attended_contacts"], core["dna_contacts"])
    assert 0 < ours["treatment_contacts"] < aggregates.report()["overall"]["treatment_contacts"]


def test_the_dashboard_costs_the_same_queries_whatever_the_size_of_the_service(service_lead, client_for):
    """A handful of grouped queries, not one per referral, therapist or month."""
    client = client_for(service_lead)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("outcomes:dashboard"), {"since": "2025-01-01"}).status_code == 200
        return len(captured.captured_queries)

    call_command("synth_service", "--referrals", "40", "--seed", "2", "--bench-caseloads", "",
                 stdout=io.StringIO(), stderr=io.StringIO())
    small = queries()
    staff = list(get_user_model().objects.filter(username__startswith="synth-t").values_list("pk", flat=True))
    more = synth_service._Loader(random.Random(3), staff, [])  # noqa: S311 - synthetic data
    more.nhs = synthetic_nhs_numbers(synth_service.NHS_START + 1000)
    more.load(range(40, 400))  # 360 more referrals
    summaries.rebuild()

    assert ReferralSummary.objects.count() == 400
    assert queries() == small
