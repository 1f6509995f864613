"""Risk (issue 14): an alert in words (answers, source, when, how long open), its detail page,
and the course's structured risk assessment and safety plan (record, review, history, access)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from interpersonal.core import risk
from interpersonal.web.assessments.actions import acknowledge_alert, raise_alert, record_measurement
from interpersonal.web.assessments.alerts import ALERT_RELATED, describe_alert
from interpersonal.web.assessments.models import RiskAlert, RiskAssessment
from interpersonal.web.audit.models import AuditEvent

PHQ9_ITEM9_TWO = {"1": 1, "2": 1, "3": 0, "4": 1, "5": 0, "6": 0, "7": 0, "8": 0, "9": 2}
ITEM9_TWO = "Item 9 ‘Thoughts that you would be better off dead or of hurting yourself in some way’: 2 — More than half the days"


def _row(alert, **kw):
    return describe_alert(RiskAlert.objects.select_related(*ALERT_RELATED, "course", "left_open_by").get(pk=alert.pk),
                          **kw)


# --- describe_alert: the answer, the source, when, how long --------------------------------------


def test_a_session_alert_gives_the_item_wording_the_answer_and_the_session_number(risk_alert, therapist):
    row = _row(risk_alert)

    assert row.items == ["Item 9 ‘Thoughts that you would be better off dead or of hurting yourself in some way’: "
                         "1 — Several days"]
    assert row.source == "session 1 (recorded by Tess Therapist)"
    assert row.source_url == reverse("courses:detail", args=[risk_alert.course_id]) + "#sessions"
    local = timezone.localtime(risk_alert.raised_at)
    assert row.raised == f"{local.day} {local:%b %Y} at {local:%H:%M}"


@pytest.mark.parametrize(("after", "text"), [
    (dt.timedelta(seconds=20), "open 1 minute"),
    (dt.timedelta(minutes=59), "open 59 minutes"),
    (dt.timedelta(hours=5, minutes=59), "open 5 hours"),
    (dt.timedelta(days=1), "open 1 day"),
    (dt.timedelta(days=3, hours=23), "open 3 days"),
])
def test_an_open_alert_says_how_long_it_has_been_open_by_a_frozen_clock(risk_alert, after, text):
    assert _row(risk_alert, now=risk_alert.raised_at + after).duration == text


def test_an_acknowledged_alert_says_how_long_it_was_open(risk_alert, therapist):
    acknowledge_alert(alert=risk_alert, by=therapist, note="Phoned the patient; safety plan made.")
    RiskAlert.objects.filter(pk=risk_alert.pk).update(acknowledged_at=risk_alert.raised_at + dt.timedelta(hours=2))

    assert _row(risk_alert, now=risk_alert.raised_at + dt.timedelta(days=9)).duration == "acknowledged after 2 hours"


def test_a_questionnaire_link_alert_says_when_the_link_was_sent_and_the_patient_answered(dit_course, therapist):
    from interpersonal.web.questionnaires.actions import issue_link, submit

    link, token = issue_link(instruments=["phq9"], by=therapist, course=dit_course)
    submit(token, client="test", answers={"phq9": PHQ9_ITEM9_TWO})
    alert = RiskAlert.objects.get()
    answered = timezone.localtime(alert.measurement.recorded_at)
    sent = timezone.localtime(link.created_at)

    row = _row(alert)

    assert row.items == [ITEM9_TWO]
    assert row.source == f"questionnaire link sent {sent.day} {sent:%b} (answered by the patient at {answered:%H:%M})"
    assert row.source_url == reverse("questionnaires:list", args=[dit_course.pk])


def test_an_alert_raised_before_the_patient_sent_the_questionnaire_reads_their_saved_answer(dit_course, therapist):
    from interpersonal.web.questionnaires.actions import issue_link, save_answers

    _link, token = issue_link(instruments=["phq9"], by=therapist, course=dit_course)
    save_answers(token, client="test", instrument="phq9", answers={"9": 2})

    row = _row(RiskAlert.objects.get())

    assert row.items == [ITEM9_TWO]
    assert "before they sent the questionnaire" in row.source


def test_a_screening_alert_says_screening_and_links_the_screening_page(therapist):
    from interpersonal.web.patients.actions import register_patient

    patient = register_patient(by=therapist, given_name="Nia", family_name="Newcomer", date_of_birth=dt.date(1992, 5, 17),
                               received_on=timezone.localdate() - dt.timedelta(days=10), source="gp")
    referral = patient.referrals.get()
    m = record_measurement(referral=referral, instrument="phq9", answers=PHQ9_ITEM9_TWO, by=therapist)
    day = timezone.localtime(m.recorded_at)

    row = _row(m.risk_alert)

    assert row.source == f"screening on {day.day} {day:%b} (recorded by Tess Therapist)"
    assert row.source_url == reverse("screening:referral", args=[referral.pk]) + "#alerts"


def test_a_licensed_instrument_shows_only_the_item_number_and_score(dit_course, therapist):
    """BDI-II item text is Pearson's (licence: item_text = false): never shipped, never shown."""
    answers = {str(i): 0 for i in range(1, 22)} | {"9": 2}
    m = record_measurement(course=dit_course, instrument="bdi2", answers=answers, by=therapist)

    row = _row(m.risk_alert)

    assert row.items == ["Item 9 (suicidality item): 2"]
    assert row.source.startswith("a measure recorded on ")


