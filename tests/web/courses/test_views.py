"""Course pages through the test client: caseload, course page, sessions with measures,
alerts, tasks, ending, stepping up; bad input is 400 and saves nothing; denials."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.assessments.actions import record_measurement
from interpersonal.web.assessments.models import Measurement, RiskAlert
from interpersonal.web.courses.actions import record_session, start_course
from interpersonal.web.courses.models import Course, TaskCompletion, TherapySession
from interpersonal.web.patients.actions import register_patient

pytestmark = pytest.mark.django_db

PHQ9_OK = {f"phq9-item_{i}": "1" for i in range(1, 10)} | {"phq9-item_9": "0"}
GAD7_OK = {f"gad7-item_{i}": "1" for i in range(1, 8)}


def session_data(**extra):
    when = timezone.localtime() - dt.timedelta(days=1)
    return {"date": when.date().isoformat(), "time": "10:00", "attendance": "5", "duration_minutes": "50",
            "medium": "face_to_face", "notes": "", "home_practice": "Diary"} | extra


def attended(course, therapist, days_ago=7):
    return record_session(course=course, by=therapist, attendance=5,
                          scheduled_at=timezone.now() - dt.timedelta(days=days_ago))


def test_home_redirects_by_role(client_for, therapist, service_lead, clinic_admin, records_officer):
    assert client_for(therapist).get("/").url == reverse("courses:caseload")
    assert client_for(service_lead).get("/").url == reverse("courses:service")
    assert client_for(clinic_admin).get("/").url == reverse("audit:list")
    assert client_for(records_officer).get("/").url == reverse("privacy:find")


def test_caseload_lists_open_alerts_first(client_for, therapist, dit_course):
    other = register_patient(by=therapist, given_name="Ada", family_name="Aaron", date_of_birth=dt.date(1970, 1, 1),
                             received_on=timezone.localdate() - dt.timedelta(days=40), source="gp")
    start_course(patient=other, protocol="dit", therapist=therapist, by=therapist,
                 started_on=timezone.localdate() - dt.timedelta(days=30))
    s = attended(dit_course, therapist)
    record_measurement(course=dit_course, instrument="phq9", session=s, by=therapist,
                       answers={str(i): 2 for i in range(1, 10)})
    html = client_for(therapist).get(reverse("courses:caseload")).content.decode()
    assert html.index("Example, Pat") < html.index("Aaron, Ada")
    assert "open alert" in html
    assert "2 of 16" in html
    assert "Initial phase" in html


def test_caseload_trend_arrow(client_for, therapist, dit_course):
    for days, value in ((14, 2), (7, 1)):
        s = attended(dit_course, therapist, days)
        record_measurement(course=dit_course, instrument="phq9", session=s, by=therapist,
                           answers={str(i): value for i in range(1, 9)} | {"9": 0}, recorded_at=s.scheduled_at)
    html = client_for(therapist).get(reverse("courses:caseload")).content.decode()
    # 8 is PHQ-9 "Mild" (Kroenke et al. 2001: 5-9): the band's fill and its name, not colour alone
    assert ('<span class="score-band band-2">8<br><span class="score-band__label">Mild</span></span> '
            '<span class="trend"') in html
    assert "↓" in html
    assert "better: 8 points" in html


_names = itertools.count()


def _add_courses(therapist, n):
    for _ in range(n):  # a new name each time: the same name and birth date is a possible duplicate
        p = register_patient(by=therapist, given_name="Q", family_name=f"Count{next(_names)}", date_of_birth=dt.date(1980, 1, 1),
                             received_on=timezone.localdate() - dt.timedelta(days=40), source="gp")
        c = start_course(patient=p, protocol="dit", therapist=therapist, by=therapist,
                         started_on=timezone.localdate() - dt.timedelta(days=30))
        s = attended(c, therapist)
        record_measurement(course=c, instrument="phq9", session=s, by=therapist, answers={str(i): 1 for i in range(1, 10)})


def test_caseload_query_count_does_not_grow_with_patients(client_for, therapist):
    client = client_for(therapist)
    _add_courses(therapist, 3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("courses:caseload")).status_code == 200
    _add_courses(therapist, 12)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("courses:caseload")).status_code == 200
    assert len(many) == len(few)


def test_course_page_shows_chart_table_and_phase(client_for, therapist, dit_course):
    s = attended(dit_course, therapist)
    record_measurement(course=dit_course, instrument="phq9", session=s, by=therapist,
                       answers={str(i): 2 for i in range(1, 10)})
    html = client_for(therapist).get(reverse("courses:detail", args=[dit_course.pk])).content.decode()
    assert 'class="vl-spec"' in html
    assert "vega-embed.min.js" in html
    assert "PHQ-9 (Patient Health Questionnaire-9) by session" in html
    assert "Initial phase" in html
    assert "Acknowledge" in html
    assert "End the course" in html
    assert "<script>" not in html  # no inline code


def test_record_session_with_measures(client_for, therapist, dit_course):
    data = session_data() | PHQ9_OK | GAD7_OK
    response = client_for(therapist).post(reverse("courses:record_session", args=[dit_course.pk]), data)
    assert response.status_code == 302
    session = TherapySession.objects.get(course=dit_course)
    assert session.attendance == 5
    assert session.home_practice == "Diary"
    assert sorted(Measurement.objects.filter(session=session).values_list("instrument", flat=True)) == ["gad7", "phq9"]


def test_first_session_offers_the_baseline_measures(client_for, therapist, dit_course):
    html = client_for(therapist).get(reverse("courses:record_session", args=[dit_course.pk])).content.decode()
    assert "HRSD-17" in html
    assert "WSAS" in html


def test_out_of_range_answer_saves_nothing(client_for, therapist, dit_course):
    data = session_data() | PHQ9_OK | {"phq9-item_1": "7"}
    response = client_for(therapist).post(reverse("courses:record_session", args=[dit_course.pk]), data)
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert not TherapySession.objects.filter(course=dit_course).exists()
    assert not Measurement.objects.exists()


def test_session_dated_years_ahead_is_refused(client_for, therapist, dit_course):
    future = (timezone.localdate() + dt.timedelta(days=3 * 365)).isoformat()
    response = client_for(therapist).post(reverse("courses:record_session", args=[dit_course.pk]),
                                          session_data(date=future, attendance=""))
    assert response.status_code == 400
    assert "more than a year ahead" in response.content.decode()
    assert not TherapySession.objects.exists()


def test_measures_at_a_missed_session_are_refused(client_for, therapist, dit_course):
    response = client_for(therapist).post(reverse("courses:record_session", args=[dit_course.pk]),
                                          session_data(attendance="3") | PHQ9_OK)
    assert response.status_code == 400
    assert not TherapySession.objects.exists()
    assert not Measurement.objects.exists()


def test_record_hrsd17_with_its_variant(client_for, therapist, dit_course):
    data = {f"hrsd17-item_{i}": "1" for i in range(1, 18)} | {"hrsd17-item_16_variant": "A", "instrument": "hrsd17"}
    url = reverse("courses:record_measure", args=[dit_course.pk])
    assert client_for(therapist).get(url + "?instrument=hrsd17").status_code == 200
    assert client_for(therapist).post(url, data).status_code == 302
    assert Measurement.objects.get(course=dit_course).instrument == "hrsd17"


def test_unknown_instrument_is_404(client_for, therapist, dit_course):
    url = reverse("courses:record_measure", args=[dit_course.pk]) + "?instrument=nope"
    assert client_for(therapist).get(url).status_code == 404


def test_acknowledge_alert_needs_a_note(client_for, therapist, dit_course):
    s = attended(dit_course, therapist)
    m = record_measurement(course=dit_course, instrument="phq9", session=s, by=therapist,
                           answers={str(i): 2 for i in range(1, 10)})
    alert = m.risk_alert
    url = reverse("assessments:acknowledge_alert", args=[alert.pk])
    client = client_for(therapist)
    response = client.post(url, {"note": ""})
    assert response.status_code == 400
    assert "a note is required" in response.content.decode()
    assert RiskAlert.objects.get(pk=alert.pk).open
    assert client.post(url, {"note": "Called the patient; safety plan reviewed."}).status_code == 302
    assert not RiskAlert.objects.get(pk=alert.pk).open


def test_supervisor_may_acknowledge_a_supervisees_alert(client_for, therapist, supervisor, dit_course):
    s = attended(dit_course, therapist)
    m = record_measurement(course=dit_course, instrument="phq9", session=s, by=therapist,
                           answers={str(i): 2 for i in range(1, 10)})
    response = client_for(supervisor).post(reverse("assessments:acknowledge_alert", args=[m.risk_alert.pk]),
                                           {"note": "Discussed in supervision."})
    assert response.status_code == 302


def test_task_toggle(client_for, therapist, dit_course):
    url = reverse("courses:task", args=[dit_course.pk])
    client = client_for(therapist)
    assert client.post(url, {"task": "ipaf_agreed", "done": "1"}).status_code == 302
    assert TaskCompletion.objects.filter(course=dit_course, task_id="ipaf_agreed").exists()
    assert client.post(url, {"task": "ipaf_agreed", "done": "0"}).status_code == 302
    assert not TaskCompletion.objects.exists()
    assert client.post(url, {"task": "not_a_task", "done": "1"}).status_code == 400


def test_end_course_then_ending_twice_and_recording_are_refused(client_for, therapist, dit_course):
    client = client_for(therapist)
    url = reverse("courses:end", args=[dit_course.pk])
    assert client.post(url, {"reason": "completed", "confirm_completed": "on"}).status_code == 302
    assert Course.objects.get(pk=dit_course.pk).status == Course.Status.ENDED
    again = client.post(url, {"reason": "dropped_out"})
    assert again.status_code == 400
    assert "nothing more can be recorded" in again.content.decode()
    assert Course.objects.get(pk=dit_course.pk).end_reason == "completed"
    session = client.post(reverse("courses:record_session", args=[dit_course.pk]), session_data())
    assert session.status_code == 400
    assert not TherapySession.objects.exists()
    html = client.get(reverse("courses:detail", args=[dit_course.pk])).content.decode()
    assert "End-of-course summary" in html


def test_end_reason_is_never_preselected_and_must_be_chosen(client_for, therapist, dit_course):
    client = client_for(therapist)
    url = reverse("courses:end", args=[dit_course.pk])

    for page in (url, reverse("courses:detail", args=[dit_course.pk])):
        html = client.get(page).content.decode()
        assert '<option value="" selected>Choose…</option>' in html
        assert "selected>Completed" not in html
    response = client.post(url, {"reason": ""})

    assert response.status_code == 400
    assert "Choose why the course ended." in response.content.decode()
    assert Course.objects.get(pk=dit_course.pk).is_active


def test_completed_after_2_of_16_sessions_needs_a_confirmation(client_for, therapist, dit_course):
    client = client_for(therapist)
    attended(dit_course, therapist, 14)
    attended(dit_course, therapist, 7)
    url = reverse("courses:end", args=[dit_course.pk])

    response = client.post(url, {"reason": "completed"})

    assert response.status_code == 400
    assert "Only 2 of 16 planned sessions were attended" in response.content.decode()
    assert Course.objects.get(pk=dit_course.pk).is_active
    assert client.post(url, {"reason": "completed", "confirm_completed": "on"}).status_code == 302
    assert Course.objects.get(pk=dit_course.pk).end_reason == "completed"


def test_dropping_out_after_2_sessions_needs_no_confirmation(client_for, therapist, dit_course):
    attended(dit_course, therapist, 7)

    response = client_for(therapist).post(reverse("courses:end", args=[dit_course.pk]), {"reason": "dropped_out"})

    assert response.status_code == 302


def test_ending_course_with_open_alert_needs_recorded_decision(client_for, therapist, dit_course, risk_alert):
    client = client_for(therapist)
    url = reverse("courses:end", args=[dit_course.pk])
    detail = client.get(reverse("courses:detail", args=[dit_course.pk])).content.decode()
    assert "This course has 1 open risk alert" in detail
    assert f'action="{url}"' not in detail  # no one-click ending from the course page
    page = client.get(url).content.decode()
    assert "1 open risk alert" in page
    assert "Item 9 ‘Thoughts that you would be better off dead or of hurting yourself in some way’: 1 — Several days" in page

    response = client.post(url, {"reason": "dropped_out", "alerts_seen": str(risk_alert.pk)})

    assert response.status_code == 400
    assert "Choose what to do about the open risk alerts." in response.content.decode()
    assert Course.objects.get(pk=dit_course.pk).is_active


def test_ending_course_acknowledging_the_open_alert_on_the_end_page(client_for, therapist, dit_course, risk_alert):
    url = reverse("courses:end", args=[dit_course.pk])
    data = {"reason": "dropped_out", "alerts_seen": str(risk_alert.pk), "alerts_decision": "acknowledge"}
    client = client_for(therapist)

    refused = client.post(url, data)
    done = client.post(url, data | {f"note_{risk_alert.pk}": "Phoned; safety plan reviewed."})

    assert refused.status_code == 400
    assert "Say what was done" in refused.content.decode()
    assert done.status_code == 302
    risk_alert.refresh_from_db()
    assert (risk_alert.open, risk_alert.note) == (False, "Phoned; safety plan reviewed.")


def test_acknowledgement_note_over_the_bound_refused(client_for, therapist, dit_course, risk_alert):
    response = client_for(therapist).post(reverse("courses:end", args=[dit_course.pk]), {
        "reason": "dropped_out", "alerts_seen": str(risk_alert.pk), "alerts_decision": "acknowledge",
        f"note_{risk_alert.pk}": "x" * 2001})

    assert response.status_code == 400
    risk_alert.refresh_from_db()
    assert risk_alert.open


def test_alert_left_open_at_the_end_stays_on_caseloads_and_patient_page(client_for, therapist, supervisor, dit_course,
                                                                        risk_alert):
    response = client_for(therapist).post(reverse("courses:end", args=[dit_course.pk]), {
        "reason": "dropped_out", "alerts_seen": str(risk_alert.pk), "alerts_decision": "supervisor_to_review"})
    assert response.status_code == 302

    own = client_for(therapist).get(reverse("courses:caseload")).content.decode()
    supervised = client_for(supervisor).get(reverse("courses:caseload")).content.decode()
    patient_page = client_for(therapist).get(reverse("patients:detail", args=[dit_course.patient_id])).content.decode()

    for html in (own, supervised):
        assert "Example, Pat" in html
        assert "Risk: 1 open alert" in html
        assert "Course ended" in html
    assert "Open risk alerts" in patient_page
    assert "Item 9 ‘Thoughts that you would be better off dead or of hurting yourself in some way’: 1 — Several days" in patient_page
    risk_alert.refresh_from_db()
    assert risk_alert.open


def test_ended_course_leaves_the_caseload_once_its_alert_is_acknowledged(client_for, therapist, dit_course, risk_alert):
    from interpersonal.web.assessments.actions import acknowledge_alert
    from interpersonal.web.courses.actions import end_course

    end_course(course=dit_course, reason="dropped_out", by=therapist, alerts_left_open="following_up",
               alerts_seen=[risk_alert.pk])
    acknowledge_alert(alert=risk_alert, by=therapist, note="Phoned; no current thoughts of self-harm.")

    html = client_for(therapist).get(reverse("courses:caseload")).content.decode()
    patient_page = client_for(therapist).get(reverse("patients:detail", args=[dit_course.patient_id])).content.decode()

    assert "Example, Pat" not in html
    assert "Open risk alerts" not in patient_page


def test_phq9_with_item_9_unanswered_says_so_wherever_the_score_is_shown(client_for, therapist, dit_course):
    s = attended(dit_course, therapist)
    record_measurement(course=dit_course, instrument="phq9", session=s, by=therapist, recorded_at=s.scheduled_at,
                       answers={str(i): 1 for i in range(1, 9)} | {"9": None})
    client = client_for(therapist)

    course_page = client.get(reverse("courses:detail", args=[dit_course.pk])).content.decode()
    caseload_page = client.get(reverse("courses:caseload")).content.decode()

    prompt = "PHQ-9 item 9 (thoughts of being better off dead or of self-harm) was not answered: ask about it"
    assert prompt in course_page  # the open alert
    assert course_page.count("Item 9 not answered: ask about it") >= 2  # chart table and score table
    assert "Risk item not answered at session 1: ask about it." in course_page  # the chart's description
    assert "Item 9 not answered: ask about it" in caseload_page
    assert "Risk: 1 open alert" in caseload_page


def test_step_up_from_guided_self_help_keeps_history(client_for, therapist, patient):
    lit = start_course(patient=patient, protocol="lit", therapist=therapist, by=therapist,
                       started_on=timezone.localdate() - dt.timedelta(days=20))
    response = client_for(therapist).post(reverse("courses:step_up", args=[lit.pk]), {"protocol": "dit"})
    assert response.status_code == 302
    new = Course.objects.get(stepped_from=lit)
    assert new.protocol == "dit"
    assert Course.objects.get(pk=lit.pk).end_reason == "stepped_up"
    html = client_for(therapist).get(reverse("courses:detail", args=[new.pk])).content.decode()
    assert "Stepped up from" in html


def test_start_course_for_patient(client_for, therapist, patient):
    response = client_for(therapist).post(reverse("courses:new", args=[patient.pk]), {"protocol": "ipt"})
    assert response.status_code == 302
    again = client_for(therapist).post(reverse("courses:new", args=[patient.pk]), {"protocol": "dit"})
    assert again.status_code == 400
    assert Course.objects.count() == 1


WRITES = ["courses:record_session", "courses:record_measure", "courses:end", "courses:step_up", "courses:task"]


@pytest.mark.parametrize("name", WRITES)
def test_supervisor_reads_but_gets_403_on_posts(client_for, supervisor, dit_course, name):
    client = client_for(supervisor)
    assert client.get(reverse("courses:detail", args=[dit_course.pk])).status_code == 200
    assert client.post(reverse(name, args=[dit_course.pk]), session_data() | {"instrument": "phq9"}).status_code == 403
    assert not TherapySession.objects.exists()


@pytest.mark.parametrize("name", ["courses:detail", *WRITES])
def test_unrelated_therapist_gets_404(client_for, unrelated_therapist, dit_course, name):
    client = client_for(unrelated_therapist)
    url = reverse(name, args=[dit_course.pk])
    assert client.post(url, session_data() | {"instrument": "phq9"}).status_code in (404, 405)
    if name != "courses:task":
        assert client.get(url + "?instrument=phq9").status_code == 404


def test_unrelated_therapist_cannot_acknowledge(client_for, therapist, unrelated_therapist, dit_course):
    s = attended(dit_course, therapist)
    m = record_measurement(course=dit_course, instrument="phq9", session=s, by=therapist,
                           answers={str(i): 2 for i in range(1, 10)})
    response = client_for(unrelated_therapist).post(
        reverse("assessments:acknowledge_alert", args=[m.risk_alert.pk]), {"note": "not mine"})
    assert response.status_code == 404
    assert RiskAlert.objects.get(pk=m.risk_alert.pk).open


def test_service_page_shows_counts_without_names(client_for, service_lead, therapist, dit_course):
    attended(dit_course, therapist, days_ago=0)
    response = client_for(service_lead).get(reverse("courses:service"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Dynamic Interpersonal Therapy" in html
    assert "Example" not in html
    assert dit_course.patient.local_id not in html


def test_clinicians_cannot_see_the_service_page(client_for, therapist):
    assert client_for(therapist).get(reverse("courses:service")).status_code == 403


# --- the decision about open alerts: kept on the alert, shown where the alert is; step-up too --------


def today_text() -> str:
    today = timezone.localdate()
    return f"{today.day} {today:%b %Y}"


def test_alert_left_open_at_the_end_shows_the_decision_on_caseloads_patient_and_course_pages(
        client_for, therapist, supervisor, dit_course, risk_alert):
    response = client_for(therapist).post(reverse("courses:end", args=[dit_course.pk]), {
        "reason": "dropped_out", "alerts_seen": str(risk_alert.pk), "alerts_decision": "supervisor_to_review"})
    assert response.status_code == 302

    badge = f"Left open when the course ended on {today_text()}: supervisor to review with the therapist"
    line = (f"Left open by Tess Therapist when the course ended on {today_text()}: "
            "supervisor to review with the therapist.")
    for user in (therapist, supervisor):
        client = client_for(user)
        assert badge in client.get(reverse("courses:caseload")).content.decode()
        assert line in client.get(reverse("patients:detail", args=[dit_course.patient_id])).content.decode()
        assert line in client.get(reverse("courses:detail", args=[dit_course.pk])).content.decode()


def test_left_open_decision_stays_on_the_course_page_after_the_alert_is_acknowledged(
        client_for, therapist, dit_course, risk_alert):
    from interpersonal.web.assessments.actions import acknowledge_alert
    from interpersonal.web.courses.actions import end_course

    end_course(course=dit_course, reason="dropped_out", by=therapist, alerts_left_open="followed_up_elsewhere",
               alerts_seen=[risk_alert.pk])
    acknowledge_alert(alert=risk_alert, by=therapist, note="Crisis team confirmed contact.")

    page = client_for(therapist).get(reverse("courses:detail", args=[dit_course.pk])).content.decode()

    assert "Acknowledged: PHQ-9" in page
    assert (f"Left open by Tess Therapist when the course ended on {today_text()}: "
            "another service is following up the risk.") in page


def lit_with_alert(patient, therapist):
    lit = start_course(patient=patient, protocol="lit", therapist=therapist, by=therapist,
                       started_on=timezone.localdate() - dt.timedelta(days=20))
    alert = record_measurement(course=lit, instrument="phq9", by=therapist,
                               answers={str(i): 1 for i in range(1, 10)}).risk_alert  # item 9 = 1
    return lit, alert


def test_stepping_up_with_open_alert_is_not_one_click_from_the_course_page(client_for, therapist, patient):
    lit, _ = lit_with_alert(patient, therapist)
    url = reverse("courses:step_up", args=[lit.pk])

    detail = client_for(therapist).get(reverse("courses:detail", args=[lit.pk])).content.decode()

    assert f'action="{url}"' not in detail
    assert f'href="{url}#alerts"' in detail
    assert "Before it is stepped up, acknowledge it or say why it stays open." in detail


def test_stepping_up_with_open_alert_needs_the_decision_on_the_step_up_page(client_for, therapist, patient):
    lit, alert = lit_with_alert(patient, therapist)
    url = reverse("courses:step_up", args=[lit.pk])
    client = client_for(therapist)

    page = client.get(url).content.decode()
    refused = client.post(url, {"protocol": "dit", "alerts_seen": str(alert.pk)})

    assert "1 open risk alert" in page
    assert "Item 9 ‘Thoughts that you would be better off dead or of hurting yourself in some way’: 1 — Several days" in page
    assert refused.status_code == 400
    assert "Choose what to do about the open risk alerts." in refused.content.decode()
    assert Course.objects.get(pk=lit.pk).is_active
    assert not Course.objects.filter(stepped_from=lit).exists()


def test_stepping_up_leaving_the_alert_open_records_it_and_shows_it_on_the_caseload(client_for, therapist, patient):
    lit, alert = lit_with_alert(patient, therapist)
    client = client_for(therapist)

    response = client.post(reverse("courses:step_up", args=[lit.pk]), {
        "protocol": "dit", "alerts_seen": str(alert.pk), "alerts_decision": "following_up"})

    assert response.status_code == 302
    assert Course.objects.get(stepped_from=lit).is_active
    alert.refresh_from_db()
    assert (alert.open, alert.left_open_reason, alert.left_open_by) == (True, "following_up", therapist)
    caseload_page = client.get(reverse("courses:caseload")).content.decode()
    assert (f"Left open when the course was stepped up on {today_text()}: "
            "the therapist is still following up the risk") in caseload_page


def test_stepping_up_acknowledging_the_alert_on_the_step_up_page(client_for, therapist, patient):
    lit, alert = lit_with_alert(patient, therapist)

    response = client_for(therapist).post(reverse("courses:step_up", args=[lit.pk]), {
        "protocol": "dit", "alerts_seen": str(alert.pk), "alerts_decision": "acknowledge",
        f"note_{alert.pk}": "Phoned; safety plan reviewed."})

    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.open, alert.note, alert.left_open_reason) == (False, "Phoned; safety plan reviewed.", "")


def open_alerts_with_7_digit_ids(course, n):
    now = timezone.now()
    RiskAlert.objects.bulk_create(RiskAlert(pk=1_000_000 + i, course=course, referral_id=course.referral_id, instrument="phq9", items=["9"],
                                            raised_at=now - dt.timedelta(minutes=i)) for i in range(n))
    return [1_000_000 + i for i in range(n)]


def test_ending_course_with_70_open_alerts_on_7_digit_ids(client_for, therapist, dit_course):
    ids = open_alerts_with_7_digit_ids(dit_course, 70)
    seen = ",".join(map(str, ids))
    assert len(seen) > 500  # the old bound on the string

    response = client_for(therapist).post(reverse("courses:end", args=[dit_course.pk]), {
        "reason": "dropped_out", "alerts_seen": seen, "alerts_decision": "supervisor_to_review"})

    assert response.status_code == 302
    assert not Course.objects.get(pk=dit_course.pk).is_active
    left = RiskAlert.objects.filter(course=dit_course, left_open_reason="supervisor_to_review")
    assert left.count() == 70


def test_more_than_1000_alert_ids_refused_with_a_visible_error(client_for, therapist, dit_course, risk_alert):
    seen = ",".join(str(n) for n in range(1, 1002))

    response = client_for(therapist).post(reverse("courses:end", args=[dit_course.pk]), {
        "reason": "dropped_out", "alerts_seen": seen, "alerts_decision": "supervisor_to_review"})

    html = response.content.decode()
    assert response.status_code == 400
    summary = html[html.index('class="error-summary"'):]
    assert "more than 1000 open risk alerts" in summary[:summary.index("</div>")]
    assert Course.objects.get(pk=dit_course.pk).is_active


@pytest.mark.parametrize("seen", ["0", "-3", "abc", "1.5", "9" * 19, "١٢"])
def test_alert_ids_that_are_not_positive_whole_numbers_refused_with_a_visible_error(
        client_for, therapist, dit_course, risk_alert, seen):
    response = client_for(therapist).post(reverse("courses:step_up", args=[dit_course.pk]), {
        "protocol": "ipt", "alerts_seen": seen, "alerts_decision": "supervisor_to_review"})

    html = response.content.decode()
    assert response.status_code == 400
    summary = html[html.index('class="error-summary"'):]
    assert "did not come back whole" in summary[:summary.index("</div>")]
    assert Course.objects.get(pk=dit_course.pk).is_active
