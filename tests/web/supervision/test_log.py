"""The supervision log (issue 15): only the supervisor logs, only their current supervisees'
cases can be named, audit events hold no clinical text, hours follow from the log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.supervision import figures
from interpersonal.web.supervision.actions import CaseEntry, log_session
from interpersonal.web.supervision.models import SupervisionRelationship, SupervisionSession

ACTIONS = "Bring the ending letter draft next week."


def _log(by, supervisees, cases=(), *, fmt="individual", minutes=60, date=None):
    return log_session(by=by, date=date or timezone.localdate(), minutes=minutes, format=fmt,
                       supervisees=supervisees, cases=cases)


def test_a_supervisor_logs_a_session_and_the_audit_holds_no_clinical_text(supervisor, therapist, dit_course):
    session = _log(supervisor, [therapist], [CaseEntry(course=dit_course, minutes=25, actions_agreed=ACTIONS)])

    assert list(session.supervisees.all()) == [therapist]
    events = AuditEvent.objects.filter(type__in=["supervision_session.logged", "supervision.case_discussed"])
    assert {e.type for e in events} == {"supervision_session.logged", "supervision.case_discussed"}
    assert all(ACTIONS not in str(e.data) for e in events)
    discussed = events.get(type="supervision.case_discussed")
    assert discussed.patient_id == dit_course.patient_id  # in the patient's access log


def test_a_case_of_someone_not_supervised_is_refused(supervisor, therapist, other_patient):
    theirs = other_patient.courses.get()
    with pytest.raises(ValidationError, match=r"do not supervise|Name only cases"):
        _log(supervisor, [therapist], [CaseEntry(course=theirs, minutes=10)])


def test_an_unrelated_supervisee_is_refused(supervisor, unrelated_therapist):
    with pytest.raises(ValidationError, match="do not supervise"):
        _log(supervisor, [unrelated_therapist])


def test_a_former_supervisor_cannot_log_a_session(supervisor, therapist):
    SupervisionRelationship.objects.filter(supervisor=supervisor).update(ended=timezone.localdate())
    with pytest.raises(ValidationError, match="do not supervise"):
        _log(supervisor, [therapist])


def test_an_administrator_and_a_therapist_cannot_log(clinic_admin, therapist, unrelated_therapist):
    for who in (clinic_admin, therapist):
        with pytest.raises(ValidationError, match="Only a supervisor"):
            _log(who, [unrelated_therapist])


def test_minutes_are_bounded_and_cases_cannot_exceed_the_session(supervisor, therapist, dit_course):
    with pytest.raises(ValidationError, match="Between 5 and 480"):
        _log(supervisor, [therapist], minutes=4)
    with pytest.raises(ValidationError, match="between 1 and the session's 30"):
        _log(supervisor, [therapist], [CaseEntry(course=dit_course, minutes=60)], minutes=30)
    with pytest.raises(ValidationError, match="Name each case once"):
        _log(supervisor, [therapist], [CaseEntry(course=dit_course, minutes=20),
                                       CaseEntry(course=dit_course, minutes=20)], minutes=30)


def test_group_needs_two_and_individual_one(supervisor, therapist):
    with pytest.raises(ValidationError, match="at least two"):
        _log(supervisor, [therapist], fmt="group")


def test_hours_per_case_count_the_cases_minutes_and_per_supervisee_the_sessions(
        supervisor, therapist, make_user, dit_course):
    second = make_user("vic.second", "therapist", first_name="Vic", last_name="Second", supervisor=supervisor)
    _log(supervisor, [therapist, second], [CaseEntry(course=dit_course, minutes=20)], fmt="group", minutes=90)
    _log(supervisor, [therapist], [CaseEntry(course=dit_course, minutes=30)], minutes=50)
    today = timezone.localdate()

    assert figures.minutes_per_case([dit_course.pk]) == {dit_course.pk: 50}  # 20 + 30, not 90 + 50
    assert figures.minutes_per_supervisee([therapist.pk, second.pk], since=today, until=today) == {
        therapist.pk: 140, second.pk: 90}


def test_supervision_cost_shares_the_supervisors_hour_and_counts_sessions_not_costed(
        supervisor, therapist, make_user, service_lead):
    from interpersonal.web.service.actions import add_grade, set_staff_profile
    from interpersonal.web.supervision.actions import add_hourly_cost

    band7 = add_grade(name="Band 7", by=service_lead)
    band8 = add_grade(name="Band 8a", by=service_lead)
    day = timezone.localdate()
    add_hourly_cost(grade=band7, cost_per_hour="40.00", effective_from=day - dt.timedelta(days=30), by=service_lead)
    add_hourly_cost(grade=band8, cost_per_hour="60.00", effective_from=day - dt.timedelta(days=30), by=service_lead)
    set_staff_profile(user=therapist, by=service_lead, grade=band7, weekly_capacity=None)
    set_staff_profile(user=supervisor, by=service_lead, grade=band8, weekly_capacity=None)
    second = make_user("vic.second", "therapist", first_name="Vic", last_name="Second", supervisor=supervisor)
    _log(supervisor, [therapist, second], fmt="group", minutes=90)  # 1.5 h x (60 / 2 + 40) = 105
    _log(supervisor, [therapist], minutes=60)  # 1 h x (60 + 40) = 100

    cost = figures.supervision_cost(therapist, since=day, until=day)
    assert (cost.minutes, cost.sessions, cost.cost, cost.not_costed) == (150, 2, Decimal("205.00"), 0)
    uncosted = figures.supervision_cost(second, since=day, until=day)  # no grade: not costed, never £0
    assert (uncosted.sessions, uncosted.not_costed, uncosted.cost) == (1, 1, Decimal("0.00"))


def test_the_log_page_records_a_session(client_for, supervisor, therapist, dit_course):
    data = {"date": timezone.localdate().isoformat(), "format": "individual", "minutes": "45",
            "supervisees": [str(therapist.pk)], "actions_agreed": "",
            "case-TOTAL_FORMS": "3", "case-INITIAL_FORMS": "0", "case-MIN_NUM_FORMS": "0", "case-MAX_NUM_FORMS": "12",
            "case-0-course": str(dit_course.pk), "case-0-minutes": "15", "case-0-sessions": "",
            "case-0-actions_agreed": ACTIONS}
    client = client_for(supervisor)
    assert client.get(reverse("supervision:log_new")).status_code == 200
    response = client.post(reverse("supervision:log_new"), data)
    assert response.status_code == 302
    page = client.get(reverse("supervision:log")).content.decode()
    assert dit_course.patient.local_id in page
    assert ACTIONS in page


def test_the_log_page_shows_form_errors(client_for, supervisor, therapist, dit_course):
    data = {"date": timezone.localdate().isoformat(), "format": "group", "minutes": "45",
            "supervisees": [str(therapist.pk)],
            "case-TOTAL_FORMS": "1", "case-INITIAL_FORMS": "0", "case-MIN_NUM_FORMS": "0", "case-MAX_NUM_FORMS": "12",
            "case-0-course": str(dit_course.pk), "case-0-minutes": "", "case-0-sessions": "x"}
    response = client_for(supervisor).post(reverse("supervision:log_new"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "nothing was saved" in body
    assert "session numbers" in body


def test_history_is_read_by_the_supervisee_and_their_supervisor_only(client_for, supervisor, therapist, dit_course,
                                                                     make_user_other_supervisor, unrelated_therapist,
                                                                     clinic_admin):
    _log(supervisor, [therapist], [CaseEntry(course=dit_course, minutes=20)])
    url = reverse("supervision:history", args=[therapist.pk])
    for reader in (therapist, supervisor):
        page = client_for(reader).get(url)
        assert page.status_code == 200
        assert dit_course.patient.local_id in page.content.decode()
    for outsider in (make_user_other_supervisor, unrelated_therapist, clinic_admin):
        assert client_for(outsider).get(url).status_code in (403, 404)
    SupervisionRelationship.objects.filter(supervisor=supervisor).update(ended=timezone.localdate())
    assert client_for(supervisor).get(url).status_code == 404  # a former supervisor


def test_an_id_no_column_can_hold_is_a_form_error_not_a_crash(client_for, supervisor, therapist):
    """2**63 overflows SQLite's integer: refused as no such choice, nothing written (the endpoint fuzzer found it)."""
    data = {"date": timezone.localdate().isoformat(), "format": "individual", "minutes": "45",
            "supervisees": [str(2**63)],
            "case-TOTAL_FORMS": "1", "case-INITIAL_FORMS": "0", "case-MIN_NUM_FORMS": "0", "case-MAX_NUM_FORMS": "12",
            "case-0-course": str(2**63), "case-0-minutes": "15", "case-0-sessions": ""}
    response = client_for(supervisor).post(reverse("supervision:log_new"), data)
    assert response.status_code == 400
    assert "is not one of the available choices" in response.content.decode()
    assert not SupervisionSession.objects.exists()