# --- the alert's page ----------------------------------------------------------------------


def test_the_therapist_reads_an_alert_page_with_everything_and_the_read_is_audited(client_for, therapist, risk_alert,
                                                                                   audit_trail):
    page = client_for(therapist).get(reverse("assessments:alert", args=[risk_alert.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "1 — Several days" in html
    assert "session 1 (recorded by Tess Therapist)" in html.replace("Session", "session")
    assert "Open 1 week" not in html
    assert "Open 7 days" in html
    assert f"?alert={risk_alert.pk}" in html  # Assess risk, pre-linked
    assert "risk_alert.viewed" in audit_trail.new_types()


def test_the_supervisor_reads_an_alert_page_without_the_assess_button(client_for, supervisor, risk_alert):
    html = client_for(supervisor).get(reverse("assessments:alert", args=[risk_alert.pk])).content.decode()

    assert "Several days" in html
    assert f"?alert={risk_alert.pk}" not in html


def test_an_unrelated_therapist_gets_404_for_the_alert_page(client_for, unrelated_therapist, risk_alert):
    assert client_for(unrelated_therapist).get(reverse("assessments:alert", args=[risk_alert.pk])).status_code == 404


def test_acknowledging_from_the_alert_page_returns_to_it(client_for, therapist, risk_alert):
    response = client_for(therapist).post(reverse("assessments:acknowledge_alert", args=[risk_alert.pk]),
                                          {"note": "Spoke with the patient; plan agreed.", "back": "alert"})

    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:alert", args=[risk_alert.pk])


# --- recording and reviewing a risk assessment and safety plan ---------------------------------


def valid(**extra):
    review = (timezone.localdate() + dt.timedelta(days=28)).isoformat()
    return {"reviews": "0", "alert": "0", "a_suicidal_ideation": "Fleeting thoughts, no plan.", "a_intent": "None",
            "a_overall_level": "medium", "a_formulation": "Passive ideation at times of conflict with partner.",
            "p_warning_signs": "Not sleeping; arguing.", "p_people_to_ask": "Sister (Jo)", "review_due": review} | extra


def test_the_therapist_records_an_assessment_from_an_alert_with_the_fields_it_was_recorded_with(
        client_for, therapist, dit_course, risk_alert, audit_trail):
    client = client_for(therapist)
    form = client.get(reverse("assessments:risk_new", args=[dit_course.pk]) + f"?alert={risk_alert.pk}")
    assert form.status_code == 200
    assert "From the risk alert" in form.content.decode()

    response = client.post(reverse("assessments:risk_new", args=[dit_course.pk]), valid(alert=str(risk_alert.pk)))

    assert response.status_code == 302
    record = RiskAssessment.objects.get()
    assert (record.number, record.reviews, record.alert, record.level, record.level_label) == (
        1, None, risk_alert, "medium", "Medium")
    assert record.assessment["intent"] == "None"
    assert record.safety_plan["people_to_ask"] == "Sister (Jo)"
    assert record.assessment_fields == risk.current().assessment.snapshot()
    event = AuditEvent.objects.get(type="risk_assessment.recorded")
    assert event.data["alert_id"] == risk_alert.pk
    assert event.data["level"] == "medium"
    assert "Sister" not in str(event.data)  # no clinical free text in the audit trail


def test_the_safety_plan_to_share_makes_its_numbers_tap_to_call(client_for, therapist, dit_course):
    """The patient keeps the plan on their phone: a number in it, and the crisis numbers, call in one tap."""
    client = client_for(therapist)
    client.post(reverse("assessments:risk_new", args=[dit_course.pk]),
                valid(p_professionals="Crisis team 0300 123 4567\nGP <surgery>"))

    page = client.get(reverse("assessments:safety_plan", args=[dit_course.pk])).content.decode()

    assert '<a class="tel-link" href="tel:03001234567" aria-label="Call 0300 123 4567">0300 123 4567</a><br>' in page
    assert "GP &lt;surgery&gt;" in page  # still escaped
    assert 'href="tel:116123"' in page  # the service's crisis message


def test_a_review_records_a_new_version_and_keeps_the_earlier_as_history(client_for, therapist, dit_course):
    client = client_for(therapist)
    url = reverse("assessments:risk_new", args=[dit_course.pk])
    client.post(url, valid())
    first = RiskAssessment.objects.get()
    prefilled = client.get(url).content.decode()
    assert "Passive ideation at times of conflict" in prefilled
    assert f'value="{first.pk}"' in prefilled

    response = client.post(url, valid(reviews=str(first.pk), a_overall_level="low", a_formulation="Settled."))

    assert response.status_code == 302
    second = RiskAssessment.objects.get(number=2)
    assert (second.reviews, second.level) == (first, "low")
    page = client.get(reverse("assessments:risk", args=[dit_course.pk])).content.decode()
    assert "Earlier versions" in page
    assert "Medium risk, recorded" in page
    assert "Low risk" in page


def test_a_stale_review_is_refused_and_nothing_is_saved(client_for, therapist, dit_course):
    client = client_for(therapist)
    url = reverse("assessments:risk_new", args=[dit_course.pk])
    client.post(url, valid())

    response = client.post(url, valid(reviews="0", a_formulation="Written without seeing the first."))

    assert response.status_code == 400
    assert "after you opened this form" in response.content.decode()
    assert RiskAssessment.objects.count() == 1


@pytest.mark.parametrize(("change", "message"), [
    ({"a_overall_level": ""}, "This field is required"),
    ({"a_overall_level": "extreme"}, "Select a valid choice"),
    ({"a_intent": "x" * 2001}, "at most 2000 characters"),
    ({"review_due": (timezone.localdate() - dt.timedelta(days=1)).isoformat()}, "from today on"),
    ({"review_due": "9999-12-31"}, "not more than a year ahead"),
])
def test_bad_input_is_a_clear_error_and_saves_nothing(client_for, therapist, dit_course, change, message):
    response = client_for(therapist).post(reverse("assessments:risk_new", args=[dit_course.pk]), valid(**change))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RiskAssessment.objects.exists()


def test_another_courses_alert_cannot_be_linked(client_for, therapist, dit_course, ipt_course):
    other = raise_alert(course=ipt_course, instrument="phq9", items=["9"], by=therapist)

    response = client_for(therapist).post(reverse("assessments:risk_new", args=[dit_course.pk]),
                                          valid(alert=str(other.pk)))

    assert response.status_code == 400
    assert not RiskAssessment.objects.exists()


def test_the_supervisor_reads_but_may_not_record(client_for, therapist, supervisor, dit_course):
    client_for(therapist).post(reverse("assessments:risk_new", args=[dit_course.pk]), valid())
    client = client_for(supervisor)

    assert client.get(reverse("assessments:risk", args=[dit_course.pk])).status_code == 200
    assert client.get(reverse("assessments:safety_plan", args=[dit_course.pk])).status_code == 200
    assert client.post(reverse("assessments:risk_new", args=[dit_course.pk]), valid()).status_code == 403
    assert RiskAssessment.objects.count() == 1


@pytest.mark.parametrize("name", ["assessments:risk", "assessments:risk_new", "assessments:safety_plan"])
def test_an_unrelated_therapist_gets_404(client_for, unrelated_therapist, dit_course, name):
    assert client_for(unrelated_therapist).get(reverse(name, args=[dit_course.pk])).status_code == 404


def test_the_course_page_shows_the_current_level_next_review_and_overdue(client_for, therapist, dit_course):
    client = client_for(therapist)
    client.post(reverse("assessments:risk_new", args=[dit_course.pk]), valid())
    detail = reverse("courses:detail", args=[dit_course.pk])
    page = client.get(detail).content.decode()
    assert "Current risk" in page
    assert "Medium" in page
    assert "Review overdue" not in page

    RiskAssessment.objects.update(review_due=timezone.localdate() - dt.timedelta(days=1))

    assert "Review overdue" in client.get(detail).content.decode()


def test_a_changed_configuration_never_reinterprets_an_old_record(client_for, therapist, dit_course, tmp_path,
                                                                 monkeypatch):
    client = client_for(therapist)
    client.post(reverse("assessments:risk_new", args=[dit_course.pk]), valid())
    settings_file = tmp_path / "risk.toml"
    settings_file.write_text('[safety_plan]\nfields = [{ id = "warning_signs", label = "Red flags" }]\n',
                             encoding="utf-8")
    monkeypatch.setenv(risk.SETTINGS_VARIABLE, str(settings_file))
    risk.reload()
    try:
        page = client.get(reverse("assessments:risk", args=[dit_course.pk])).content.decode()
        form = client.get(reverse("assessments:risk_new", args=[dit_course.pk])).content.decode()
    finally:
        monkeypatch.delenv(risk.SETTINGS_VARIABLE)
        risk.reload()

    assert "Warning signs" in page
    assert "People I can ask for help" in page
    assert "Red flags" not in page
    assert "Red flags" in form
    assert "People I can ask for help" not in form


def test_a_screening_alerts_page_opens_for_the_referrals_clinician_and_says_screening(client_for, therapist,
                                                                                     unrelated_therapist):
    from interpersonal.web.patients.actions import register_patient

    patient = register_patient(by=therapist, given_name="Nia", family_name="Newcomer",
                               date_of_birth=dt.date(1992, 5, 17),
                               received_on=timezone.localdate() - dt.timedelta(days=10), source="gp")
    m = record_measurement(referral=patient.referrals.get(), instrument="phq9", answers=PHQ9_ITEM9_TWO, by=therapist)
    url = reverse("assessments:alert", args=[m.risk_alert.pk])

    html = client_for(therapist).get(url).content.decode()

    assert "Screening on" in html
    assert "Acknowledge it on the screening page" in html
    assert "Assess risk" not in html  # a risk assessment belongs to a course
    assert client_for(unrelated_therapist).get(url).status_code == 404
