"""Retention: which records have lapsed (computed in the database), the operational purge, and
the ``retention`` command that erases the lapsed records."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from interpersonal.web.assessments.models import Measurement, RiskAlert
from interpersonal.web.audit import chain
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.courses.models import Course, TherapySession
from interpersonal.web.letters.models import Letter
from interpersonal.web.patients.models import Patient
from interpersonal.web.privacy import retention
from interpersonal.web.privacy.retention import DueRecord, add_years, cutoff, due, purge_operational, retention_date
from interpersonal.web.questionnaires.models import QuestionnaireLink, TokenAttempt
from interpersonal.web.referrals.models import Referral

TODAY = dt.date(2046, 6, 15)
LONDON = ZoneInfo("Europe/London")
_numbers = itertools.count(1)


def _patient(referral: dt.date, **extra) -> Patient:
    """A patient whose one referral was received on ``referral`` and closed that day (not assessed),
    so that the referral date is their last contact until something later is added."""
    n = next(_numbers)
    patient = Patient.objects.create(local_id=f"R{n:06d}", given_name="Rhoswen", family_name=f"Retained{n}",
                                     date_of_birth=dt.date(1960, 1, 1), **extra)
    Referral.objects.create(patient=patient, source="gp", received_on=referral, status="discharged",
                            ended_on=referral, end_reason="not_assessed")
    return patient


def _course(patient: Patient, therapist, *, started: dt.date, ended: dt.date | None) -> Course:
    return Course.objects.create(patient=patient, referral=patient.referrals.get(), protocol="ipt",
                                 therapist=therapist, started_on=started,
                                 status=Course.Status.ENDED if ended else Course.Status.ACTIVE, ended_on=ended,
                                 end_reason="completed" if ended else "")


def _local(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON)


# --- Dates ----------------------------------------------------------------------------------


def test_twenty_years_is_the_default(settings):
    del settings.INTERPERSONAL_RETENTION_YEARS
    assert retention.retention_years() == 20
    assert retention_date(dt.date(2026, 3, 1)) == dt.date(2046, 3, 1)


def test_a_retention_period_below_one_year_is_refused(settings):
    settings.INTERPERSONAL_RETENTION_YEARS = 0
    settings.INTERPERSONAL_RETENTION_SHORTER_THAN_NHS_CODE = True
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        retention.retention_years()


def test_a_period_shorter_than_the_nhs_code_needs_a_second_setting(settings):
    settings.INTERPERSONAL_RETENTION_YEARS = 2  # a typo for 20 must not make records due
    with pytest.raises(ImproperlyConfigured, match="INTERPERSONAL_RETENTION_SHORTER_THAN_NHS_CODE"):
        retention.retention_years()

    settings.INTERPERSONAL_RETENTION_SHORTER_THAN_NHS_CODE = True
    assert retention.retention_years() == 2


def test_29_february_is_kept_to_28_february_of_a_common_year():
    assert add_years(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)
    assert add_years(dt.date(2024, 2, 29), 20) == dt.date(2044, 2, 29)
    assert cutoff(dt.date(2025, 2, 28), 1) == dt.date(2024, 2, 29)
    assert cutoff(dt.date(2025, 3, 1), 1) == dt.date(2024, 3, 1)
    assert cutoff(dt.date(2044, 2, 28), 20) == dt.date(2024, 2, 28)


# --- Who is due -----------------------------------------------------------------------------


def test_a_record_is_due_on_its_retention_date_and_not_the_day_before(db):
    referral = dt.date(2026, 6, 15)
    patient = _patient(referral)
    assert due(dt.date(2046, 6, 14)) == []
    assert due(dt.date(2046, 6, 15)) == [DueRecord(patient.pk, patient.local_id, referral, dt.date(2046, 6, 15))]


@pytest.mark.parametrize("kind", ["course_end", "session", "measurement", "submission", "letter", "alert"])
def test_the_latest_contact_of_any_kind_sets_the_date(therapist, kind):
    referral, last = dt.date(2025, 1, 10), dt.date(2026, 6, 15)
    patient = _patient(referral)
    course = _course(patient, therapist, started=referral, ended=last if kind == "course_end" else dt.date(2025, 3, 1))
    if kind == "session":
        TherapySession.objects.create(course=course, scheduled_at=_local(last, 23, 30), attendance=5)
    if kind == "measurement":
        Measurement.objects.create(course=course, instrument="phq9", answers={}, complete=False, prorated=False,
                                   recorded_at=_local(last, 0, 30))  # 23:30 UTC the day before (summer time)
    if kind == "submission":
        QuestionnaireLink.objects.create(token_hash=f"h{patient.pk}", patient=patient, course=course,
                                         instruments=["phq9"], expires_at=_local(last, 18), submitted_at=_local(last, 9))
    if kind == "letter":  # a GP letter finalised after the course ended
        Letter.objects.create(course=course, kind=Letter.Kind.values[0], status="final", body="",
                              created_by=therapist, updated_by=therapist, finalised_by=therapist,
                              finalised_at=_local(last, 16))
    if kind == "alert":  # a risk answer followed up after the course ended
        measurement = Measurement.objects.create(course=course, instrument="phq9", answers={}, complete=False,
                                                 prorated=False, recorded_at=_local(dt.date(2025, 2, 1)))
        RiskAlert.objects.create(course=course, measurement=measurement, instrument="phq9", items=["9"],
                                 raised_at=measurement.recorded_at, acknowledged_at=_local(last, 11),
                                 acknowledged_by=therapist, note="Called.")

    assert retention.last_contact(patient) == last
    assert due(dt.date(2046, 6, 14)) == []
    assert due(dt.date(2046, 6, 15)) == [DueRecord(patient.pk, patient.local_id, last, dt.date(2046, 6, 15))]


@pytest.mark.parametrize("attendance", [None, 2, 3, 7], ids=["booked", "cancelled", "did-not-attend", "not-seen"])
def test_a_session_that_was_not_attended_is_not_a_contact(therapist, attendance):
    """A booked (even future) or missed appointment does not push the retention date on."""
    referral, ended = dt.date(2025, 1, 10), dt.date(2025, 3, 1)
    patient = _patient(referral)
    course = _course(patient, therapist, started=referral, ended=ended)
    TherapySession.objects.create(course=course, scheduled_at=_local(dt.date(2026, 6, 15), 10), attendance=attendance)

    assert retention.last_contact(patient) == ended
    assert due(retention_date(ended)) == [DueRecord(patient.pk, patient.local_id, ended, retention_date(ended))]


def test_a_patient_in_an_active_course_is_never_due(therapist):
    patient = _patient(dt.date(2001, 1, 1))
    _course(patient, therapist, started=dt.date(2001, 2, 1), ended=None)
    assert due(TODAY) == []


def test_due_lists_oldest_id_first_and_honours_the_limit(db):
    patients = [_patient(dt.date(2020, 1, d)) for d in (3, 1, 2)]
    assert [r.patient_id for r in due(TODAY)] == [p.pk for p in patients]
    assert [r.patient_id for r in due(TODAY, limit=2)] == [p.pk for p in patients[:2]]
    with pytest.raises(ValueError, match="at least 1"):
        due(TODAY, limit=0)


def _clinic(therapist, n: int, *, recent: int = 0) -> None:
    """``n`` lapsed patients, each with an ended course, two sessions, a measurement and a
    submitted link; ``recent`` more seen last year (not due)."""
    for i in range(n + recent):
        year = 2045 if i >= n else 2020
        patient = _patient(dt.date(year - 1, 5, 1))
        course = _course(patient, therapist, started=dt.date(year - 1, 6, 1), ended=dt.date(year, 1, 1))
        for month in (7, 8):
            TherapySession.objects.create(course=course, scheduled_at=_local(dt.date(year - 1, month, 1)), attendance=5)
        Measurement.objects.create(course=course, instrument="phq9", answers={}, complete=False, prorated=False,
                                   recorded_at=_local(dt.date(year - 1, 8, 1)))
        QuestionnaireLink.objects.create(token_hash=f"t{patient.pk}", patient=patient, course=course,
                                         instruments=["phq9"], expires_at=_local(dt.date(year - 1, 9, 1)),
                                         submitted_at=_local(dt.date(year - 1, 8, 20)))


def test_due_makes_one_query_however_many_patients(therapist):
    _clinic(therapist, 2, recent=1)
    with CaptureQueriesContext(connection) as few:
        assert len(due(TODAY)) == 2
    _clinic(therapist, 6, recent=3)
    with CaptureQueriesContext(connection) as many:
        assert len(due(TODAY)) == 8
    assert len(few.captured_queries) == len(many.captured_queries) == 1


# --- The operational purge ------------------------------------------------------------------

NOW = dt.datetime(2046, 6, 15, 12, 0, tzinfo=dt.UTC)


def test_purge_operational_removes_each_kind_after_its_own_setting(therapist, settings, audit_trail):
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.sessions.models import Session
    from django_tasks_db.models import DBTaskResult

    settings.INTERPERSONAL_LINK_ATTEMPT_WINDOW_MINUTES = 15
    settings.INTERPERSONAL_RETENTION_LOGIN_LOG_DAYS = 90
    settings.INTERPERSONAL_RETENTION_TASK_RESULT_DAYS = 30
    settings.INTERPERSONAL_RETENTION_LINK_DRAFT_DAYS = 0
    for minutes in (16, 20, 14):
        TokenAttempt.objects.create(client=f"c{minutes}", at=NOW - dt.timedelta(minutes=minutes))

    patient = _patient(dt.date(2046, 1, 1))
    course = _course(patient, therapist, started=dt.date(2046, 1, 2), ended=None)
    draft = {"phq9": {"1": 2}}
    hour = dt.timedelta(hours=1)
    links = {
        "expired": {"expires_at": NOW - hour},
        "withdrawn": {"expires_at": NOW + hour, "withdrawn_at": NOW - hour},
        "open": {"expires_at": NOW + hour},
        "submitted_then_expired": {"expires_at": NOW - hour, "submitted_at": NOW - 2 * hour},
    }
    for name, fields in links.items():  # screening links (no course): a course holds one open link per session
        QuestionnaireLink.objects.create(token_hash=name, patient=patient, referral=course.referral,
                                         instruments=["phq9"], draft=draft, **fields)

    for model, extra in ((AccessAttempt, {"get_data": "", "post_data": "", "failures_since_start": 1}),
                         (AccessFailureLog, {}), (AccessLog, {})):
        for days in (91, 89):
            row = model.objects.create(user_agent="ua", ip_address="192.0.2.1", username=f"u{days}", http_accept="*/*",
                                       path_info=f"/{days}", **extra)
            model.objects.filter(pk=row.pk).update(attempt_time=NOW - dt.timedelta(days=days))

    def task(status: str, days: int) -> None:
        DBTaskResult.objects.create(task_path="t", args_kwargs={"args": [], "kwargs": {}}, status=status,
                                    backend_name="default", queue_name="default", run_after=NOW,
                                    finished_at=NOW - dt.timedelta(days=days) if status != "READY" else None,
                                    exception_class_path="", traceback="")

    task("SUCCESSFUL", 31)
    task("FAILED", 31)
    task("SUCCESSFUL", 29)
    task("READY", 0)
    Session.objects.create(session_key="a" * 32, session_data="", expire_date=NOW - hour)
    Session.objects.create(session_key="b" * 32, session_data="", expire_date=NOW + hour)

    counts = purge_operational(NOW)

    assert counts == {"token_attempts": 2, "link_drafts": 2, "login_attempts": 1, "login_failures": 1,
                      "login_logs": 1, "task_results": 2, "sessions": 1}
    assert list(TokenAttempt.objects.values_list("client", flat=True)) == ["c14"]
    assert {link.token_hash: link.draft for link in QuestionnaireLink.objects.all()} == {
        "expired": {}, "withdrawn": {}, "open": draft, "submitted_then_expired": draft}
    assert [m.objects.get().path_info for m in (AccessAttempt, AccessFailureLog, AccessLog)] == ["/89"] * 3
    assert sorted(DBTaskResult.objects.values_list("status", flat=True)) == ["READY", "SUCCESSFUL"]
    assert list(Session.objects.values_list("session_key", flat=True)) == ["b" * 32]
    (event,) = [e for e in audit_trail.new() if e.type == "retention.purged"]
    assert {k: event.data[k] for k in counts} == counts

    assert purge_operational(NOW) == dict.fromkeys(counts, 0)


def test_drafts_wait_for_their_setting(therapist, settings):
    settings.INTERPERSONAL_RETENTION_LINK_DRAFT_DAYS = 7
    patient = _patient(dt.date(2046, 1, 1))
    course = _course(patient, therapist, started=dt.date(2046, 1, 2), ended=None)
    for name, days in (("six", 6), ("eight", 8)):
        QuestionnaireLink.objects.create(token_hash=name, patient=patient, referral=course.referral,
                                         instruments=["phq9"], draft={"phq9": {"1": 1}},
                                         expires_at=NOW - dt.timedelta(days=days))
    assert purge_operational(NOW)["link_drafts"] == 1
    assert QuestionnaireLink.objects.get(token_hash="eight").draft == {}


# --- The command ----------------------------------------------------------------------------


def _run(*args: str, **options) -> str:
    out = io.StringIO()
    call_command("retention", *args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def lapsed(therapist):
    """Two patients seen last in 2001 (due now), and one seen this year."""
    old = [_patient(dt.date(2001, 3, d)) for d in (1, 2)]
    for p in old:
        _course(p, therapist, started=dt.date(2001, 4, 1), ended=dt.date(2001, 9, 1))
    recent = _patient(timezone.localdate() - dt.timedelta(days=30))
    return old, recent


def test_report_lists_the_due_patients_and_audits_the_list(lapsed, records_officer):
    old, _ = lapsed
    out = _run("report", "--by", records_officer.username)
    assert [line.split()[0] for line in out.splitlines()[:-1]] == [p.local_id for p in old]
    assert "last contact 2001-09-01" in out
    assert out.splitlines()[-1].startswith("2 patients past the retention period of 20 years")
    assert "0 patients" in _run("report", "--today", "2021-08-31", "--by", records_officer.username)
    listed = AuditEvent.objects.filter(type="records.retention_listed").order_by("id")
    assert [(e.actor_id, e.data["patient_ids"], e.data["via"]) for e in listed] == [
        (records_officer.pk, [p.pk for p in old], "cli"), (records_officer.pk, [], "cli")]


def test_report_needs_a_records_officer(lapsed, therapist):
    with pytest.raises(CommandError, match="not an active records officer"):
        _run("report", "--by", therapist.username)
    assert not AuditEvent.objects.filter(type="records.retention_listed").exists()


@pytest.fixture
def appraised(lapsed, tmp_path, records_officer):
    """The report's CSV, approved as it stands."""
    path = tmp_path / "due.csv"
    _run("report", "--csv", str(path), "--by", records_officer.username)
    return path


