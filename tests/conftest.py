"""Shared fixtures: personas and signed-in clients.

pytest-django loads the settings before this file is imported; the settings give a
test run its own throwaway SECRET_KEY, so no .env file is needed.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.test import Client

from interpersonal.web.accounts.actions import ensure_superuser

# Argon2 stays the hasher every test hashes and checks with (the settings name it first, and
# test_settings checks that); only its cost drops to the algorithm's minimum here. Django's
# default (100 MiB, two passes, eight lanes) takes ~0.5 s a hash on a 2-core machine, paid
# by every set_password, every sign-in and every refused sign-in (Django hashes once for an
# unknown user too): the escalation search alone hashed ~330 times, a third of its run. Cost is
# not under test; a stored hash records its own parameters, so check_password is unaffected.
Argon2PasswordHasher.time_cost = 1
Argon2PasswordHasher.memory_cost = 8  # KiB: Argon2's minimum, 8 x parallelism
Argon2PasswordHasher.parallelism = 1

ADMIN_USERNAME = "ada.admin"
ADMIN_PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def erasure_register(settings, tmp_path):
    """Every test has its own erasure register (privacy.register), never the project's var/."""
    settings.INTERPERSONAL_ERASURE_REGISTER = str(tmp_path / "erasure-register.jsonl")
    return tmp_path / "erasure-register.jsonl"


@pytest.fixture
def administrator_credentials() -> dict[str, str]:
    return {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}


@pytest.fixture
def administrator(db):
    """A superuser with a known password (synthetic persona)."""
    return ensure_superuser(username=ADMIN_USERNAME, password=ADMIN_PASSWORD, email="ada@example.org").user


@pytest.fixture
def signed_in_client(administrator) -> Client:
    client = Client()
    client.force_login(administrator)
    return client


# --- Personas for the clinic (STYLE.md 13). Synthetic names only. -----------------------

import datetime as dt  # noqa: E402

from django.utils import timezone  # noqa: E402

PASSWORD = "a-long-synthetic-password"


_PASSWORD_HASH: list[str] = []


def _password_hash() -> str:
    """PASSWORD hashed once per run: PBKDF2 takes ~0.5 s, and a permission test makes six users."""
    if not _PASSWORD_HASH:
        from django.contrib.auth.hashers import make_password

        _PASSWORD_HASH.append(make_password(PASSWORD))
    return _PASSWORD_HASH[0]


@pytest.fixture
def make_user(db, django_user_model):
    def make(username: str, role: str, *, supervisor=None, **extra):
        """``supervisor``: a current individual supervision relationship, in force since a year ago."""
        user = django_user_model.objects.create_user(username=username, password=None, role=role, **extra)
        user.password = _password_hash()
        user.save(update_fields=["password"])
        if supervisor is not None:
            from interpersonal.web.supervision.models import SupervisionRelationship

            SupervisionRelationship.objects.create(
                supervisor=supervisor, supervisee=user, kind=SupervisionRelationship.Kind.INDIVIDUAL,
                started=timezone.localdate() - dt.timedelta(days=365), confirmed_at=timezone.now())
        return user

    return make


@pytest.fixture
def supervisor(make_user):
    return make_user("sam.supervisor", "supervisor", first_name="Sam", last_name="Supervisor")


@pytest.fixture
def therapist(make_user, supervisor):
    """A therapist supervised by ``supervisor``."""
    return make_user("tess.therapist", "therapist", first_name="Tess", last_name="Therapist", supervisor=supervisor)


@pytest.fixture
def unrelated_therapist(make_user, make_user_other_supervisor):
    """A therapist in another team, with their own caseload: must be denied everything of ``therapist``."""
    return make_user("uma.unrelated", "therapist", first_name="Uma", last_name="Unrelated", supervisor=make_user_other_supervisor)


@pytest.fixture
def make_user_other_supervisor(make_user):
    return make_user("otto.othersupervisor", "supervisor", first_name="Otto", last_name="Other")


@pytest.fixture
def service_lead(make_user):
    return make_user("lee.lead", "service_lead", first_name="Lee", last_name="Lead")


@pytest.fixture
def clinic_admin(make_user):
    return make_user("adam.admin", "administrator", first_name="Adam", last_name="Admin")


@pytest.fixture
def records_officer(make_user):
    """Information governance: subject access and erasure, one patient at a time."""
    return make_user("rory.records", "records_officer", first_name="Rory", last_name="Records")


@pytest.fixture
def patient(therapist):
    from interpersonal.web.patients.actions import register_patient

    return register_patient(
        by=therapist, given_name="Pat", family_name="Example", date_of_birth=dt.date(1985, 3, 14),
        nhs_number="943 476 5919", received_on=timezone.localdate() - dt.timedelta(days=60), source="gp",
    )


