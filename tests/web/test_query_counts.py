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
from tests.web.courses.test_views import GAD7_OK, PHQ9_OK


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


# -- the course page and recording a session (issue 14) -------------------------------------

def course_with_sessions(therapist, patient_course, sessions: int) -> None:
    """``sessions`` more attended sessions of ``patient_course``, each with a PHQ-9 and a GAD-7."""
    start = timezone.make_aware(dt.datetime.combine(patient_course.started_on, dt.time(9)))
    already = patient_course.sessions.count()
    for n in range(already, already + sessions):
        session = record_session(course=patient_course, by=therapist, attendance=5, duration_minutes=50,
                                 scheduled_at=start + dt.timedelta(hours=30 * n))
        record_measurement(course=patient_course, instrument="phq9", session=session, by=therapist,
                           recorded_at=session.scheduled_at, answers={str(i): n % 4 for i in range(1, 10)} | {"9": 0})
        record_measurement(course=patient_course, instrument="gad7", session=session, by=therapist,
                           recorded_at=session.scheduled_at, answers={str(i): 1 for i in range(1, 8)})


def test_course_page_queries_do_not_grow_with_its_sessions_and_measures(therapist, dit_course, capsys):
    client = Client()
    client.force_login(therapist)
    path = reverse("courses:detail", args=[dit_course.pk])
    course_with_sessions(therapist, dit_course, 2)
    client.get(path)  # warm caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(path).status_code == 200
    course_with_sessions(therapist, dit_course, 18)
    with CaptureQueriesContext(connection) as many:
        response = client.get(path + "?sessions=all")
    assert response.status_code == 200
    assert len(response.context["summary"].sessions) == 20

    with capsys.disabled():
        print(f"\ncourse page queries: 2 sessions -> {len(few)}, 20 sessions -> {len(many)}")
    assert len(few) == len(many)
    sql = " ".join(q["sql"] for q in many.captured_queries)
    assert "courses_sessioncorrection" not in sql  # nothing corrected: the history is not read
    assert "assessments_measurementcorrection" not in sql


def test_recording_a_session_with_two_measures_refreshes_its_summary_once_and_seals_once(
    transactional_db, therapist, dit_course,
):
    """Real commits (transactional_db): the audit chain's seal runs after each one (ADR 0004)."""
    from interpersonal.web.outcomes import summaries
    from interpersonal.web.outcomes.models import ReferralSummary

    client = Client()
    client.force_login(therapist)
    course_with_sessions(therapist, dit_course, 1)
    when = timezone.localtime() - dt.timedelta(hours=2)
    data = {"date": when.date().isoformat(), "time": when.strftime("%H:%M"), "attendance": "5",
            "duration_minutes": "50", "medium": "face_to_face"}
    data |= PHQ9_OK | GAD7_OK
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(reverse("courses:record_session", args=[dit_course.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]

    statements = [q["sql"] for q in ctx.captured_queries]
    assert sum("INSERT INTO \"outcomes_referralsummary\"" in s for s in statements) == 1
    assert sum(s.startswith("UPDATE \"audit_auditevent\"") for s in statements) == 1  # one seal
    kept = ReferralSummary.objects.values().get(referral_id=dit_course.referral_id)
    summaries.refresh(dit_course.referral_id)  # what a refresh from scratch gives: the same
    again = ReferralSummary.objects.values().get(referral_id=dit_course.referral_id)
    assert {k: v for k, v in kept.items() if k != "refreshed_at"} == \
        {k: v for k, v in again.items() if k != "refreshed_at"}
    assert kept["attended_treatment"] == 2
