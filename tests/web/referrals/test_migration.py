"""The referral migrations on a populated database: nothing is lost, going forward or back.

The database is taken back to the state just before the referrals existed (patients 0002,
courses 0002, assessments 0004, questionnaires 0002), filled through the HISTORICAL models with
the shapes real services hold (a patient with no course, one ended course, an active one, a
guided self-help course stepped up to IPT with and without its ``stepped_from`` link, a step-up
with nothing after it, a re-referred patient, two with dates the old forms never checked),
with sessions, measures, risk alerts (open and acknowledged) and questionnaire links; migrated to
the latest state and checked against the rules in the docstring of
referrals/migrations/0002_referrals_from_existing_courses.py; then migrated back.

Each migration takes seconds, so the journey runs once per module (``journey``) and records what
the database held at each stage as plain values; the tests assert on those. It runs on SQLite
and, in the PostgreSQL pass of ``make test`` (tests/web with DATABASE_URL), on PostgreSQL, and it
always leaves the test database at the latest migrations and empty, as a transactional test does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE_REFERRALS = [
    ("patients", "0002_phone_numbers_e164"),
    ("courses", "0002_one_active_course_per_patient"),
    ("assessments", "0004_risk_alert_left_open"),
    ("questionnaires", "0002_one_scheduled_link_per_session"),
]
TZ = dt.UTC


def _executor() -> MigrationExecutor:
    return MigrationExecutor(connection)  # reads the applied migrations afresh


def _migrate(targets: list[tuple[str, str | None]]) -> Any:
    """Migrate to ``targets``; the models (apps) of the state reached."""
    _executor().migrate(targets)
    return _executor().loader.project_state([t for t in targets if t[1] is not None]).apps


def _latest() -> list[tuple[str, str | None]]:
    return _executor().loader.graph.leaf_nodes()


@dataclass(frozen=True)
class Expected:
    """One referral the migration must make: its fields and the labels of its courses, in order of start."""

    received_on: dt.date
    source: str
    status: str
    ended_on: dt.date | None
    end_reason: str
    therapy: str
    step: int | None
    courses: tuple[str, ...]  # the course labels of the case, in order of start


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# Each case: the patient's referral date and source, their courses (label, protocol, started, status,
# ended, end reason, the label of the course it is stepped from), and the referrals expected.
CASES: dict[str, dict[str, Any]] = {
    "no-course": {
        "referral": (d("2026-10-05"), "self"), "courses": [],
        "expected": [Expected(d("2026-10-05"), "self", "awaiting_triage", None, "", "", None, ())],
    },
    "one-ended": {
        "referral": (d("2025-03-01"), "gp"),
        "courses": [("dit", "dit", d("2025-03-20"), "ended", d("2025-07-10"), "completed", None)],
        "expected": [Expected(d("2025-03-01"), "gp", "discharged", d("2025-07-10"), "completed", "dit", 3, ("dit",))],
    },
    "one-active": {
        "referral": (d("2026-06-01"), "primary_care"),
        "courses": [("ipt", "ipt", d("2026-06-20"), "active", None, "", None)],
        "expected": [Expected(d("2026-06-01"), "primary_care", "in_treatment", None, "", "ipt", 3, ("ipt",))],
    },
    "stepped-up-linked": {
        "referral": (d("2026-01-10"), "gp"),
        "courses": [("lit", "lit", d("2026-02-01"), "ended", d("2026-03-15"), "stepped_up", None),
                    ("ipt", "ipt", d("2026-03-15"), "active", None, "", "lit")],
        "expected": [Expected(d("2026-01-10"), "gp", "in_treatment", None, "", "ipt", 3, ("lit", "ipt"))],
    },
    "stepped-up-unlinked": {
        "referral": (d("2025-02-01"), "self"),
        "courses": [("lit", "lit", d("2025-02-20"), "ended", d("2025-05-01"), "stepped_up", None),
                    ("dit", "dit", d("2025-05-20"), "ended", d("2025-08-01"), "dropped_out", None)],
        "expected": [Expected(d("2025-02-01"), "self", "discharged", d("2025-08-01"), "dropped_out", "dit", 3,
                              ("lit", "dit"))],
    },
    "stepped-up-waiting": {
        "referral": (d("2026-07-01"), "gp"),
        "courses": [("lit", "lit", d("2026-07-15"), "ended", d("2026-10-01"), "stepped_up", None)],
        # Waiting for step 3; the therapy is not chosen yet.
        "expected": [Expected(d("2026-07-01"), "gp", "waiting", None, "", "", 3, ("lit",))],
    },
    "stepped-down-waiting": {
        "referral": (d("2026-04-01"), "other"),
        "courses": [("cbt", "cbt", d("2026-04-20"), "ended", d("2026-06-01"), "stepped_down", None)],
        "expected": [Expected(d("2026-04-01"), "other", "waiting", None, "", "", 2, ("cbt",))],
    },
    "re-referred": {
        # Referred in 2024, treated, discharged; back in 2025 (the old model had one referral date).
        "referral": (d("2024-01-10"), "gp"),
        "courses": [("cbt", "cbt", d("2024-02-01"), "ended", d("2024-05-01"), "completed", None),
                    ("ipt", "ipt", d("2025-09-01"), "active", None, "", None)],
        "expected": [
            Expected(d("2024-01-10"), "gp", "discharged", d("2024-05-01"), "completed", "cbt", 3, ("cbt",)),
            Expected(d("2025-09-01"), "gp", "in_treatment", None, "", "ipt", 3, ("ipt",)),
        ],
    },
    "referral-date-after-course-start": {
        # The old forms never checked the referral date against the courses. A referral cannot be
        # received after its treatment started: the date becomes the course's start, both ways.
        "referral": (d("2026-05-10"), "gp"), "restored": (d("2026-05-01"), "gp"),
        "courses": [("dit", "dit", d("2026-05-01"), "active", None, "", None)],
        "expected": [Expected(d("2026-05-01"), "gp", "in_treatment", None, "", "dit", 3, ("dit",))],
    },
    "re-referred-date-updated": {
        # Re-referred, and the clinician typed the new referral date over the old one: it is the
        # second pathway's date; the first pathway was received no later than its course started.
        "referral": (d("2025-08-01"), "self"),
        "courses": [("lit", "lit", d("2024-03-01"), "ended", d("2024-04-20"), "referred_on", None),
                    ("dit", "dit", d("2025-09-10"), "ended", d("2026-01-20"), "completed", None)],
        "expected": [
            Expected(d("2024-03-01"), "self", "discharged", d("2024-04-20"), "referred_on", "lit", 2, ("lit",)),
            Expected(d("2025-08-01"), "self", "discharged", d("2026-01-20"), "completed", "dit", 3, ("dit",)),
        ],
    },
}


@dataclass
class Built:
    patients: dict[str, int]
    courses: dict[tuple[str, str], int]  # (case, course label) → id
    sessions: dict[int, int]  # session id → course id
    measurements: dict[int, int]
    alerts: dict[int, int]
    links: dict[int, int]
    acknowledged: set[int]


def populate(apps: Any, therapist_id: int) -> Built:
    """The cases, through the historical models (as the database held them before referrals)."""
    Patient = apps.get_model("patients", "Patient")
    Course = apps.get_model("courses", "Course")
    TherapySession = apps.get_model("courses", "TherapySession")
    Measurement = apps.get_model("assessments", "Measurement")
    RiskAlert = apps.get_model("assessments", "RiskAlert")
    QuestionnaireLink = apps.get_model("questionnaires", "QuestionnaireLink")
    built = Built({}, {}, {}, {}, {}, {}, set())
    for n, (case, spec) in enumerate(CASES.items()):
        received, source = spec["referral"]
        patient = Patient.objects.create(
            local_id=f"MIG-{n:03d}", given_name="Mig", family_name=f"Ration{n}", date_of_birth=dt.date(1980, 1, 1),
            referral_date=received, referral_source=source, therapist_id=therapist_id,
        )
        built.patients[case] = patient.pk
        for label, protocol, started, status, ended, reason, stepped_from in spec["courses"]:
            course = Course.objects.create(
                patient=patient, protocol=protocol, therapist_id=therapist_id, started_on=started, status=status,
                ended_on=ended, end_reason=reason, planned_sessions=16 if protocol in {"dit", "ipt"} else 8,
                stepped_from_id=built.courses[(case, stepped_from)] if stepped_from else None,
            )
            built.courses[(case, label)] = course.pk
            # Two attended sessions a week apart, each with a PHQ-9; the second raises a risk alert
            # (acknowledged when the course ended, open while it runs); a link sent for each session
            # and one not for a session.
            for k in range(2):
                when = dt.datetime.combine(started + dt.timedelta(days=7 * k), dt.time(10), tzinfo=TZ)
                session = TherapySession.objects.create(course=course, scheduled_at=when, attendance=5,
                                                        duration_minutes=50, recorded_by_id=therapist_id)
                built.sessions[session.pk] = course.pk
                link = QuestionnaireLink.objects.create(
                    token_hash=f"{course.pk:08d}-{k}".ljust(64, "0"), instruments=["phq9"], patient=patient,
                    course=course, session=session, expires_at=when + dt.timedelta(days=7),
                    submitted_at=when,
                )
                built.links[link.pk] = course.pk
                measurement = Measurement.objects.create(
                    course=course, session=session, instrument="phq9", answers={str(i): k for i in range(1, 10)},
                    total=9.0 * k, complete=True, prorated=False, risk=["9"] if k else [], recorded_at=when,
                    source="patient", questionnaire_link=link,
                )
                built.measurements[measurement.pk] = course.pk
                if k:
                    ack = status == "ended"
                    alert = RiskAlert.objects.create(
                        course=course, measurement=measurement, instrument="phq9", items=["9"], raised_at=when,
                        acknowledged_at=when + dt.timedelta(hours=2) if ack else None,
                        acknowledged_by_id=therapist_id if ack else None, note="Safety plan agreed." if ack else "",
                    )
                    built.alerts[alert.pk] = course.pk
                    if ack:
                        built.acknowledged.add(alert.pk)
            link = QuestionnaireLink.objects.create(
                token_hash=f"{course.pk:08d}-x".ljust(64, "0"), instruments=["gad7"], patient=patient, course=course,
                created_by_id=therapist_id, expires_at=dt.datetime.combine(started, dt.time(12), tzinfo=TZ),
            )
            built.links[link.pk] = course.pk
    return built


pytestmark = pytest.mark.django_db  # so that pytest-django sets up the test database (the journey uses it)

ROWS = (("courses", "TherapySession"), ("assessments", "Measurement"), ("assessments", "RiskAlert"),
        ("questionnaires", "QuestionnaireLink"))


def counts(apps: Any) -> dict[str, int]:
    return {f"{app}.{name}": apps.get_model(app, name).objects.count()
            for app, name in (("patients", "Patient"), ("courses", "Course"), *ROWS)}


@dataclass
class Journey:
    """What the database held at each stage, read through that stage's historical models."""

    built: Built
    counts_before: dict[str, int]
    counts_after: dict[str, int]
    counts_back: dict[str, int]
    referrals: dict[str, list[Expected]]  # per case, in order of receipt
    referrals_without_clinician: int
    courses_after: dict[int, tuple[int | None, int]]  # course → (stepped from, referral)
    rows_after: dict[str, dict[int, tuple[int, int]]]  # model → {row: (course, referral)}
    treatment_after: set[bool]
    acknowledged_after: set[int]
    patients_back: dict[int, tuple[dt.date, str]]
    courses_back: dict[int, int | None]  # course → stepped from
    rows_back: dict[str, dict[int, int]]  # model → {row: course}


