"""The patient's side of a questionnaire link, through the test client: open, answer one
question at a time or all on one page, resume, review, submit, thanks; risk; refusals."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.assessments.models import Measurement, RiskAlert
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.questionnaires.actions import withdraw_link
from interpersonal.web.questionnaires.models import QuestionnaireLink, TokenAttempt

from .conftest import question_url

pytestmark = pytest.mark.django_db

PHQ9 = {"1": 1, "2": 2, "3": 1, "4": 1, "5": 0, "6": 1, "7": 0, "8": 0, "9": 0, "10": 1}
GAD7 = {"1": 1, "2": 1, "3": 1, "4": 0, "5": 0, "6": 1, "7": 0, "8": 0}
WSAS = {"1": 2, "2": 3, "3": 1, "4": 0, "5": 2}
ANSWERS = {"phq9": PHQ9, "gad7": GAD7, "wsas": WSAS}
CRISIS = 'Samaritans free on <a class="tel-link" href="tel:116123" aria-label="Call 116 123">116 123</a>'
"""The default crisis message's Samaritans number, a tap-to-call link (questionnaires.templatetags.crisis)."""


def answer(client: Client, token: str, instrument: str, item: str, value: int | None, go: str = "next"):
    data = {"go": go} if value is None else {"go": go, "answer": str(value)}
    return client.post(question_url(token, instrument, item), data)


def answer_all_one_at_a_time(client: Client, token: str, answers=ANSWERS):
    for instrument, items in answers.items():
        for item, value in items.items():
            response = answer(client, token, instrument, item, value)
            assert response.status_code == 302, (instrument, item)
    return response


def body(response) -> str:
    return response.content.decode()


# --- the happy path ------------------------------------------------------------------------


def test_start_page_greets_by_first_name_and_says_what_to_expect(sent, patient_client):
    _, token = sent

    response = patient_client.get(reverse("questionnaires:start", args=[token]))

    assert response.status_code == 200
    text = body(response)
    assert "Hello Pat" in text
    assert "Talking Therapies (demo service)" in text
    assert "23 questions" in text
    assert "Time period: over the last 2 weeks" in text
    assert 'value="one" id="mode-one" checked' in text


def test_one_question_at_a_time_resume_review_submit_done(sent, patient_client, dit_course, audit_trail):
    link, token = sent
    start = patient_client.post(reverse("questionnaires:start", args=[token]), {"mode": "one"})
    assert start["Location"] == question_url(token, "phq9", "1")

    first = patient_client.get(start["Location"])
    assert "Question 1 of 23" in body(first)
    assert '<progress max="23" value="1"' in body(first)
    for item in ("1", "2", "3"):
        assert answer(patient_client, token, "phq9", item, PHQ9[item]).status_code == 302

    # The tab is closed; the link is opened again in a new browser: it resumes at question 4.
    later = Client(REMOTE_ADDR="203.0.113.7")
    again = later.get(reverse("questionnaires:start", args=[token]))
    assert "You have answered 3 of 23 questions" in body(again)
    resumed = later.post(reverse("questionnaires:start", args=[token]), {"mode": "one"})
    assert resumed["Location"] == question_url(token, "phq9", "4")
    assert "Question 4 of 23" in body(later.get(resumed["Location"]))

    last = answer_all_one_at_a_time(later, token)
    assert last["Location"] == reverse("questionnaires:review", args=[token])
    review = later.get(last["Location"])
    assert "You have answered 23 of 23 questions" in body(review)
    assert "More than half the days" in body(review)  # PHQ-9 item 2 = 2

    sent_ = later.post(reverse("questionnaires:submit", args=[token]))
    assert sent_.status_code == 302
    assert sent_["Location"] == reverse("questionnaires:done", args=[token])
    done = later.get(sent_["Location"])
    assert done.status_code == 200
    assert "your answers have been sent" in body(done)
    assert 'role="alert"' not in body(done)

    recorded = {m.instrument: m for m in Measurement.objects.filter(questionnaire_link=link)}
    assert set(recorded) == {"phq9", "gad7", "wsas"}
    assert recorded["phq9"].total == 6
    assert recorded["phq9"].source == Measurement.Source.PATIENT
    assert recorded["wsas"].total == 8
    assert not RiskAlert.objects.filter(course=dit_course, measurement__questionnaire_link=link).exists()
    link.refresh_from_db()
    assert link.submitted_at is not None
    assert link.draft == {}
    assert {"questionnaire_link.opened", "questionnaire_link.submitted"} <= set(audit_trail.new_types())


def test_next_goes_to_the_next_unanswered_question(sent, patient_client):
    _, token = sent
    for item in ("1", "3"):
        answer(patient_client, token, "phq9", item, 0)

    response = answer(patient_client, token, "phq9", "2", 0)

    assert response["Location"] == question_url(token, "phq9", "4")


