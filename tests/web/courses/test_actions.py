"""courses.actions: start, end and step up courses; record sessions; tick phase tasks."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from interpersonal.web.courses.actions import (
    end_course,
    record_attendance,
    record_session,
    set_task,
    start_course,
    step_up,
)
from interpersonal.web.courses.models import Course, TaskCompletion, TherapySession
from interpersonal.web.referrals.actions import receive_referral

LONDON = ZoneInfo("Europe/London")


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


def assert_identifiers_only(events, *forbidden: str) -> None:
    blob = json.dumps([e.data for e in events])
    for text in forbidden:
        assert text not in blob, f"{text!r} leaked into the audit trail"


def snapshot(course: Course) -> tuple:
    course.refresh_from_db()
    return (course.status, course.ended_on, course.end_reason, course.version)


@pytest.fixture
def lit_course(patient, therapist):
    return start_course(patient=patient, protocol="lit", therapist=therapist, by=therapist, started_on=days_ago(50))


# --- start_course ---------------------------------------------------------------------------


def test_start_course_uses_protocol_default_sessions_and_audits(patient, therapist, audit_trail):
    course = start_course(patient=patient, protocol="ipt", therapist=therapist, by=therapist, started_on=days_ago(3))

    assert (course.protocol, course.planned_sessions, course.status) == ("ipt", 16, "active")
    events = audit_trail.new()
    assert [(e.type, e.target_type, e.target_id, e.patient_id) for e in events] == [
        ("course.started", "course", str(course.pk), patient.pk),
        ("referral.in_treatment", "referral", str(course.referral_id), patient.pk),
    ]
    assert events[0].data == {"protocol": "ipt", "therapist_id": therapist.pk, "stepped_from": None,
                              "referral_id": course.referral_id}


def test_start_course_unknown_protocol_refused(patient, therapist, audit_trail):
    with pytest.raises(ValidationError) as exc:
        start_course(patient=patient, protocol="psychoanalysis", therapist=therapist, by=therapist)

    assert "protocol" in exc.value.message_dict
    assert not Course.objects.exists()
    assert audit_trail.new() == []


@pytest.mark.parametrize(("protocol", "planned"), [("ipt", 25), ("ipt", 11), ("dit", 12), ("lit", 9), ("ipt", 0)])
def test_start_course_planned_sessions_outside_protocol_range_refused(patient, therapist, protocol, planned):
    with pytest.raises(ValidationError) as exc:
        start_course(patient=patient, protocol=protocol, therapist=therapist, by=therapist, planned_sessions=planned)

    assert "planned_sessions" in exc.value.message_dict
    assert not Course.objects.exists()


def test_start_course_ipt_twenty_sessions_accepted(patient, therapist):
    course = start_course(patient=patient, protocol="ipt", therapist=therapist, by=therapist, planned_sessions=20)

    assert course.planned_sessions == 20


def test_start_course_second_active_course_refused(dit_course, patient, therapist, audit_trail):
    with pytest.raises(ValidationError, match="already has an active course"):
        start_course(patient=patient, protocol="ipt", therapist=therapist, by=therapist)

    assert list(Course.objects.all()) == [dit_course]
    assert audit_trail.new() == []


def test_start_course_stepped_from_does_not_bypass_the_one_active_course_rule(lit_course, patient, therapist):
    """Bug: start_course skips the 'already has an active course' check whenever
    ``stepped_from`` is given, so passing any ended course lets a patient hold two active
    courses. (step_up ends the old course first, so it never needs the exemption.)"""
    end_course(course=lit_course, reason="completed", by=therapist)
    receive_referral(patient=patient, by=therapist, source="gp", received_on=days_ago(6))  # re-referred
    start_course(patient=patient, protocol="ipt", therapist=therapist, by=therapist, started_on=days_ago(5))

    with pytest.raises(ValidationError):
        start_course(patient=patient, protocol="cbt", therapist=therapist, by=therapist, stepped_from=lit_course)

    assert Course.objects.filter(patient=patient, status="active").count() == 1


@pytest.mark.parametrize("persona", ["service_lead", "clinic_admin"])
def test_start_course_by_non_clinician_refused(request, patient, therapist, persona):
    with pytest.raises(ValidationError):
        start_course(patient=patient, protocol="dit", therapist=therapist, by=request.getfixturevalue(persona))

    assert not Course.objects.exists()


def test_start_course_for_a_therapist_without_caseload_refused(patient, therapist, service_lead):
    with pytest.raises(ValidationError) as exc:
        start_course(patient=patient, protocol="dit", therapist=service_lead, by=therapist)

    assert "therapist" in exc.value.message_dict


def test_start_course_more_than_a_year_ahead_refused(patient, therapist):
    with pytest.raises(ValidationError) as exc:
        start_course(patient=patient, protocol="dit", therapist=therapist, by=therapist,
                     started_on=timezone.localdate() + dt.timedelta(days=400))

    assert "started_on" in exc.value.message_dict


# --- end_course -----------------------------------------------------------------------------


def test_end_course_records_reason_and_nhs_end_code(dit_course, therapist, audit_trail):
    end_course(course=dit_course, reason="completed", by=therapist, ended_on=days_ago(1))

    assert snapshot(dit_course) == ("ended", days_ago(1), "completed", 2)
    events = audit_trail.new()
    assert [e.type for e in events] == ["course.ended", "referral.discharged"]
    assert events[0].data == {"reason": "completed", "nhs_end_code": 46}
    assert events[1].data == {"reason": "completed", "nhs_end_code": 46, "course_id": dit_course.pk}
    assert events[0].target_id == str(dit_course.pk)


def test_end_course_twice_refused_with_clear_error_and_nothing_changed(dit_course, therapist, audit_trail):
    end_course(course=dit_course, reason="dropped_out", by=therapist, ended_on=days_ago(2))
    before = snapshot(dit_course)
    audit_trail.mark()

    with pytest.raises(ValidationError, match="ended on"):
        end_course(course=dit_course, reason="completed", by=therapist)

    assert snapshot(dit_course) == before == ("ended", days_ago(2), "dropped_out", 2)
    assert audit_trail.new() == []


def test_end_course_with_a_stale_course_object_refused(dit_course, therapist):
    stale = Course.objects.get(pk=dit_course.pk)
    end_course(course=dit_course, reason="completed", by=therapist)

    with pytest.raises(ValidationError):
        end_course(course=stale, reason="dropped_out", by=therapist)

    assert snapshot(dit_course)[2] == "completed"


def test_end_course_invalid_reason_refused(dit_course, therapist, audit_trail):
    with pytest.raises(ValidationError) as exc:
        end_course(course=dit_course, reason="bored", by=therapist)

    assert "reason" in exc.value.message_dict
    assert snapshot(dit_course) == ("active", None, "", 1)
    assert audit_trail.new() == []


def test_end_course_date_before_start_refused(dit_course, therapist):
    with pytest.raises(ValidationError) as exc:
        end_course(course=dit_course, reason="completed", by=therapist, ended_on=dit_course.started_on - dt.timedelta(days=1))

    assert "ended_on" in exc.value.message_dict
    assert snapshot(dit_course) == ("active", None, "", 1)


def test_end_course_date_in_future_refused(dit_course, therapist):
    with pytest.raises(ValidationError) as exc:
        end_course(course=dit_course, reason="completed", by=therapist, ended_on=timezone.localdate() + dt.timedelta(days=1))

    assert "ended_on" in exc.value.message_dict


@pytest.mark.parametrize("persona", ["unrelated_therapist", "supervisor", "service_lead"])
def test_end_course_by_anyone_but_its_therapist_refused(request, dit_course, persona):
    with pytest.raises(ValidationError):
        end_course(course=dit_course, reason="completed", by=request.getfixturevalue(persona))

    assert snapshot(dit_course) == ("active", None, "", 1)


# --- end_course with open risk alerts -------------------------------------------------------

ACK = "Phoned the patient; safety plan reviewed."


def test_ending_course_with_open_alert_needs_a_recorded_decision(risk_alert, dit_course, therapist, audit_trail):
    audit_trail.mark()

    with pytest.raises(ValidationError) as exc:
        end_course(course=dit_course, reason="dropped_out", by=therapist)

    assert "1 open risk alert" in exc.value.message_dict["alerts"][0]
    assert snapshot(dit_course)[0] == "active"
    assert audit_trail.new() == []


def test_ending_course_acknowledging_each_open_alert_audits_ids_without_the_note(risk_alert, dit_course, therapist,
                                                                                 audit_trail):
    audit_trail.mark()

    end_course(course=dit_course, reason="dropped_out", by=therapist, alert_notes={risk_alert.pk: ACK})

    risk_alert.refresh_from_db()
    assert (risk_alert.open, risk_alert.note, risk_alert.acknowledged_by) == (False, ACK, therapist)
    assert snapshot(dit_course)[0] == "ended"
    events = audit_trail.new()
    assert [e.type for e in events] == ["risk_alert.acknowledged", "course.ended", "referral.discharged"]
    assert events[1].data == {"reason": "dropped_out", "nhs_end_code": 47, "open_alert_ids": [risk_alert.pk],
                              "open_alerts_decision": "acknowledged"}
    assert ACK not in str([e.data for e in events])


def test_ending_course_with_alert_left_open_keeps_it_open_and_audits_the_reason_code(risk_alert, dit_course, therapist,
                                                                                     audit_trail):
    audit_trail.mark()

    end_course(course=dit_course, reason="dropped_out", by=therapist,
               alerts_left_open="followed_up_elsewhere", alerts_seen=[risk_alert.pk])

    risk_alert.refresh_from_db()
    assert risk_alert.open
    assert [e.type for e in audit_trail.new()][-2:] == ["course.ended", "referral.discharged"]
    assert audit_trail.new()[-2].data == {
        "reason": "dropped_out", "nhs_end_code": 47, "open_alert_ids": [risk_alert.pk],
        "open_alerts_decision": "left_open", "open_alerts_left_open_reason": "followed_up_elsewhere"}


def test_ending_course_with_an_empty_acknowledgement_note_ends_nothing(risk_alert, dit_course, therapist):
    with pytest.raises(ValidationError) as exc:
        end_course(course=dit_course, reason="dropped_out", by=therapist, alert_notes={risk_alert.pk: "  "})

    assert f"note_{risk_alert.pk}" in exc.value.message_dict
    risk_alert.refresh_from_db()
    assert risk_alert.open
    assert snapshot(dit_course)[0] == "active"


def test_ending_course_with_an_unknown_left_open_reason_refused(risk_alert, dit_course, therapist):
    with pytest.raises(ValidationError) as exc:
        end_course(course=dit_course, reason="dropped_out", by=therapist, alerts_left_open="fine",
                   alerts_seen=[risk_alert.pk])

    assert "alerts_left_open" in exc.value.message_dict
    assert snapshot(dit_course)[0] == "active"


def test_ending_course_refused_when_an_alert_was_raised_after_the_form_was_shown(risk_alert, dit_course, therapist):
    from interpersonal.web.assessments.actions import record_measurement

    record_measurement(course=dit_course, instrument="phq9", by=therapist,
                       answers={str(i): 1 for i in range(1, 10)})  # item 9 = 1: a second alert

    with pytest.raises(ValidationError, match="changed while you were on this page"):
        end_course(course=dit_course, reason="dropped_out", by=therapist,
                   alerts_left_open="following_up", alerts_seen=[risk_alert.pk])

    assert snapshot(dit_course)[0] == "active"


def test_ending_course_both_acknowledging_and_leaving_open_refused(risk_alert, dit_course, therapist):
    with pytest.raises(ValidationError, match="not both"):
        end_course(course=dit_course, reason="dropped_out", by=therapist, alert_notes={risk_alert.pk: ACK},
                   alerts_left_open="following_up", alerts_seen=[risk_alert.pk])

    assert snapshot(dit_course)[0] == "active"


def test_ending_course_with_alert_left_open_keeps_the_decision_on_the_alert(risk_alert, dit_course, therapist):
    end_course(course=dit_course, reason="dropped_out", by=therapist,
               alerts_left_open="supervisor_to_review", alerts_seen=[risk_alert.pk])

    risk_alert.refresh_from_db()
    assert risk_alert.open
    assert (risk_alert.left_open_reason, risk_alert.left_open_by) == ("supervisor_to_review", therapist)
    assert timezone.now() - risk_alert.left_open_at < dt.timedelta(minutes=1)


def test_ending_course_acknowledging_the_alerts_records_no_left_open_decision(risk_alert, dit_course, therapist):
    end_course(course=dit_course, reason="dropped_out", by=therapist, alert_notes={risk_alert.pk: ACK})

    risk_alert.refresh_from_db()
    assert (risk_alert.left_open_reason, risk_alert.left_open_by, risk_alert.left_open_at) == ("", None, None)


def test_ending_course_with_an_unknown_left_open_reason_records_nothing_on_the_alert(risk_alert, dit_course, therapist):
    with pytest.raises(ValidationError):
        end_course(course=dit_course, reason="dropped_out", by=therapist, alerts_left_open="fine",
                   alerts_seen=[risk_alert.pk])

    risk_alert.refresh_from_db()
    assert (risk_alert.left_open_reason, risk_alert.left_open_at) == ("", None)


def test_stepping_up_with_open_alert_needs_the_same_recorded_decision_as_ending(risk_alert, dit_course, therapist,
                                                                                audit_trail):
    audit_trail.mark()

    with pytest.raises(ValidationError) as exc:
        end_course(course=dit_course, reason="stepped_up", by=therapist)

    assert "1 open risk alert" in exc.value.message_dict["alerts"][0]
    assert snapshot(dit_course)[0] == "active"
    assert audit_trail.new() == []


# --- step_up --------------------------------------------------------------------------------


def test_step_up_lit_to_ipt_keeps_both_courses_linked(lit_course, patient, therapist, audit_trail):
    new = step_up(course=lit_course, protocol="ipt", therapist=therapist, by=therapist)

    lit_course.refresh_from_db()
    assert (lit_course.status, lit_course.end_reason, lit_course.ended_on) == ("ended", "stepped_up", timezone.localdate())
    assert (new.protocol, new.status, new.stepped_from) == ("ipt", "active", lit_course)
    assert lit_course.stepped_to == new
    assert list(patient.courses.order_by("id")) == [lit_course, new]
    events = audit_trail.new()
    assert [e.type for e in events] == ["course.ended", "course.started"]
    assert events[0].data == {"reason": "stepped_up", "nhs_end_code": None}
    assert events[1].data["stepped_from"] == lit_course.pk


def test_step_up_dit_to_lit_refused(dit_course, therapist, audit_trail):
    with pytest.raises(ValidationError) as exc:
        step_up(course=dit_course, protocol="lit", therapist=therapist, by=therapist)

    assert "protocol" in exc.value.message_dict
    assert snapshot(dit_course) == ("active", None, "", 1)
    assert Course.objects.count() == 1
    assert audit_trail.new() == []


def test_step_up_to_same_step_refused(dit_course, therapist):
    with pytest.raises(ValidationError):
        step_up(course=dit_course, protocol="ipt", therapist=therapist, by=therapist)

    assert snapshot(dit_course)[0] == "active"


def test_step_up_with_invalid_planned_sessions_rolls_back_the_ending(lit_course, therapist, audit_trail):
    with pytest.raises(ValidationError) as exc:
        step_up(course=lit_course, protocol="ipt", therapist=therapist, by=therapist, planned_sessions=25)

    assert "planned_sessions" in exc.value.message_dict
    assert snapshot(lit_course) == ("active", None, "", 1)
    assert Course.objects.count() == 1
    assert audit_trail.new() == []


def test_step_up_an_ended_course_refused(lit_course, therapist):
    step_up(course=lit_course, protocol="ipt", therapist=therapist, by=therapist)

    with pytest.raises(ValidationError):
        step_up(course=lit_course, protocol="cbt", therapist=therapist, by=therapist)

    assert Course.objects.count() == 2


def lit_alert(lit_course, therapist):
    from interpersonal.web.assessments.actions import record_measurement

    return record_measurement(course=lit_course, instrument="phq9", by=therapist,
                              answers={str(i): 1 for i in range(1, 10)}).risk_alert  # item 9 = 1


def test_step_up_with_open_alert_and_no_decision_refused_and_starts_nothing(lit_course, patient, therapist, audit_trail):
    alert = lit_alert(lit_course, therapist)
    audit_trail.mark()

    with pytest.raises(ValidationError) as exc:
        step_up(course=lit_course, protocol="ipt", therapist=therapist, by=therapist)

    assert "1 open risk alert" in exc.value.message_dict["alerts"][0]
    assert snapshot(lit_course)[0] == "active"
    assert list(patient.courses.all()) == [lit_course]
    alert.refresh_from_db()
    assert (alert.open, alert.left_open_reason) == (True, "")
    assert audit_trail.new() == []


def test_step_up_leaving_the_alert_open_records_the_decision_on_it_and_in_the_audit(lit_course, therapist, audit_trail):
    alert = lit_alert(lit_course, therapist)
    audit_trail.mark()

    new = step_up(course=lit_course, protocol="ipt", therapist=therapist, by=therapist,
                  alerts_left_open="following_up", alerts_seen=[alert.pk])

    alert.refresh_from_db()
    assert (alert.open, alert.course_id, alert.left_open_reason, alert.left_open_by) == (
        True, lit_course.pk, "following_up", therapist)
    assert new.is_active
    ended = [e for e in audit_trail.new() if e.type == "course.ended"]
    assert ended[0].data == {"reason": "stepped_up", "nhs_end_code": None, "open_alert_ids": [alert.pk],
                             "open_alerts_decision": "left_open", "open_alerts_left_open_reason": "following_up"}


def test_step_up_acknowledging_the_alert_closes_it_and_keeps_the_note_out_of_the_audit(lit_course, therapist,
                                                                                      audit_trail):
    alert = lit_alert(lit_course, therapist)
    audit_trail.mark()

    step_up(course=lit_course, protocol="ipt", therapist=therapist, by=therapist, alert_notes={alert.pk: ACK})

    alert.refresh_from_db()
    assert (alert.open, alert.note) == (False, ACK)
    assert ACK not in str([e.data for e in audit_trail.new()])


def test_step_up_by_unrelated_therapist_refused(lit_course, unrelated_therapist):
    with pytest.raises(ValidationError):
        step_up(course=lit_course, protocol="ipt", therapist=unrelated_therapist, by=unrelated_therapist)

    assert snapshot(lit_course)[0] == "active"


# --- record_session / record_attendance -----------------------------------------------------


def test_record_session_attended_is_audited_without_notes(dit_course, therapist, audit_trail):
    session = record_session(course=dit_course, by=therapist, scheduled_at=timezone.now() - dt.timedelta(days=2),
                             attendance=5, duration_minutes=50, notes="Talked about her sister Jane.",
                             home_practice="Diary of arguments")

    assert session.attended
    assert session.notes == "Talked about her sister Jane."
    events = audit_trail.new()
    assert [(e.type, e.target_type, e.target_id) for e in events] == [("session.recorded", "therapysession", str(session.pk))]
    assert events[0].data == {"course_id": dit_course.pk, "attendance": 5, "treatment": True}
    assert_identifiers_only(events, "Jane", "sister", "Diary")


def test_record_session_booking_ahead_without_attendance_allowed(dit_course, therapist):
    session = record_session(course=dit_course, by=therapist, scheduled_at=timezone.now() + dt.timedelta(days=7), attendance=None)

    assert session.attendance is None


def test_record_session_dated_years_ahead_refused(dit_course, therapist, audit_trail):
    with pytest.raises(ValidationError) as exc:
        record_session(course=dit_course, by=therapist, scheduled_at=timezone.now() + dt.timedelta(days=3 * 365), attendance=None)

    assert "scheduled_at" in exc.value.message_dict
    assert not TherapySession.objects.exists()
    assert audit_trail.new() == []


def test_record_session_attendance_for_a_future_date_refused(dit_course, therapist):
    with pytest.raises(ValidationError) as exc:
        record_session(course=dit_course, by=therapist, scheduled_at=timezone.now() + dt.timedelta(days=1), attendance=5)

    assert "scheduled_at" in exc.value.message_dict
    assert not TherapySession.objects.exists()


def test_record_session_before_the_course_start_refused(dit_course, therapist):
    before = dt.datetime.combine(dit_course.started_on - dt.timedelta(days=1), dt.time(10), tzinfo=LONDON)

    with pytest.raises(ValidationError) as exc:
        record_session(course=dit_course, by=therapist, scheduled_at=before, attendance=5)

    assert "scheduled_at" in exc.value.message_dict
    assert not TherapySession.objects.exists()


def test_record_session_early_morning_on_the_start_day_given_in_utc_accepted(patient, therapist):
    """Bug: the start-date check compares ``scheduled_at.date()`` in whatever zone the value
    carries. 00:30 in London on the first day of a summer course is 23:30 UTC the day
    before, so the same instant is accepted or refused depending on its tzinfo."""
    today = timezone.localdate()
    start = dt.date(today.year if today.month > 7 else today.year - 1, 7, 1)
    patient.referrals.update(received_on=start - dt.timedelta(days=30))
    course = start_course(patient=patient, protocol="dit", therapist=therapist, by=therapist, started_on=start)
    local = dt.datetime.combine(start, dt.time(0, 30), tzinfo=LONDON)

    session = record_session(course=course, by=therapist, scheduled_at=local.astimezone(dt.UTC), attendance=5)

    assert timezone.localtime(session.scheduled_at).date() == start


def test_record_session_naive_datetime_refused(dit_course, therapist):
    with pytest.raises(ValidationError) as exc:
        record_session(course=dit_course, by=therapist, scheduled_at=dt.datetime(2026, 11, 1, 10), attendance=5)  # noqa: DTZ001 - the case under test

    assert "scheduled_at" in exc.value.message_dict


def test_record_session_in_an_ended_course_refused(dit_course, therapist):
    end_course(course=dit_course, reason="completed", by=therapist)

    with pytest.raises(ValidationError, match="ended"):
        record_session(course=dit_course, by=therapist, scheduled_at=timezone.now() - dt.timedelta(days=1), attendance=5)

    assert not TherapySession.objects.exists()


@pytest.mark.parametrize("persona", ["unrelated_therapist", "supervisor", "service_lead"])
def test_record_session_by_anyone_but_the_course_therapist_refused(request, dit_course, persona):
    with pytest.raises(ValidationError):
        record_session(course=dit_course, by=request.getfixturevalue(persona),
                       scheduled_at=timezone.now() - dt.timedelta(days=1), attendance=5)

    assert not TherapySession.objects.exists()


@pytest.mark.parametrize("attendance", [1, 8, 0])
def test_record_session_unknown_attendance_code_refused(dit_course, therapist, attendance):
    with pytest.raises(ValidationError) as exc:
        record_session(course=dit_course, by=therapist, scheduled_at=timezone.now() - dt.timedelta(days=1), attendance=attendance)

    assert "attendance" in exc.value.message_dict


def test_record_attendance_for_a_booked_session_that_has_happened(dit_course, therapist, audit_trail):
    booked = TherapySession.objects.create(course=dit_course, scheduled_at=timezone.now() - dt.timedelta(hours=2))
    session = record_attendance(session=booked, attendance=3, by=therapist)

    assert session.attendance == 3
    events = audit_trail.new()
    assert [e.type for e in events] == ["session.attendance_recorded"]
    assert events[0].data == {"course_id": dit_course.pk, "attendance": 3}


def test_record_attendance_for_a_session_still_in_the_future_refused(dit_course, therapist):
    booked = record_session(course=dit_course, by=therapist, scheduled_at=timezone.now() + dt.timedelta(days=2), attendance=None)

    with pytest.raises(ValidationError):
        record_attendance(session=booked, attendance=5, by=therapist)

    booked.refresh_from_db()
    assert booked.attendance is None


def test_record_attendance_by_unrelated_therapist_refused(attended_session, unrelated_therapist):
    with pytest.raises(ValidationError):
        record_attendance(session=attended_session, attendance=3, by=unrelated_therapist)

    attended_session.refresh_from_db()
    assert attended_session.attendance == 5


# --- set_task -------------------------------------------------------------------------------


def test_set_task_toggles_and_audits_only_changes(dit_course, therapist, audit_trail):
    set_task(course=dit_course, task_id="ipaf_agreed", done=True, by=therapist)
    set_task(course=dit_course, task_id="ipaf_agreed", done=True, by=therapist)  # already done: no change
    assert TaskCompletion.objects.filter(course=dit_course, task_id="ipaf_agreed").count() == 1

    set_task(course=dit_course, task_id="ipaf_agreed", done=False, by=therapist)
    set_task(course=dit_course, task_id="ipaf_agreed", done=False, by=therapist)  # already undone: no change

    assert not TaskCompletion.objects.exists()
    events = audit_trail.new()
    assert [e.type for e in events] == ["course.task_done", "course.task_undone"]
    assert all(e.data == {"task": "ipaf_agreed"} for e in events)


@pytest.mark.parametrize("task_id", ["not_a_task", "focal_area_agreed"])  # the second is an IPT task, not DIT
def test_set_task_unknown_task_refused_with_validation_error(dit_course, therapist, task_id):
    """Regression: set_task once caught KeyError, but Protocol.task raises UnknownTask (a
    LookupError, not a KeyError), so an unknown task escaped as a 500."""
    with pytest.raises(ValidationError) as exc:
        set_task(course=dit_course, task_id=task_id, done=True, by=therapist)

    assert "task" in exc.value.message_dict
    assert not TaskCompletion.objects.exists()


def test_set_task_in_an_ended_course_refused(dit_course, therapist):
    end_course(course=dit_course, reason="completed", by=therapist)

    with pytest.raises(ValidationError):
        set_task(course=Course.objects.get(pk=dit_course.pk), task_id="ipaf_agreed", done=True, by=therapist)

    assert not TaskCompletion.objects.exists()


@pytest.mark.parametrize("persona", ["unrelated_therapist", "supervisor"])
def test_set_task_by_anyone_but_the_course_therapist_refused(request, dit_course, persona):
    with pytest.raises(ValidationError):
        set_task(course=dit_course, task_id="ipaf_agreed", done=True, by=request.getfixturevalue(persona))

    assert not TaskCompletion.objects.exists()