def test_report_writes_the_list_for_appraisal(lapsed, appraised):
    old, _ = lapsed
    lines = appraised.read_text().splitlines()
    assert lines[0] == "patient_id,local_id,last_contact,due_on"
    assert [line.split(",")[:3] for line in lines[1:]] == [[str(p.pk), p.local_id, "2001-09-01"] for p in old]


def test_apply_erases_the_approved_patients_then_purges(lapsed, appraised, records_officer):
    old, recent = lapsed
    TokenAttempt.objects.create(client="x", at=timezone.now() - dt.timedelta(days=1))

    out = _run("apply", "--approved", str(appraised), "--by", records_officer.username, "--yes")

    assert "Erased 2 of 2 approved records past retention (0 due but kept by the appraisal). Purged 1 token attempts" in out
    assert list(Patient.objects.values_list("pk", flat=True)) == [recent.pk]
    erased = AuditEvent.objects.filter(type="patient.erased").order_by("id")
    assert [(e.patient_id, e.data["reason"], e.data["reference"]) for e in erased] == [
        (p.pk, "retention_expired", f"retention {timezone.localdate()}") for p in old]
    assert AuditEvent.objects.filter(type="retention.purged").count() == 1
    assert chain.verify() == []


def test_a_due_record_the_appraisal_kept_is_not_erased(lapsed, appraised, records_officer):
    """The Code's periods are minimums followed by appraisal: a record left out of the list stays."""
    old, _ = lapsed
    header, first, _second = appraised.read_text().splitlines()
    appraised.write_text(f"{header}\n{first}\n")

    out = _run("apply", "--approved", str(appraised), "--by", records_officer.username, "--yes")

    assert "Erased 1 of 1 approved records past retention (1 due but kept by the appraisal)" in out
    assert not Patient.objects.filter(pk=old[0].pk).exists()
    assert Patient.objects.filter(pk=old[1].pk).exists()


