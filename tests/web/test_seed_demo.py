"""seed_demo: the demo service is complete, consistent and created once."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from interpersonal.core import measures
from interpersonal.core.identifiers import is_valid_nhs_number
from interpersonal.web.accounts.models import Role
from interpersonal.web.assessments.models import Measurement, RiskAlert
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.courses.models import Course, TherapySession
from interpersonal.web.patients.models import Patient

pytestmark = pytest.mark.django_db(transaction=False)
User = get_user_model()


@pytest.fixture(autouse=True)
def demo_opt_in(monkeypatch):
    monkeypatch.setenv("INTERPERSONAL_DEMO", "1")  # as `make run` does


def seed(**kwargs) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **kwargs)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Patient, Course, TherapySession, Measurement, RiskAlert, AuditEvent)
    }


@pytest.fixture
def seeded(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    return seed()


def test_seed_demo_twice_creates_nothing_the_second_time(seeded):
    before = counts()
    last_event = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()

    output = seed()

    after = counts()
    # Bringing the accounts up to date is itself audited; no clinical record is added.
    assert {k: v for k, v in after.items() if k != "AuditEvent"} == {k: v for k, v in before.items() if k != "AuditEvent"}
    new_events = set(AuditEvent.objects.filter(id__gt=last_event).values_list("type", flat=True))
    assert new_events <= {"account.ensured", "account.superuser_ensured"}
    assert "already present" in output


def test_seed_demo_creates_every_role_with_the_demo_password(seeded):
    for role in Role.values:
        assert User.objects.filter(role=role).exists(), role
    for username in ("therapist1", "therapist2", "therapist3", "therapist4", "supervisor", "lead", "admin"):
        assert User.objects.get(username=username).check_password("interpersonal-demo")
    supervisor = User.objects.get(username="supervisor")
    assert set(supervisor.supervisees.values_list("username", flat=True)) == {
        "therapist1", "therapist2", "therapist3", "therapist4"}
    assert not User.objects.get(username="admin").is_superuser  # an ordinary administrator (ADR 0008)
    assert User.objects.get(username="root").is_superuser
    assert User.objects.get(username="root").check_password("interpersonal-demo")


def test_seed_demo_prints_each_login_and_the_url(seeded):
    output = seed(base_url="http://127.0.0.1:9999/")

    assert "http://127.0.0.1:9999/accounts/login/" in output
    for username in ("therapist1", "supervisor", "lead", "admin", "root"):
        assert f"username: {username}" in output
    assert "password: interpersonal-demo" in output


def test_seed_demo_uses_the_password_from_the_environment(monkeypatch, seeded):
    monkeypatch.setenv("DEMO_PASSWORD", "another-demo-pass-phrase")

    seed()

    assert User.objects.get(username="lead").check_password("another-demo-pass-phrase")


def test_seed_demo_creates_at_least_forty_synthetic_patients_with_valid_test_nhs_numbers(seeded):
    patients = Patient.objects.all()

    assert patients.count() >= 40
    for patient in patients:
        assert patient.nhs_number.startswith("999")
        assert is_valid_nhs_number(patient.nhs_number)


def test_seed_demo_covers_every_protocol_and_ending(seeded):
    assert {"dit", "ipt", "cbt", "lit"} <= set(Course.objects.values_list("protocol", flat=True))
    reasons = set(Course.objects.filter(status=Course.Status.ENDED).values_list("end_reason", flat=True))
    assert {"completed", "dropped_out", "stepped_up"} <= reasons
    stepped = Course.objects.get(stepped_from__isnull=False)
    assert (stepped.stepped_from.protocol, stepped.protocol) == ("lit", "ipt")
    assert TherapySession.objects.filter(attendance=3).exists()


def test_seed_demo_leaves_open_risk_alerts_and_one_acknowledged(seeded):
    assert 3 <= RiskAlert.objects.filter(acknowledged_at__isnull=True).count() <= 4
    assert RiskAlert.objects.filter(acknowledged_at__isnull=False).count() == 1


def test_seed_demo_books_the_next_session_of_every_active_course(seeded):
    for course in Course.objects.filter(status=Course.Status.ACTIVE):
        assert course.sessions.filter(attendance__isnull=True).count() == 1


def test_seed_demo_stores_the_engine_score_of_every_answer_set(seeded):
    for m in Measurement.objects.all():
        assert m.total == measures.score(m.instrument, m.answers).total


def test_seed_demo_writes_an_audit_trail(seeded):
    assert AuditEvent.objects.filter(type="measurement.recorded").count() == Measurement.objects.count()
