"""The caseload page costs the same number of queries for 10 courses as for 40."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.assessments.actions import record_measurement
from interpersonal.web.courses.actions import record_session, start_course
from interpersonal.web.patients.actions import register_patient


def build_caseload(therapist, count: int, *, first: int = 0) -> None:
    """``count`` active DIT courses, each with two attended sessions, one booked, two PHQ-9s
    and two GAD-7s; every third course has an open risk alert."""
    now = timezone.now()
    for n in range(first, first + count):
        patient = register_patient(
            by=therapist, given_name=f"Synth{n:02d}", family_name=f"Caseload{n:02d}", date_of_birth=dt.date(1980, 1, 1),
            received_on=timezone.localdate() - dt.timedelta(days=90), source="gp",
        )
        course = start_course(patient=patient, protocol="dit", therapist=therapist, by=therapist,
                              started_on=timezone.localdate() - dt.timedelta(days=30))
        for weeks_ago, phq9_item9 in ((2, 0), (1, 1 if n % 3 == 0 else 0)):
            session = record_session(course=course, by=therapist, attendance=5, duration_minutes=50,
                                     scheduled_at=now - dt.timedelta(weeks=weeks_ago))
            record_measurement(course=course, instrument="phq9", session=session, by=therapist,
                               recorded_at=session.scheduled_at,
                               answers={"1": 2, "2": 1 + weeks_ago % 2, "3": 1, "4": 1, "5": 0, "6": 1, "7": 0, "8": 0,
                                        "9": phq9_item9})
            record_measurement(course=course, instrument="gad7", session=session, by=therapist,
                               recorded_at=session.scheduled_at,
                               answers={"1": 1, "2": weeks_ago, "3": 1, "4": 0, "5": 0, "6": 1, "7": 0})
        record_session(course=course, by=therapist, attendance=None, scheduled_at=now + dt.timedelta(days=3 + n % 5))


def count_queries(client: Client, path: str, expected_rows: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    assert len(response.context["rows"]) + len(response.context["supervised"]) == expected_rows
    return len(ctx.captured_queries)


@pytest.fixture
def caseload_path() -> str:
    return reverse("courses:caseload")


def test_caseload_queries_do_not_grow_with_the_caseload(therapist, caseload_path, capsys):
    client = Client()
    client.force_login(therapist)
    build_caseload(therapist, 10)
    client.get(caseload_path)  # warm caches (content types, protocol and measure catalogues)
    ten = count_queries(client, caseload_path, 10)

    build_caseload(therapist, 30, first=10)
    forty = count_queries(client, caseload_path, 40)

    with capsys.disabled():
        print(f"\ncaseload page queries: 10 courses -> {ten}, 40 courses -> {forty}")
    assert ten == forty


def test_supervisors_caseload_queries_do_not_grow_with_supervisees_courses(therapist, supervisor, caseload_path, capsys):
    client = Client()
    client.force_login(supervisor)
    build_caseload(therapist, 10)
    client.get(caseload_path)
    ten = count_queries(client, caseload_path, 10)

    build_caseload(therapist, 30, first=10)
    forty = count_queries(client, caseload_path, 40)

    with capsys.disabled():
        print(f"\nsupervisor caseload page queries: 10 supervisee courses -> {ten}, 40 -> {forty}")
    assert ten == forty


def test_caseload_shows_open_alerts_first(therapist, caseload_path):
    client = Client()
    client.force_login(therapist)
    build_caseload(therapist, 6)

    rows = client.get(caseload_path).context["rows"]

    flags = [row.open_alerts > 0 for row in rows]
    assert flags == sorted(flags, reverse=True)
    assert sum(flags) == 2
    assert all(row.attended == 2 for row in rows)