@pytest.fixture
def dit_course(patient, therapist):
    """An active 16-session DIT course of ``therapist`` for ``patient``, started 30 days ago."""
    from interpersonal.web.courses.actions import start_course

    return start_course(patient=patient, protocol="dit", therapist=therapist, by=therapist,
                        started_on=timezone.localdate() - dt.timedelta(days=30))


@pytest.fixture
def ipt_course(therapist):
    """An active 16-session IPT course of ``therapist`` for a second synthetic patient."""
    from interpersonal.web.courses.actions import start_course
    from interpersonal.web.patients.actions import register_patient

    other = register_patient(by=therapist, given_name="Robin", family_name="Sample", date_of_birth=dt.date(1990, 7, 2),
                             nhs_number="943 476 5870", received_on=timezone.localdate() - dt.timedelta(days=40),
                             source="gp")
    return start_course(patient=other, protocol="ipt", therapist=therapist, by=therapist,
                        started_on=timezone.localdate() - dt.timedelta(days=30))


@pytest.fixture
def client_for(client):
    """``client_for(user)``: a test client signed in as ``user``."""
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


# --- Case material for action, access and permission tests (synthetic only). -------------

PHQ9_ITEM9_ONE = {"1": 1, "2": 1, "3": 0, "4": 1, "5": 0, "6": 0, "7": 0, "8": 0, "9": 1}
"""A PHQ-9 answer set whose suicide item (9) is 1: total 4, raises a risk alert."""
PHQ9_CLEAN = {"1": 1, "2": 1, "3": 0, "4": 1, "5": 0, "6": 0, "7": 0, "8": 0, "9": 0}
GAD7_ANSWERS = {"1": 1, "2": 1, "3": 1, "4": 0, "5": 0, "6": 1, "7": 0}


@pytest.fixture
def attended_session(dit_course, therapist):
    """A session of ``dit_course`` attended on time a week ago."""
    from interpersonal.web.courses.actions import record_session

    return record_session(course=dit_course, by=therapist, attendance=5, duration_minutes=50,
                          scheduled_at=timezone.now() - dt.timedelta(days=7))


@pytest.fixture
def risk_alert(dit_course, therapist, attended_session):
    """The open alert raised by a PHQ-9 (item 9 = 1) recorded at ``attended_session``."""
    from interpersonal.web.assessments.actions import record_measurement

    measurement = record_measurement(course=dit_course, instrument="phq9", answers=PHQ9_ITEM9_ONE, by=therapist,
                                     session=attended_session, recorded_at=attended_session.scheduled_at)
    return measurement.risk_alert


@pytest.fixture
def other_patient(unrelated_therapist):
    """``unrelated_therapist``'s own patient, with an active IPT course."""
    from interpersonal.web.courses.actions import start_course
    from interpersonal.web.patients.actions import register_patient

    patient = register_patient(
        by=unrelated_therapist, given_name="Olive", family_name="Otherton", date_of_birth=dt.date(1990, 7, 2),
        received_on=timezone.localdate() - dt.timedelta(days=40), source="self",
    )
    start_course(patient=patient, protocol="ipt", therapist=unrelated_therapist, by=unrelated_therapist,
                 started_on=timezone.localdate() - dt.timedelta(days=20))
    return patient


class AuditTrail:
    """``trail.mark()`` then ``trail.new()``: the audit events written since the mark, oldest first."""

    def __init__(self) -> None:
        self._after = 0

    def mark(self) -> None:
        from interpersonal.web.audit.models import AuditEvent

        self._after = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def new(self) -> list:
        from interpersonal.web.audit.models import AuditEvent

        return list(AuditEvent.objects.filter(id__gt=self._after).order_by("id"))

    def new_types(self) -> list[str]:
        return [e.type for e in self.new()]


@pytest.fixture
def shell_umask():
    """The usual shell umask (022: new files world-readable), restored afterwards."""
    import os

    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def audit_trail(db) -> AuditTrail:
    trail = AuditTrail()
    trail.mark()
    return trail


@pytest.fixture
def nul_refused_as_postgresql_does(db):
    """Fail where PostgreSQL would: a NUL byte in a query parameter (psycopg refuses it, a 500).
    Django's form fields refuse NUL; a value a view reads straight from the request must not carry
    one to the database, and the SQLite pass would otherwise store or search with it."""
    from django.db import connection

    def guard(execute, sql, params, many, context):
        for row in (params or []) if many else [params or []]:
            for value in row.values() if isinstance(row, dict) else row:
                if isinstance(value, str) and "\x00" in value:
                    raise AssertionError(f"a NUL reaches the database (PostgreSQL refuses it): {sql[:100]}")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(guard):
        yield


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgresql`` run in the PostgreSQL pass of ``make test`` and are
    deselected (not skipped) in the SQLite pass."""
    from django.conf import settings

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("postgresql") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
