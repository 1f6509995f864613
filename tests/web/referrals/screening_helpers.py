"""Helpers for the screening, suitability and triage tests (synthetic people only): answer sets
and short-hands that go through the actions. The fixtures are in conftest.py."""

from __future__ import annotations

import datetime as dt
import importlib

from django.apps import apps
from django.utils import timezone

PHQ9_ITEM9_ONE = {"1": 1, "2": 1, "3": 0, "4": 1, "5": 0, "6": 0, "7": 0, "8": 0, "9": 1}
"""PHQ-9 with item 9 (thoughts of self-harm) answered 1: total 4; raises a risk alert (DOMAIN.md §3)."""
PHQ9_CLEAN_15 = {"1": 2, "2": 2, "3": 2, "4": 2, "5": 2, "6": 2, "7": 2, "8": 1, "9": 0}
"""PHQ-9 total 15: NICE NG222 "less severe" (below 16)."""
PHQ9_CLEAN_16 = {"1": 2, "2": 2, "3": 2, "4": 2, "5": 2, "6": 2, "7": 2, "8": 2, "9": 0}
"""PHQ-9 total 16: NICE NG222 "more severe" (16 or more)."""
PHQ9_ITEM9_THREE = {"1": 3, "2": 3, "3": 2, "4": 2, "5": 1, "6": 2, "7": 1, "8": 0, "9": 3}
"""PHQ-9 with item 9 answered 3 (nearly every day): total 17."""
GAD7_ANSWERS = {"1": 1, "2": 1, "3": 1, "4": 0, "5": 0, "6": 1, "7": 0}



def contact(referral, by, **kw):
    """An attended assessment contact an hour ago."""
    from interpersonal.web.referrals.screening import record_assessment_contact

    fields = {"scheduled_at": timezone.now() - dt.timedelta(hours=1), "attendance": 5, "duration_minutes": 40} | kw
    return record_assessment_contact(referral=referral, by=by, **fields)


def screen(referral, by, answers, instrument="phq9"):
    """A screening measure entered by ``by`` at a new assessment contact."""
    from interpersonal.web.assessments.actions import record_measurement

    session = contact(referral, by)
    return record_measurement(referral=referral, instrument=instrument, answers=answers, by=by, session=session,
                              recorded_at=session.scheduled_at)


def suitable(referral, by, **kw):
    from interpersonal.web.referrals.screening import decide_suitability

    referral.refresh_from_db()
    fields = {"decision": "suitable", "reason": "Depression, no exclusions.", "clinician_risk": False,
              "under_secondary_care": False} | kw
    return decide_suitability(referral=referral, by=by, **fields)


def ensure_default_rules() -> None:
    """The suitability rules migration 0004 seeds, when the table is empty: a transactional test
    (the browser tests) empties every table when it ends, seeded rows included."""
    from interpersonal.web.referrals.models import SuitabilityRule

    if not SuitabilityRule.objects.exists():
        importlib.import_module("interpersonal.web.referrals.migrations.0004_suitability_rules").seed(apps, None)
