"""Service outcomes: the pseudonymous data set, its export, the dashboard and its CSVs."""

from __future__ import annotations

import csv
import datetime as dt
import io

import polars as pl
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from interpersonal.core.outcomes import dataset as core_dataset
from interpersonal.core.outcomes import service
from interpersonal.web.assessments.actions import record_measurement
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.courses.actions import end_course, record_session
from interpersonal.web.outcomes.dataset import from_database
from tests.web.files import owner_only

PHQ9_HIGH = {str(i): 2 for i in range(1, 10)} | {"9": 0}   # 16: at caseness
PHQ9_LOW = {str(i): 0 for i in range(1, 10)} | {"1": 1}    # 1
GAD7_HIGH = {str(i): 2 for i in range(1, 8)}               # 14: at caseness
GAD7_LOW = {str(i): 0 for i in range(1, 8)}                # 0


@pytest.fixture
def finished_course(dit_course, therapist):
    """``dit_course`` with three attended sessions and one DNA, PHQ-9/GAD-7 from caseness to recovery, completed."""
    now = timezone.now()
    sessions = [record_session(course=dit_course, by=therapist, attendance=code, duration_minutes=50,
                               scheduled_at=now - dt.timedelta(days=days)) for days, code in ((21, 5), (14, 3), (7, 5), (2, 6))]
    for session, phq9, gad7 in ((sessions[0], PHQ9_HIGH, GAD7_HIGH), (sessions[3], PHQ9_LOW, GAD7_LOW)):
        record_measurement(course=dit_course, instrument="phq9", answers=phq9, by=therapist, session=session,
                           recorded_at=session.scheduled_at)
        record_measurement(course=dit_course, instrument="gad7", answers=gad7, by=therapist, session=session,
                           recorded_at=session.scheduled_at)
    return end_course(course=dit_course, reason="completed", by=therapist, ended_on=timezone.localdate())


def _all_text(data) -> str:
    referrals, contacts, scores = data.collect()
    return "\n".join(frame.write_csv() for frame in (referrals, contacts, scores))


def test_from_database_one_pseudonymous_row_per_course(finished_course, patient, therapist, settings):
    referrals, contacts, scores = from_database().collect()

    assert referrals.to_dicts() == [{
        "referral_id": f"C{finished_course.pk}", "patient_id": f"P{patient.pk}",
        "provider": settings.INTERPERSONAL_SERVICE_NAME, "therapist_id": f"T{therapist.pk}", "therapy": "dit",
        "referral_date": patient.referrals.get().received_on, "end_date": timezone.localdate(), "end_code": 46,
    }]
    assert contacts["attendance_code"].to_list() == [5, 3, 5, 6]
    assert contacts["is_treatment"].all()
    assert sorted(scores["measure"].to_list()) == ["gad7", "gad7", "phq9", "phq9"]
    assert scores.filter(pl.col("measure") == "phq9")["score"].to_list() == [16.0, 1.0]


def test_from_database_holds_no_identifying_data(finished_course, patient):
    text = _all_text(from_database())

    for secret in (patient.given_name, patient.family_name, patient.local_id, patient.nhs_number,
                   patient.date_of_birth.isoformat()):
        assert secret
        assert secret not in text


def test_stepped_up_course_has_no_end_code(dit_course, therapist):
    end_course(course=dit_course, reason="stepped_up", by=therapist, ended_on=timezone.localdate())

    referrals, _, _ = from_database().collect()

    assert referrals["end_code"].to_list() == [None]


def test_from_database_feeds_the_core_report(finished_course):
    overall = service.report(from_database())["overall"]

    assert (overall["finished"], overall["recovered"], overall["recovery_rate"]) == (1, 1, 1.0)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_writes_files_that_read_back(finished_course, tmp_path, fmt, shell_umask):
    call_command("export", "--out", str(tmp_path / "out"), "--format", fmt, stdout=io.StringIO())
    tmp_path = tmp_path / "out"

    assert owner_only(tmp_path)  # patient-level rows: owner-only whatever the shell's umask

    back = core_dataset.read(tmp_path).collect()
    here = from_database().collect()
    for a, b in zip(back, here, strict=True):
        assert a.equals(b)
    event = AuditEvent.objects.get(type="outcomes.exported")
    assert (event.data["referrals"], event.data["contacts"], event.data["scores"]) == (1, 4, 4)


def test_dashboard_shows_the_core_recovery_rate_to_the_service_lead(finished_course, service_lead, client_for, patient):
    rate = service.report(from_database())["overall"]["recovery_rate"]

    response = client_for(service_lead).get(reverse("outcomes:dashboard"))

    assert response.status_code == 200
    assert response.context["overall"]["recovery_rate"] == rate
    body = response.content.decode()
    assert f"{round(rate * 100)}%" in body
    for secret in (patient.full_name, patient.given_name + " ", patient.family_name, patient.local_id):
        assert secret not in body


@pytest.mark.parametrize("persona", ["therapist", "administrator", "clinic_admin", "supervisor"])
def test_dashboard_and_csv_refused_to_others(request, persona, client_for):
    client = client_for(request.getfixturevalue(persona))

    assert client.get(reverse("outcomes:dashboard")).status_code == 403
    assert client.get(reverse("outcomes:csv", args=["metrics"])).status_code == 403


@pytest.mark.parametrize("table", ["metrics", "by_therapy", "by_month", "funnel"])
def test_csv_downloads_parse(finished_course, service_lead, client_for, table, patient):
    client = client_for(service_lead)
    client.get(reverse("outcomes:dashboard"), {"therapy": "dit"})  # works the figures out (immediate backend)

    response = client.get(reverse("outcomes:csv", args=[table]), {"therapy": "dit"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows
    assert patient.family_name not in response.content.decode()


def test_metrics_csv_recovery_row_matches_report(finished_course, service_lead, client_for):
    client = client_for(service_lead)
    client.get(reverse("outcomes:dashboard"))

    response = client.get(reverse("outcomes:csv", args=["metrics"]))

    rows = {r["metric"]: r for r in csv.DictReader(io.StringIO(response.content.decode()))}
    assert float(rows["recovery_rate"]["value"]) == 1.0
    assert rows["recovery_rate"]["standard_met"] == "True"


def test_unknown_csv_table_is_404(service_lead, client_for):
    assert client_for(service_lead).get(reverse("outcomes:csv", args=["patients"])).status_code == 404


def test_filters_narrow_the_report(finished_course, service_lead, client_for):
    response = client_for(service_lead).get(reverse("outcomes:dashboard"), {"therapy": "ipt"})

    assert response.status_code == 200
    assert response.context["overall"]["finished"] == 0


@pytest.mark.parametrize("query", [{"since": "2026-02-30"}, {"therapist": "T999"}, {"therapy": "dit", "until": "soon"}])
def test_filters_that_are_not_valid_are_refused_not_ignored(finished_course, service_lead, client_for, query):
    """Found by tests/web/test_fuzz_forms.py: filters that were not valid were dropped silently, so
    the CSV (and the dashboard, with no word of it) gave the whole service's numbers for a request
    that asked for some of them. The CSV is refused (400); the dashboard says nothing was applied."""
    client = client_for(service_lead)

    download = client.get(reverse("outcomes:csv", args=["metrics"]), query)
    dashboard = client.get(reverse("outcomes:dashboard"), query)

    assert download.status_code == 400
    assert not download["Content-Type"].startswith("text/csv")
    assert dashboard.status_code == 400
    assert "were not applied: the figures below are for the whole service" in dashboard.content.decode()