def test_back_saves_and_goes_to_the_previous_question(sent, patient_client):
    link, token = sent

    response = answer(patient_client, token, "phq9", "2", 3, go="back")

    assert response["Location"] == question_url(token, "phq9", "1")
    link.refresh_from_db()
    assert link.draft == {"phq9": {"2": 3}}


def test_a_saved_answer_is_checked_when_the_question_is_shown_again(sent, patient_client):
    _, token = sent
    answer(patient_client, token, "gad7", "1", 2)

    page = patient_client.get(question_url(token, "gad7", "1"))

    assert re.search(r'<input type="radio" name="answer" value="2"[^>]*checked', body(page))


def test_skipped_questions_are_shown_on_review_and_submit_explains(sent, patient_client):
    link, token = sent
    answer_all_one_at_a_time(patient_client, token, {"phq9": PHQ9, "gad7": GAD7})
    skip = answer(patient_client, token, "wsas", "1", None, go="skip")
    assert skip["Location"] == question_url(token, "wsas", "2")

    review = patient_client.get(reverse("questionnaires:review", args=[token]))
    assert body(review).count('class="missing">Not answered') == 5

    sent_anyway = patient_client.post(reverse("questionnaires:submit", args=[token]))

    # What was answered is recorded; a questionnaire left wholly blank is not.
    assert sent_anyway.status_code == 302
    assert sorted(Measurement.objects.filter(questionnaire_link=link).values_list("instrument", flat=True)) == [
        "gad7", "phq9"]


def test_a_risk_answer_is_never_lost_when_another_questionnaire_cannot_be_scored(sent, patient_client):
    """Clinical review finding: WSAS asks retired people to leave item 1 blank, and WSAS is
    scored only when complete. The PHQ-9 risk answer must still reach the clinician."""
    link, token = sent
    answer_all_one_at_a_time(patient_client, token, {"phq9": {**PHQ9, "9": 3}, "gad7": GAD7})
    for item in ("2", "3", "4", "5"):
        answer(patient_client, token, "wsas", item, 4)

    done = patient_client.post(reverse("questionnaires:submit", args=[token]))

    recorded = {m.instrument: m for m in Measurement.objects.filter(questionnaire_link=link)}
    assert done.status_code == 302
    assert recorded["wsas"].total is None
    assert recorded["wsas"].complete is False
    assert recorded["phq9"].risk == ["9"]
    alerts = RiskAlert.objects.filter(course=link.course)
    assert [(a.instrument, a.measurement_id, a.open) for a in alerts] == [("phq9", recorded["phq9"].pk, True)]


def test_a_saved_risk_answer_raises_the_alert_before_the_patient_sends(sent, patient_client):
    link, token = sent

    answer(patient_client, token, "phq9", "9", 2)

    alert = RiskAlert.objects.get(course=link.course)
    assert (alert.instrument, alert.measurement, alert.questionnaire_link, alert.open) == ("phq9", None, link, True)
    answer_all_one_at_a_time(patient_client, token, {"phq9": {**PHQ9, "9": 2}, "gad7": GAD7, "wsas": WSAS})
    patient_client.post(reverse("questionnaires:submit", args=[token]))
    alert.refresh_from_db()
    assert RiskAlert.objects.filter(course=link.course).count() == 1
    assert alert.measurement.instrument == "phq9"


def test_all_on_one_page_saves_then_reviews_and_submits(sent, patient_client):
    link, token = sent
    page = patient_client.get(reverse("questionnaires:all", args=[token]))
    assert page.status_code == 200
    assert body(page).count("<fieldset") == 23

    data = {f"{i}-{item}": str(v) for i, items in ANSWERS.items() for item, v in items.items()}
    saved = patient_client.post(reverse("questionnaires:all", args=[token]), data)

    assert saved["Location"] == reverse("questionnaires:review", args=[token])
    link.refresh_from_db()
    assert link.draft == ANSWERS
    assert patient_client.post(reverse("questionnaires:submit", args=[token])).status_code == 302
    assert Measurement.objects.filter(questionnaire_link=link).count() == 3


def test_start_can_choose_all_on_one_page(sent, patient_client):
    _, token = sent

    response = patient_client.post(reverse("questionnaires:start", args=[token]), {"mode": "all"})

    assert response["Location"] == reverse("questionnaires:all", args=[token])


# --- idempotence and validation --------------------------------------------------------------


def test_double_submit_records_one_response(sent, patient_client):
    link, token = sent
    answer_all_one_at_a_time(patient_client, token)

    first = patient_client.post(reverse("questionnaires:submit", args=[token]))
    second = patient_client.post(reverse("questionnaires:submit", args=[token]))

    assert first.status_code == second.status_code == 302
    assert second["Location"] == reverse("questionnaires:done", args=[token])
    assert Measurement.objects.filter(questionnaire_link=link).count() == 3
    assert AuditEvent.objects.filter(type="questionnaire_link.submitted", target_id=str(link.pk)).count() == 1