def test_a_listed_record_that_is_not_due_is_named_and_kept(lapsed, tmp_path, records_officer):
    old, recent = lapsed
    approved = tmp_path / "approved.csv"
    approved.write_text(f"patient_id\n{old[0].pk}\n{recent.pk}\n")

    with pytest.raises(CommandError, match=rf"id {recent.pk}: not past its retention period today"):
        _run("apply", "--approved", str(approved), "--by", records_officer.username, "--yes")

    assert Patient.objects.filter(pk=recent.pk).exists()
    assert not Patient.objects.filter(pk=old[0].pk).exists()


@pytest.mark.parametrize(("content", "message"), [("id\n1\n", "no patient_id column"),
                                                  ("patient_id\nP000001\n", "line 2: patient_id 'P000001'")])
def test_a_malformed_approved_list_is_refused_and_nothing_is_erased(lapsed, tmp_path, records_officer, content,
                                                                   message):
    approved = tmp_path / "approved.csv"
    approved.write_text(content)
    with pytest.raises(CommandError, match=message):
        _run("apply", "--approved", str(approved), "--by", records_officer.username, "--yes")
    with pytest.raises(CommandError, match="No such file"):
        _run("apply", "--approved", str(tmp_path / "missing.csv"), "--by", records_officer.username, "--yes")
    assert Patient.objects.count() == 3


