"""Fixtures for the referrals tests: referrals awaiting screening and triage (synthetic people only)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from interpersonal.web.referrals.models import Referral


@pytest.fixture
def referral(therapist) -> Referral:
    """A GP referral received ten days ago, allocated to ``therapist``: awaiting screening and triage."""
    from interpersonal.web.patients.actions import register_patient

    patient = register_patient(
        by=therapist, given_name="Nia", family_name="Newcomer", date_of_birth=dt.date(1992, 5, 17),
        received_on=timezone.localdate() - dt.timedelta(days=10), source="gp", problem_descriptor="F32",
        presenting_problem="Low mood since the winter.",
    )
    return patient.referrals.get()


@pytest.fixture
def unallocated(therapist) -> Referral:
    """A referral no clinician is allocated to yet (as a self-referral arrives): only clinicians who
    triage see it."""
    from interpersonal.web.patients.actions import register_patient

    patient = register_patient(
        by=therapist, given_name="Una", family_name="Allocated", date_of_birth=dt.date(1988, 2, 3),
        received_on=timezone.localdate() - dt.timedelta(days=3), source="self",
    )
    Referral.objects.filter(patient=patient).update(therapist=None)
    return patient.referrals.get()


@pytest.fixture(autouse=True)
def default_rules(request):
    """The seeded suitability rules (DOMAIN.md §6 defaults), for every test with a database."""
    names = request.fixturenames
    if "db" in names or "transactional_db" in names:
        from web.referrals.screening_helpers import ensure_default_rules

        request.getfixturevalue("transactional_db" if "transactional_db" in names else "db")
        ensure_default_rules()


@pytest.fixture
def triager(make_user_other_supervisor):
    """A clinician who works the referral inbox (TRIAGE_REFERRALS, held by supervisors) and is not
    ``therapist``'s supervisor: what they see, they see because they triage."""
    return make_user_other_supervisor