def _travel() -> Journey:
    therapist = get_user_model().objects.create_user(username="mig.therapist", password=None, role="therapist")
    old = _migrate([*BEFORE_REFERRALS, ("referrals", None)])
    with transaction.atomic():
        built = populate(old, therapist.pk)
    counts_before = counts(old)

    new = _migrate(_latest())
    Referral, Course = new.get_model("referrals", "Referral"), new.get_model("courses", "Course")
    label_of = {pk: label for (_case, label), pk in built.courses.items()}
    referrals = {
        case: [Expected(r.received_on, r.source, r.status, r.ended_on, r.end_reason, r.therapy, r.step,
                        tuple(label_of[pk] for pk in Course.objects.filter(referral=r).order_by("started_on", "id")
                              .values_list("pk", flat=True)))
               for r in Referral.objects.filter(patient_id=built.patients[case]).order_by("received_on", "id")]
        for case in CASES
    }
    rows_after = {name: {pk: (course, referral) for pk, course, referral in
                         new.get_model(app, name).objects.values_list("pk", "course_id", "referral_id")}
                  for app, name in ROWS}
    counts_after = counts(new)
    referrals_without_clinician = Referral.objects.filter(therapist__isnull=True).count()
    courses_after = {pk: (stepped, referral) for pk, stepped, referral in
                     Course.objects.values_list("pk", "stepped_from_id", "referral_id")}
    treatment_after = set(new.get_model("courses", "TherapySession").objects.values_list("treatment", flat=True))
    acknowledged_after = set(new.get_model("assessments", "RiskAlert").objects
                             .filter(acknowledged_at__isnull=False).values_list("pk", flat=True))

    old = _migrate([*BEFORE_REFERRALS, ("referrals", None)])
    return Journey(
        built=built, counts_before=counts_before, counts_after=counts_after, counts_back=counts(old),
        referrals=referrals, referrals_without_clinician=referrals_without_clinician, courses_after=courses_after,
        rows_after=rows_after, treatment_after=treatment_after, acknowledged_after=acknowledged_after,
        patients_back={pk: (date, source) for pk, date, source in
                       old.get_model("patients", "Patient").objects.values_list("pk", "referral_date", "referral_source")},
        courses_back=dict(old.get_model("courses", "Course").objects.values_list("pk", "stepped_from_id")),
        rows_back={name: dict(old.get_model(app, name).objects.values_list("pk", "course_id")) for app, name in ROWS},
    )