def test_tampered_value_is_400_and_saves_nothing(sent, patient_client):
    link, token = sent

    response = answer(patient_client, token, "phq9", "1", 7)

    assert response.status_code == 400
    assert 'href="#id_answer_0"' in body(response)
    assert 'aria-describedby="instructions answer-error"' in body(response)
    link.refresh_from_db()
    assert link.draft == {}


def test_tampered_value_on_the_all_page_is_400_and_saves_nothing(sent, patient_client):
    link, token = sent

    response = patient_client.post(reverse("questionnaires:all", args=[token]), {"phq9-1": "1", "wsas-2": "9"})

    assert response.status_code == 400
    assert "nothing was saved" in body(response)
    link.refresh_from_db()
    assert link.draft == {}


def test_unknown_question_of_a_link_goes_back_to_the_start(sent, patient_client):
    _, token = sent

    response = patient_client.get(question_url(token, "bdi2", "1"))

    assert response["Location"] == reverse("questionnaires:start", args=[token])


# --- risk ----------------------------------------------------------------------------------


def test_risk_answer_shows_the_crisis_message_and_raises_an_open_alert(sent, patient_client, dit_course):
    link, token = sent
    answer_all_one_at_a_time(patient_client, token, {"phq9": PHQ9 | {"9": 1}, "gad7": GAD7, "wsas": WSAS})

    done = patient_client.get(patient_client.post(reverse("questionnaires:submit", args=[token]))["Location"])

    assert done.status_code == 200
    assert 'role="alert"' in body(done)
    assert CRISIS in body(done)
    alert = RiskAlert.objects.get(measurement__questionnaire_link=link)
    assert alert.open
    assert alert.course == dit_course


def test_crisis_message_is_shown_as_soon_as_a_risk_answer_is_saved(sent, patient_client):
    _, token = sent
    response = answer(patient_client, token, "phq9", "9", 2)

    following = patient_client.get(response["Location"])

    assert "Thank you for telling us how you feel" in body(following)


@override_settings(INTERPERSONAL_CRISIS_MESSAGE="Ring the Example Crisis Line on 0800 000 0000.")
def test_crisis_message_comes_from_the_service_settings(sent, patient_client):
    _, token = sent
    answer_all_one_at_a_time(patient_client, token, {"phq9": PHQ9 | {"9": 3}, "gad7": GAD7, "wsas": WSAS})

    done = patient_client.get(patient_client.post(reverse("questionnaires:submit", args=[token]))["Location"])

    assert ('Ring the Example Crisis Line on <a class="tel-link" href="tel:08000000000" '
            'aria-label="Call 0800 000 0000">0800 000 0000</a>.') in body(done)
    assert CRISIS not in body(done)


# --- links that cannot be used ---------------------------------------------------------------


def assert_kind_page(response, status: int) -> None:
    text = body(response)
    assert response.status_code == status
    assert "Pat" not in re.sub(r"<[^>]+>", " ", text).replace("Patient", "")
    assert "Hello" not in text
    assert CRISIS in text


@pytest.mark.parametrize("view", ["start", "review", "all", "done"])
def test_unknown_token_is_a_kind_404(sent, patient_client, view):
    response = patient_client.get(reverse(f"questionnaires:{view}", args=["A" * 43]))

    assert_kind_page(response, 404)
    assert "This link cannot be used" in body(response)


def test_expired_link_is_a_kind_410_identical_to_unknown(sent, patient_client):
    link, token = sent
    QuestionnaireLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    expired = patient_client.get(reverse("questionnaires:start", args=[token]))
    unknown = patient_client.get(reverse("questionnaires:start", args=["B" * 43]))

    assert_kind_page(expired, 410)
    assert body(expired) == body(unknown)


def test_withdrawn_link_is_a_kind_410(sent, patient_client, therapist):
    link, token = sent
    withdraw_link(link=link, by=therapist)

    for response in (patient_client.get(reverse("questionnaires:start", args=[token])),
                     patient_client.get(question_url(token, "phq9", "1")),
                     patient_client.post(reverse("questionnaires:submit", args=[token]))):
        assert_kind_page(response, 410)


def test_used_link_says_already_sent_and_shows_no_data(sent, patient_client):
    _, token = sent
    answer_all_one_at_a_time(patient_client, token)
    patient_client.post(reverse("questionnaires:submit", args=[token]))

    response = patient_client.get(reverse("questionnaires:start", args=[token]))

    assert_kind_page(response, 410)
    assert "already been sent" in body(response)
    assert "Several days" not in body(response)


