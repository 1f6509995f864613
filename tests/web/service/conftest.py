"""Builders of referrals at each stage of the waiting list, through the actions (synthetic names).

There is no triage action yet (issue 13, part 3, in parallel): ``waiting(...)`` moves a received
referral to "waiting" with a step and therapy by an update, standing in for it. Assessment
contacts (no course, not treatment) are stored directly for the same reason.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.utils import timezone

from interpersonal.web.assessments.actions import record_measurement
from interpersonal.web.courses.actions import end_course, record_session, start_course
from interpersonal.web.patients.actions import register_patient
from interpersonal.web.referrals.models import Referral

_names = itertools.count(1)


def day(ago: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=ago)


def at(ago: int, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day(ago), dt.time(hour)))


def _patient(therapist: Any, received_ago: int, **details: Any) -> Any:
    n = next(_names)
    details.setdefault("address", f"{n} Example Road\nExampletown\nEX1 2MP")
    return register_patient(by=therapist, given_name=f"Wyn{n}", family_name=f"Waitwell{n}",
                            date_of_birth=dt.date(1980, 1, 1), received_on=day(received_ago), source="gp", **details)


def received(therapist: Any, *, received_ago: int, **details: Any) -> Referral:
    """A referral awaiting screening and triage."""
    return _patient(therapist, received_ago, **details).referrals.get()


def waiting(therapist: Any, *, received_ago: int, step: int = 3, therapy: str = "dit", **details: Any) -> Referral:
    """A referral triaged to a step and therapy, waiting for its first treatment."""
    referral = received(therapist, received_ago=received_ago, **details)
    Referral.objects.filter(pk=referral.pk).update(status=Referral.Status.WAITING, step=step, therapy=therapy)
    referral.refresh_from_db()
    return referral


def treated(therapist: Any, *, received_ago: int, sessions: tuple[int, ...], protocol: str = "dit",
            ended_ago: int | None = None, attendance: int = 5,
            scores: tuple[tuple[int, int], tuple[int, int]] | None = None) -> Referral:
    """A referral whose course started on its first session's day, with attended sessions ``sessions``
    days ago, ended (completed) ``ended_ago`` days ago if given. ``scores``: ((PHQ-9, GAD-7) at the
    first session, (PHQ-9, GAD-7) at the last)."""
    patient = _patient(therapist, received_ago)
    course = start_course(patient=patient, protocol=protocol, therapist=therapist, by=therapist,
                          started_on=day(max(sessions)))
    recorded = [record_session(course=course, by=therapist, attendance=attendance, duration_minutes=50,
                               scheduled_at=at(ago)) for ago in sorted(sessions, reverse=True)]
    if scores is not None:
        for session, (p, g) in ((recorded[0], scores[0]), (recorded[-1], scores[1])):
            for instrument, answers in (("phq9", phq9(p)), ("gad7", gad7(g))):
                record_measurement(course=course, instrument=instrument, answers=answers, by=therapist,
                                   session=session, recorded_at=session.scheduled_at)
    if ended_ago is not None:
        end_course(course=course, reason="completed", by=therapist, ended_on=day(ended_ago))
    return patient.referrals.get()


def phq9(total: int) -> dict[str, int]:
    """PHQ-9 answers with ``total`` spread over items 1–8 (item 9, self-harm, 0: no risk alert)."""
    items = [min(3, max(0, total - 3 * i)) for i in range(8)]
    return {**{str(i + 1): v for i, v in enumerate(items)}, "9": 0}


def gad7(total: int) -> dict[str, int]:
    return {str(i + 1): min(3, max(0, total - 3 * i)) for i in range(7)}


@pytest.fixture
def lead_client(client, service_lead):
    client.force_login(service_lead)
    return client


@pytest.fixture
def therapist_client(client, therapist):
    client.force_login(therapist)
    return client