def test_purge_alone_touches_no_record(lapsed):
    TokenAttempt.objects.create(client="x", at=timezone.now() - dt.timedelta(days=1))

    out = _run("purge")

    assert "Purged 1 token attempts" in out
    assert Patient.objects.count() == 3
    assert AuditEvent.objects.get(type="retention.purged").actor_id is None


def test_apply_honours_the_limit(lapsed, appraised, records_officer):
    old, _ = lapsed
    _run("apply", "--approved", str(appraised), "--by", records_officer.username, "--yes", "--limit", "1")
    assert not Patient.objects.filter(pk=old[0].pk).exists()
    assert Patient.objects.filter(pk=old[1].pk).exists()


def test_apply_names_a_patient_it_could_not_erase_and_exits_non_zero(lapsed, appraised, records_officer):
    old, _ = lapsed
    RiskAlert.objects.create(course=old[0].courses.get(), instrument="phq9", items=["9"],
                             raised_at=_local(dt.date(2001, 8, 1)))

    with pytest.raises(CommandError, match=rf"1 record not erased:\n  {old[0].local_id} \(id {old[0].pk}\): .*unacknowledged"):
        _run("apply", "--approved", str(appraised), "--by", records_officer.username, "--yes")

    assert Patient.objects.filter(pk=old[0].pk).exists()
    assert not Patient.objects.filter(pk=old[1].pk).exists()


def test_apply_without_yes_asks_and_otherwise_changes_nothing(lapsed, appraised, records_officer):
    with pytest.raises(CommandError, match="Nothing erased"):
        _run("apply", "--approved", str(appraised), "--by", records_officer.username)
    assert Patient.objects.count() == 3
    assert not AuditEvent.objects.filter(type__in=["patient.erased", "retention.purged"]).exists()


def test_apply_needs_a_records_officer(lapsed, appraised, therapist):
    with pytest.raises(CommandError, match="not an active records officer"):
        _run("apply", "--approved", str(appraised), "--by", therapist.username, "--yes")
    assert Patient.objects.count() == 3


@pytest.mark.parametrize("args", [["report", "--limit", "0", "--by", "x"], ["report", "--today", "15/06/2046", "--by", "x"],
                                  ["report"], ["erase"],
                                  ["apply", "--by", "someone", "--yes"]])
def test_bad_arguments_are_refused(db, args):
    with pytest.raises(CommandError):
        _run(*args)