def test_done_page_before_submitting_goes_to_the_start(sent, patient_client):
    _, token = sent

    response = patient_client.get(reverse("questionnaires:done", args=[token]))

    assert response["Location"] == reverse("questionnaires:start", args=[token])


@override_settings(INTERPERSONAL_LINK_MAX_ATTEMPTS=3)
def test_guessing_tokens_is_rate_limited_without_locking_patients_out(sent, patient_client):
    """After the limit (3 in these tests' settings) a client's further guesses get 429; a real
    link still opens from the same address — patients behind one proxy share it."""
    _, token = sent
    for n in range(3):
        assert patient_client.get(reverse("questionnaires:start", args=[f"{n}" * 43])).status_code == 404

    guess = patient_client.get(reverse("questionnaires:start", args=["9" * 43]))
    real = patient_client.get(reverse("questionnaires:start", args=[token]))

    assert_kind_page(guess, 429)
    assert guess["Retry-After"] == "900"
    assert real.status_code == 200
    assert TokenAttempt.objects.count() == 4


@override_settings(INTERPERSONAL_TRUSTED_PROXIES=1, INTERPERSONAL_LINK_MAX_ATTEMPTS=3)
def test_behind_a_trusted_proxy_clients_are_told_apart_by_the_address_it_saw(sent):
    """The proxy appends the address it saw; anything further left is the client's claim."""
    behind = {"REMOTE_ADDR": "127.0.0.1"}
    for n in range(3):
        Client(**behind).get(reverse("questionnaires:start", args=[f"{n}" * 43]),
                             HTTP_X_FORWARDED_FOR="203.0.113.7")
    spoofing = Client(**behind).get(reverse("questionnaires:start", args=["8" * 43]),
                                    HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.7")
    someone_else = Client(**behind).get(reverse("questionnaires:start", args=["8" * 43]),
                                        HTTP_X_FORWARDED_FOR="198.51.100.20")

    assert spoofing.status_code == 429
    assert someone_else.status_code == 404


# --- privacy and headers -------------------------------------------------------------------


def test_patient_pages_show_the_first_name_only(sent, patient_client, patient):
    _link, token = sent
    answer(patient_client, token, "phq9", "1", 1)
    pages = [reverse(f"questionnaires:{v}", args=[token]) for v in ("start", "all", "review")]
    pages.append(question_url(token, "phq9", "2"))
    for path in pages:
        text = body(patient_client.get(path))
        for secret in (patient.family_name, patient.local_id, patient.nhs_number, "943 476 5919", "1985",
                       "14 March", "Tess", "Therapist", "interpersonal"):
            assert secret not in text, (path, secret)


def test_patient_pages_are_not_cached_indexed_or_referred_and_set_no_cookie(sent, patient_client):
    _, token = sent
    for response in (patient_client.get(reverse("questionnaires:start", args=[token])),
                     patient_client.get(question_url(token, "phq9", "1")),
                     patient_client.get(reverse("questionnaires:start", args=["C" * 43]))):
        assert "no-store" in response["Cache-Control"]
        assert response["Referrer-Policy"] == "no-referrer"
        assert "noindex" in response["X-Robots-Tag"]
        assert not response.cookies


def test_patient_pages_use_their_own_base_without_staff_navigation(sent, patient_client):
    _, token = sent

    text = body(patient_client.get(reverse("questionnaires:start", args=[token])))

    assert 'lang="en-GB"' in text
    assert 'href="#main"' in text
    assert "questionnaires/patient.css" in text
    assert "Sign in" not in text
    assert "Caseload" not in text
    assert "interpersonal/site.css" not in text


def test_question_page_is_one_fieldset_with_the_question_as_legend_and_heading(sent, patient_client):
    _, token = sent

    text = body(patient_client.get(question_url(token, "phq9", "1")))

    assert text.count("<fieldset") == 1
    assert re.search(r"<legend[^>]*><h1>Little interest or pleasure in doing things", text)
    assert text.count('type="radio"') == 4
    assert text.count('<label class="choice"') == 4


def test_answers_sent_the_day_before_a_course_starts_are_recorded(sent, patient_client, dit_course):
    """Links go out 48 hours before a session, and a course may be booked to start tomorrow: the
    patient's answers are dated when they send them, a real pre-treatment score. Only a date a
    clinician types is refused before the course's start (assessments.actions.record_measurement)."""
    link, token = sent
    dit_course.started_on = timezone.localdate() + dt.timedelta(days=1)
    dit_course.save(update_fields=["started_on"])

    data = {f"{i}-{item}": str(v) for i, items in ANSWERS.items() for item, v in items.items()}
    patient_client.post(reverse("questionnaires:all", args=[token]), data)
    response = patient_client.post(reverse("questionnaires:submit", args=[token]))

    assert response.status_code == 302
    assert Measurement.objects.filter(questionnaire_link=link).count() == 3
