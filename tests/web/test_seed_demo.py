"""seed_demo: the demo service is complete, consistent and created once."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import models
from django.utils import timezone

from interpersonal.core import measures
from interpersonal.core.identifiers import is_valid_nhs_number
from interpersonal.core.outcomes.service import EIGHTEEN_WEEKS_DAYS, SIX_WEEKS_DAYS
from interpersonal.web.accounts.models import Role
from interpersonal.web.assessments.models import Measurement, RiskAlert
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.courses.models import Course, TherapySession
from interpersonal.web.patients.models import Patient
from interpersonal.web.referrals.models import Referral

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
        for model in (User, Patient, Referral, Course, TherapySession, Measurement, RiskAlert, AuditEvent)
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
    from interpersonal.web.supervision.reach import supervisee_ids

    assert set(User.objects.filter(pk__in=supervisee_ids(supervisor)).values_list("username", flat=True)) == {
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


def test_seed_demo_has_referrals_at_every_stage_of_the_pathway(seeded):
    Status = Referral.Status
    assert set(Referral.objects.values_list("status", flat=True)) == set(Status.values)
    # The front door: self-referrals and a GP's letter with its presenting problem, not yet triaged.
    awaiting = Referral.objects.filter(status=Status.AWAITING_TRIAGE)
    assert awaiting.filter(source="self").count() >= 2
    gp = awaiting.get(source="gp")
    assert gp.presenting_problem
    assert gp.referrer
    assert gp.problem_descriptor == "F32"
    assert not awaiting.filter(courses__isnull=False).exists()
    # Stepped up: one referral, two courses (guided self-help, then IPT), still in treatment.
    stepped = Course.objects.get(stepped_from__isnull=False)
    assert stepped.referral_id == stepped.stepped_from.referral_id
    assert stepped.referral.status == Status.IN_TREATMENT
    # Discharged after treatment (completed, dropped out) and before it (signposted, no course).
    reasons = set(Referral.objects.filter(status=Status.DISCHARGED).values_list("end_reason", flat=True))
    assert {"completed", "dropped_out", "signposted"} <= reasons
    assert not Referral.objects.get(end_reason="signposted").courses.exists()
    # Every course is a step of its own patient's referral; nobody in the demo was re-referred.
    assert not Course.objects.exclude(referral__patient_id=models.F("patient_id")).exists()
    assert Referral.objects.count() == Patient.objects.count()


def test_seed_demo_waiting_lists_straddle_the_waiting_time_standards(seeded):
    # NHS Talking Therapies: first treatment within 6 weeks (75%) and 18 weeks (95%) of referral
    # (DOMAIN.md §4, §6); the demo's waits fall either side of the first and just inside the second.
    waiting = Referral.objects.filter(status=Referral.Status.WAITING)
    assert {(2, "lit"), (3, "dit"), (3, "ipt")} <= set(waiting.values_list("step", "therapy"))
    assert not waiting.filter(courses__isnull=False).exists()
    assert not waiting.filter(triaged_by__isnull=True).exists()
    assert not waiting.filter(triaged_at__isnull=True).exists()
    today = timezone.localdate()
    waits = [(today - received).days for received in waiting.values_list("received_on", flat=True)]
    assert any(w <= SIX_WEEKS_DAYS for w in waits)
    assert any(w > SIX_WEEKS_DAYS for w in waits)
    assert any(EIGHTEEN_WEEKS_DAYS - 14 <= w < EIGHTEEN_WEEKS_DAYS for w in waits)
    assert max(waits) < EIGHTEEN_WEEKS_DAYS
    assert AuditEvent.objects.filter(type="referral.triaged").count() == waiting.count()



def test_seed_demo_gives_the_supervisor_logged_supervision(seeded):
    import datetime as dt

    from interpersonal.web.supervision import dashboard, figures
    from interpersonal.web.supervision.models import SupervisionSession

    supervisor = User.objects.get(username="supervisor")
    assert SupervisionSession.objects.filter(supervisor=supervisor, format="group").count() == 4
    cards = dashboard.build(supervisor)
    assert {c.person.username for c in cards} == {"therapist1", "therapist2", "therapist3", "therapist4"}
    today = timezone.localdate()
    minutes = figures.minutes_per_supervisee([c.person.pk for c in cards], since=today - dt.timedelta(days=60),
                                             until=today)
    assert sorted(minutes.values()) == [360, 360, 360, 410]  # four group sessions; therapist1's individual one
