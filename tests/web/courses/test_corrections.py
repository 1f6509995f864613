"""Corrections of recorded sessions and measures (issue 14): with a reason, the earlier value
kept, audited, stale copies refused; counts, risk alerts and outcome summaries follow.

Clinical facts used (DOMAIN.md §3, §4): PHQ-9 is 9 items scored 0–3, total 0–27, and any
answer above 0 on item 9 (thoughts of self-harm) raises a risk alert (Kroenke, Spitzer &
Williams 2001, J Gen Intern Med 16:606–613); an attended session is code 5 or 6 of the NHS
Talking Therapies attendance codes, and only attended treatment sessions count.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.assessments.actions import acknowledge_alert, record_measurement
from interpersonal.web.assessments.alerts import describe_alert
from interpersonal.web.assessments.corrections import correct_measurement, delete_measurement
from interpersonal.web.assessments.models import Measurement, MeasurementCorrection, RiskAlert
from interpersonal.web.courses import caseload
from interpersonal.web.courses.access import caseload_for
from interpersonal.web.courses.actions import record_session
from interpersonal.web.courses.corrections import correct_session, delete_session
from interpersonal.web.courses.models import SessionCorrection, TherapySession
from interpersonal.web.courses.summary import summarise
from interpersonal.web.outcomes import summaries
from interpersonal.web.outcomes.models import ReferralSummary
from tests.conftest import PHQ9_ITEM9_ONE

pytestmark = pytest.mark.django_db

NO_RISK = PHQ9_ITEM9_ONE | {"9": 0}  # total 3, item 9 = 0: no risk answer
MODERATE = {str(i): 2 for i in range(1, 10)} | {"9": 0}  # total 16


def _summary(referral_id: int) -> dict:
    row = ReferralSummary.objects.filter(referral_id=referral_id).values().get()
    row.pop("refreshed_at")
    row.pop("id")
    return row


def _rebuilt(referral_id: int) -> dict:
    summaries.rebuild()
    return _summary(referral_id)


def _fields(session: TherapySession, **changes) -> dict:
    values = {"scheduled_at": session.scheduled_at, "attendance": session.attendance,
              "duration_minutes": session.duration_minutes, "medium": session.medium, "notes": session.notes,
              "home_practice": session.home_practice}
    return values | changes


# --- sessions ------------------------------------------------------------------------------

def test_correcting_a_sessions_attendance_keeps_the_earlier_values_and_is_audited(
        dit_course, therapist, attended_session, audit_trail):
    corrected = correct_session(session=attended_session, by=therapist, expected_version=1,
                                reason="Patient cancelled; recorded as attended by mistake",
                                **_fields(attended_session, attendance=2, duration_minutes=None))
    assert (corrected.attendance, corrected.version) == (2, 2)
    history = SessionCorrection.objects.get(session=attended_session)
    assert history.kind == "corrected"
    assert history.previous["attendance"] == 5
    assert history.previous["duration_minutes"] == 50
    assert (history.by, history.version, history.reason) == (therapist, 1, "Patient cancelled; recorded as attended by mistake")
    event = next(e for e in audit_trail.new() if e.type == "session.corrected")
    assert event.data["changed"] == ["attendance", "duration_minutes"]
    assert "mistake" not in str(event.data)  # the reason is clinical free text: kept in history, not the audit trail
    assert summarise(dit_course).attended == 0
    assert _summary(dit_course.referral_id)["attended_treatment"] == 0


def test_a_deleted_session_leaves_every_count_but_stays_in_history(dit_course, therapist, attended_session, audit_trail):
    assert _summary(dit_course.referral_id)["attended_treatment"] == 1
    delete_session(session=attended_session, by=therapist, expected_version=1, reason="Recorded for the wrong patient")
    assert not TherapySession.objects.filter(pk=attended_session.pk).exists()
    assert TherapySession.all_rows.get(pk=attended_session.pk).entered_in_error_at is not None
    assert summarise(dit_course).attended == 0
    assert caseload.rows(caseload_for(therapist))[0].attended == 0
    assert _summary(dit_course.referral_id) == _rebuilt(dit_course.referral_id)
    assert _summary(dit_course.referral_id)["attended_treatment"] == 0
    history = SessionCorrection.objects.get(session_id=attended_session.pk)
    assert (history.kind, history.previous["attendance"]) == ("entered_in_error", 5)
    assert "session.deleted" in audit_trail.new_types()


def test_a_stale_session_correction_is_refused_and_changes_nothing(therapist, attended_session):
    correct_session(session=attended_session, by=therapist, expected_version=1, reason="Duration was 45",
                    **_fields(attended_session, duration_minutes=45))
    with pytest.raises(ValidationError, match="changed \\(or deleted\\) after you opened it"):
        correct_session(session=attended_session, by=therapist, expected_version=1, reason="Duration was 60",
                        **_fields(attended_session, duration_minutes=60))
    attended_session.refresh_from_db()
    assert (attended_session.duration_minutes, attended_session.version) == (45, 2)
    assert SessionCorrection.objects.filter(session=attended_session).count() == 1


@pytest.mark.parametrize("reason", ["", "  ", "x" * 1001])
def test_a_session_correction_needs_a_bounded_reason(therapist, attended_session, reason):
    with pytest.raises(ValidationError) as exc:
        correct_session(session=attended_session, by=therapist, expected_version=1, reason=reason,
                        **_fields(attended_session, duration_minutes=45))
    assert "reason" in exc.value.error_dict
    attended_session.refresh_from_db()
    assert (attended_session.duration_minutes, attended_session.version) == (50, 1)


def test_only_the_courses_therapist_may_correct_not_the_supervisor(supervisor, unrelated_therapist, attended_session):
    for user in (supervisor, unrelated_therapist):
        with pytest.raises(ValidationError):
            delete_session(session=attended_session, by=user, expected_version=1, reason="Not mine to delete")
    assert TherapySession.objects.filter(pk=attended_session.pk).exists()


def test_a_session_with_a_measure_cannot_be_deleted_or_made_not_attended(therapist, attended_session, risk_alert):
    with pytest.raises(ValidationError, match="Measures were recorded at this session"):
        delete_session(session=attended_session, by=therapist, expected_version=1, reason="Wrong date")
    with pytest.raises(ValidationError, match="Measures were recorded"):
        correct_session(session=attended_session, by=therapist, expected_version=1, reason="DNA really",
                        **_fields(attended_session, attendance=3))
    assert TherapySession.objects.get(pk=attended_session.pk).attendance == 5


def test_a_session_corrected_to_nothing_new_is_refused(therapist, attended_session):
    with pytest.raises(ValidationError, match="Nothing was changed"):
        correct_session(session=attended_session, by=therapist, expected_version=1, reason="Checking",
                        **_fields(attended_session))


def test_moving_a_session_earlier_renumbers_the_attended_sessions(dit_course, therapist, attended_session):
    later = record_session(course=dit_course, by=therapist, attendance=5, duration_minutes=50,
                           scheduled_at=timezone.now() - dt.timedelta(days=1))
    correct_session(session=later, by=therapist, expected_version=1, reason="It was the first session",
                    **_fields(later, scheduled_at=timezone.now() - dt.timedelta(days=14)))
    numbers = {row.session.pk: row.number for row in summarise(dit_course).sessions}
    assert numbers == {later.pk: 1, attended_session.pk: 2}


# --- measures ------------------------------------------------------------------------------

def test_a_corrected_measure_is_rescored_and_the_earlier_answers_kept(dit_course, therapist, attended_session,
                                                                      audit_trail):
    m = record_measurement(course=dit_course, instrument="phq9", answers=NO_RISK, by=therapist,
                           session=attended_session, recorded_at=attended_session.scheduled_at)
    assert m.total == 3
    corrected = correct_measurement(measurement=m, by=therapist, expected_version=1, reason="Typed item 1 wrongly",
                                    answers=MODERATE)
    assert (corrected.total, corrected.severity, corrected.caseness, corrected.version) == (16, "Moderately severe", True, 2)
    history = MeasurementCorrection.objects.get(measurement=m)
    assert (history.previous["total"], history.previous["answers"]["1"]) == (3, 1)
    assert "measurement.corrected" in audit_trail.new_types()
    assert summarise(dit_course).first["phq9"] == 16
    assert _summary(dit_course.referral_id)["phq9_first"] == 16
    assert _summary(dit_course.referral_id) == _rebuilt(dit_course.referral_id)


def test_a_correction_that_adds_a_risk_answer_raises_an_alert(dit_course, therapist, attended_session, audit_trail):
    m = record_measurement(course=dit_course, instrument="phq9", answers=NO_RISK, by=therapist,
                           session=attended_session, recorded_at=attended_session.scheduled_at)
    assert not RiskAlert.objects.filter(course=dit_course).exists()
    correct_measurement(measurement=m, by=therapist, expected_version=1, reason="Item 9 was 1, not 0",
                        answers=PHQ9_ITEM9_ONE)
    alert = RiskAlert.objects.get(measurement=m)
    assert alert.open
    assert alert.items == ["9"]
    assert "risk_alert.raised" in audit_trail.new_types()
    assert caseload.rows(caseload_for(therapist))[0].open_alerts == 1


def test_an_alert_whose_measure_is_corrected_to_no_risk_stays_open_and_says_so(therapist, risk_alert):
    correct_measurement(measurement=risk_alert.measurement, by=therapist, expected_version=1,
                        reason="Item 9 was 0: typed in the wrong row", answers=NO_RISK)
    risk_alert.refresh_from_db()
    assert risk_alert.open
    assert risk_alert.items == ["9"]
    text = describe_alert(RiskAlert.objects.select_related("measurement").get(pk=risk_alert.pk)).corrected
    assert "the corrected answers carry no risk" in text
    assert "stays open until a clinician acknowledges it" in text


def test_an_alert_whose_measure_is_deleted_stays_open(dit_course, therapist, risk_alert):
    delete_measurement(measurement=risk_alert.measurement, by=therapist, expected_version=1,
                       reason="Entered for the wrong patient")
    risk_alert.refresh_from_db()
    assert risk_alert.open
    assert "deleted as entered in error" in describe_alert(risk_alert).corrected
    assert summarise(dit_course).series == []
    assert _summary(dit_course.referral_id)["phq9_n"] == 0


def test_an_acknowledged_alert_reopens_when_the_corrected_risk_answer_changes(therapist, risk_alert):
    acknowledge_alert(alert=risk_alert, by=therapist, note="Safety plan reviewed")
    answers = PHQ9_ITEM9_ONE | {"9": 3}
    correct_measurement(measurement=risk_alert.measurement, by=therapist, expected_version=1,
                        reason="Item 9 was 3 (nearly every day)", answers=answers)
    risk_alert.refresh_from_db()
    assert risk_alert.open
    assert risk_alert.note == ""
    kept = MeasurementCorrection.objects.get(measurement_id=risk_alert.measurement_id).previous["alert"]
    assert (kept["open"], kept["note"]) == (False, "Safety plan reviewed")


def test_an_acknowledged_alert_stays_acknowledged_when_risk_answers_are_unchanged(therapist, risk_alert):
    acknowledge_alert(alert=risk_alert, by=therapist, note="Safety plan reviewed")
    correct_measurement(measurement=risk_alert.measurement, by=therapist, expected_version=1,
                        reason="Item 1 was 3", answers=PHQ9_ITEM9_ONE | {"1": 3})
    risk_alert.refresh_from_db()
    assert not risk_alert.open
    assert risk_alert.measurement_corrected_at is not None


def test_a_stale_measure_correction_is_refused(therapist, risk_alert):
    m = risk_alert.measurement
    correct_measurement(measurement=m, by=therapist, expected_version=1, reason="Item 1 was 3",
                        answers=PHQ9_ITEM9_ONE | {"1": 3})
    with pytest.raises(ValidationError, match="after you opened it"):
        delete_measurement(measurement=Measurement.objects.get(pk=m.pk), by=therapist, expected_version=1,
                           reason="Stale page")
    assert Measurement.objects.get(pk=m.pk).version == 2


def test_invalid_corrected_answers_are_refused_and_change_nothing(therapist, risk_alert):
    with pytest.raises(ValidationError) as exc:
        correct_measurement(measurement=risk_alert.measurement, by=therapist, expected_version=1, reason="Typo",
                            answers=PHQ9_ITEM9_ONE | {"1": 7})
    assert "item_1" in exc.value.error_dict
    m = Measurement.objects.get(pk=risk_alert.measurement_id)
    assert (m.total, m.version, m.corrections.count()) == (4, 1, 0)


def test_a_supervisor_cannot_correct_a_measure(supervisor, risk_alert):
    with pytest.raises(ValidationError):
        correct_measurement(measurement=risk_alert.measurement, by=supervisor, expected_version=1, reason="Nope",
                            answers=NO_RISK)
    assert Measurement.objects.get(pk=risk_alert.measurement_id).version == 1


# --- pages ---------------------------------------------------------------------------------

def test_the_course_page_links_each_row_to_its_correction_for_the_therapist_only(
        client_for, dit_course, therapist, supervisor, risk_alert):
    session_url = reverse("courses:correct_session", args=[dit_course.pk, risk_alert.measurement.session_id])
    measure_url = reverse("courses:correct_measure", args=[dit_course.pk, risk_alert.measurement_id])
    page = client_for(therapist).get(reverse("courses:detail", args=[dit_course.pk])).content.decode()
    assert session_url in page
    assert measure_url in page
    page = client_for(supervisor).get(reverse("courses:detail", args=[dit_course.pk])).content.decode()
    assert session_url not in page
    assert measure_url not in page
    assert client_for(supervisor).get(session_url).status_code == 403


def test_correcting_a_session_through_the_page_shows_the_history(client_for, dit_course, therapist, attended_session):
    client = client_for(therapist)
    url = reverse("courses:correct_session", args=[dit_course.pk, attended_session.pk])
    form = client.get(url)
    assert form.context["form"]["attendance"].value() == 5
    when = timezone.localtime(attended_session.scheduled_at)
    response = client.post(url, {"date": when.date().isoformat(), "time": when.strftime("%H:%M"), "attendance": "5",
                                 "duration_minutes": "45", "medium": "video", "notes": "", "home_practice": "",
                                 "reason": "It was by video, 45 minutes", "version": "1"})
    assert response.status_code == 302
    page = client.get(reverse("courses:detail", args=[dit_course.pk])).content.decode()
    assert "Corrected</span>" in page
    assert "It was by video, 45 minutes" in page
    assert "Medium: Face to face" in page  # the earlier value, in the history
    assert "Minutes: 50" in page


def test_a_stale_page_is_refused_with_a_clear_message(client_for, dit_course, therapist, attended_session):
    client = client_for(therapist)
    url = reverse("courses:delete_session", args=[dit_course.pk, attended_session.pk])
    TherapySession.all_rows.filter(pk=attended_session.pk).update(version=2)  # saved meanwhile, in another tab
    response = client.post(url, {"delete-reason": "Wrong patient", "delete-version": "1"})
    assert response.status_code == 400
    assert "changed (or deleted) after you opened it" in response.content.decode()
    assert TherapySession.objects.filter(pk=attended_session.pk).exists()


def test_correcting_a_measure_through_the_page_rescores_it(client_for, dit_course, therapist, risk_alert):
    client = client_for(therapist)
    url = reverse("courses:correct_measure", args=[dit_course.pk, risk_alert.measurement_id])
    shown = client.get(url).content.decode()
    assert 'name="phq9-item_9" value="1" id="id_phq9-item_9_1" checked>' in shown  # the stored answer, to correct
    data = {f"phq9-item_{k}": str(v) for k, v in (PHQ9_ITEM9_ONE | {"9": 0}).items()}
    response = client.post(url, data | {"reason": "Item 9 was 0", "version": "1"})
    assert response.status_code == 302
    m = Measurement.objects.get(pk=risk_alert.measurement_id)
    assert (m.total, m.risk, m.version) == (3, [], 2)
    page = client.get(reverse("courses:detail", args=[dit_course.pk])).content.decode()
    assert "the corrected answers carry no risk" in page
    assert "Open: PHQ-9" in page


def test_a_correction_opened_before_attendance_was_recorded_is_refused(dit_course, therapist):
    from interpersonal.web.courses.actions import record_attendance

    booked = record_session(course=dit_course, by=therapist, attendance=None,
                            scheduled_at=timezone.now() - dt.timedelta(days=2))
    record_attendance(session=booked, attendance=5, by=therapist, duration_minutes=50)  # meanwhile, elsewhere
    with pytest.raises(ValidationError, match="after you opened it"):
        correct_session(session=booked, by=therapist, expected_version=1, reason="It was a DNA",
                        **_fields(booked, attendance=3))
    assert TherapySession.objects.get(pk=booked.pk).attendance == 5


def test_the_caseload_leaves_out_a_deleted_measure_and_a_deleted_booking(dit_course, therapist, risk_alert):
    booked = record_session(course=dit_course, by=therapist, attendance=None,
                            scheduled_at=timezone.now() + dt.timedelta(days=3))
    before = caseload.rows(caseload_for(therapist))[0]
    assert (before.trends["phq9"].last, before.next_session) == (4, booked.scheduled_at)
    delete_measurement(measurement=risk_alert.measurement, by=therapist, expected_version=1, reason="Wrong patient")
    delete_session(session=booked, by=therapist, expected_version=1, reason="Booked for the wrong patient")
    after = caseload.rows(caseload_for(therapist))[0]
    assert (after.trends["phq9"].last, after.next_session) == (None, None)
    assert after.open_alerts == 1  # the alert of the deleted measure stays open until acknowledged