@pytest.fixture(scope="module")
def journey(django_db_setup, django_db_blocker) -> Iterator[Journey]:
    """Back before the referrals, populate, forwards, back again — once for the module (each
    migration takes seconds); then the latest migrations and an empty database again, as a
    transactional test leaves it, whatever happened."""
    with django_db_blocker.unblock():
        name = str(connection.settings_dict["NAME"])
        in_memory = getattr(connection, "is_in_memory_db", lambda: False)()
        if not (in_memory or name.startswith("test_")):  # migrating back a real database would be a disaster
            raise RuntimeError(f"not a test database: {name}")
        try:
            yield _travel()
        finally:
            _migrate(_latest())
            call_command("flush", interactive=False, verbosity=0)


def test_migration_makes_the_referrals_the_rules_say(journey):
    for case, spec in CASES.items():
        assert journey.referrals[case] == spec["expected"], case
    assert journey.referrals_without_clinician == 0


def test_migration_keeps_every_row_and_joins_it_to_its_courses_referral(journey):
    built = journey.built
    referral_of_course = {pk: referral for pk, (_stepped, referral) in journey.courses_after.items()}

    assert journey.counts_after == journey.counts_before
    assert None not in referral_of_course.values()
    for (_app, name), rows in zip(ROWS, (built.sessions, built.measurements, built.alerts, built.links), strict=True):
        assert journey.rows_after[name] == {pk: (course, referral_of_course[course]) for pk, course in rows.items()}, name
    # Every old session was a treatment session (no protocol had an assessment phase), and stays one.
    assert journey.treatment_after == {True}
    assert journey.acknowledged_after == built.acknowledged


def test_migration_keeps_a_step_up_linked_in_one_referral(journey):
    lit, ipt = (journey.built.courses[("stepped-up-linked", label)] for label in ("lit", "ipt"))

    assert journey.courses_after[ipt] == (lit, journey.courses_after[lit][1])


def test_migration_back_restores_each_patients_referral_date_and_source(journey):
    assert journey.patients_back == {
        journey.built.patients[case]: spec.get("restored", spec["referral"]) for case, spec in CASES.items()}


def test_migration_back_keeps_every_row_in_its_course(journey):
    built = journey.built

    assert journey.counts_back == journey.counts_before
    for (_app, name), rows in zip(ROWS, (built.sessions, built.measurements, built.alerts, built.links), strict=True):
        assert journey.rows_back[name] == rows, name
    stepped = {pk: stepped for pk, (stepped, _referral) in journey.courses_after.items()}
    assert journey.courses_back == stepped
