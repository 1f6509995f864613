"""synth_service: a deterministic bulk load of referrals at every stage whose stored scores are the engine's."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from interpersonal.core import measures
from interpersonal.web.assessments.models import Measurement, RiskAlert
from interpersonal.web.courses.models import Course, TherapySession
from interpersonal.web.outcomes import summaries
from interpersonal.web.outcomes.models import ReferralSummary
from interpersonal.web.patients.models import Patient
from interpersonal.web.referrals.models import Referral

pytestmark = pytest.mark.django_db
User = get_user_model()


def synth(*args: str) -> str:
    out, err = StringIO(), StringIO()
    call_command("synth_service", *args, stdout=out, stderr=err)
    return out.getvalue()


def snapshot() -> list[tuple]:
    return list(Measurement.objects.order_by("id").values_list("instrument", "total", "answers", "recorded_at"))


def test_synth_service_creates_referrals_at_every_stage_with_measures_at_attended_sessions():
    output = synth("--referrals", "300", "--seed", "3", "--batch", "50", "--bench-caseloads", "")

    assert "Created 300 patients and 300 referrals" in output
    assert Patient.objects.count() == Referral.objects.count() == 300
    statuses = set(Referral.objects.values_list("status", flat=True))
    assert statuses == {"awaiting_triage", "waiting", "in_treatment", "discharged"}
    assert Referral.objects.filter(status="discharged", courses__isnull=True).exclude(end_reason="").exists()
    stepped = Course.objects.filter(stepped_from__isnull=False).select_related("stepped_from")
    assert stepped.exists()
    for course in stepped:  # a step up continues its referral, from step 2 to step 3
        assert course.referral_id == course.stepped_from.referral_id
        assert (course.stepped_from.protocol, course.stepped_from.end_reason) == ("lit", "stepped_up")
        assert course.protocol in ("cbt", "dit", "ipt")
    treatment = TherapySession.objects.filter(course__isnull=False, attendance__in=(5, 6))
    for instrument in ("phq9", "gad7"):
        assert Measurement.objects.filter(instrument=instrument, course__isnull=False).count() == treatment.count()
    assert Measurement.objects.filter(course__isnull=True).exists()  # screening scores
    assessments = TherapySession.objects.filter(course__isnull=True)
    assert assessments.exists()
    assert not assessments.filter(treatment=True).exists()
    assert Course.objects.filter(status=Course.Status.ENDED).count() > Course.objects.filter(status="active").count()


def test_synth_service_builds_every_referral_s_outcome_summary():
    synth("--referrals", "60", "--seed", "4")

    assert ReferralSummary.objects.count() == 60
    kept = list(ReferralSummary.objects.order_by("pk").values_list("referral_id", "finished", "recovered", "therapy"))
    summaries.rebuild()
    assert list(ReferralSummary.objects.order_by("pk").values_list("referral_id", "finished", "recovered",
                                                                  "therapy")) == kept


def test_synth_service_stores_the_engine_score_of_every_answer_set():
    synth("--patients", "80")

    for m in Measurement.objects.all():
        assert m.total == measures.score(m.instrument, m.answers).total
    for alert in RiskAlert.objects.select_related("measurement"):
        assert alert.measurement.risk == alert.items


def test_synth_service_gives_the_first_therapists_the_bench_caseloads():
    synth("--patients", "100", "--bench-caseloads", "10,40")

    first, second = User.objects.filter(username__startswith="synth-t").order_by("username")[:2]
    assert Course.objects.filter(therapist=first, status="active").count() == 10
    assert Course.objects.filter(therapist=second, status="active").count() == 40


def test_synth_service_is_deterministic_for_a_seed():
    synth("--patients", "40", "--seed", "7")
    first = [(i, t, a) for i, t, a, _ in snapshot()]
    from interpersonal.web.supervision.models import SupervisionRelationship

    ReferralSummary.objects.all().delete()
    RiskAlert.objects.all().delete()  # the bulk load's own tables; it writes no audit events
    Measurement.objects.all().delete()
    TherapySession.objects.all().delete()
    Course.objects.filter(stepped_from__isnull=False).delete()
    Course.objects.all().delete()
    Referral.objects.all().delete()
    Patient.objects.all().delete()
    SupervisionRelationship.objects.all().delete()
    User.objects.all().delete()

    synth("--patients", "40", "--seed", "7")

    assert [(i, t, a) for i, t, a, _ in snapshot()] == first


def test_synth_service_refuses_a_database_it_already_filled():
    synth("--patients", "10")

    with pytest.raises(CommandError, match="already holds synthetic patients"):
        synth("--patients", "10")
