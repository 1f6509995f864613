"""The Content Security Policy (no inline script or style, no eval) breaks no page in a real
browser: Chromium reports no violation and the Vega charts still draw."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

pytestmark = pytest.mark.e2e

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's event loop shares this thread

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "a-long-synthetic-password"  # the personas' password (tests/conftest.py)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def course_with_measures(transactional_db, dit_course, therapist):
    """Two attended sessions with a PHQ-9 each (a chart with a line), a draft letter, a link."""
    from interpersonal.web.assessments.actions import record_measurement
    from interpersonal.web.courses.actions import record_session
    from interpersonal.web.letters.actions import draft_letter
    from interpersonal.web.questionnaires.actions import issue_link

    for days_ago, answers in ((14, [2, 2, 1, 2, 1, 1, 1, 0, 0]), (7, [1, 1, 1, 1, 0, 1, 0, 0, 0])):
        session = record_session(course=dit_course, by=therapist, attendance=5, duration_minutes=50,
                                 scheduled_at=timezone.now() - dt.timedelta(days=days_ago))
        record_measurement(course=dit_course, instrument="phq9", session=session, by=therapist,
                           recorded_at=session.scheduled_at,
                           answers={str(i): a for i, a in enumerate(answers, start=1)})
    draft_letter(course=dit_course, kind="goodbye", by=therapist)
    _, token = issue_link(course=dit_course, instruments=["phq9"], by=therapist)
    return dit_course, token


def watch(page) -> list[str]:
    """Every console message about the Content Security Policy, as the page runs."""
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    return violations


def sign_in(browser, live_server, username: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    violations = watch(page)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return context, page, violations


def test_staff_pages_and_charts_run_under_the_policy(browser, live_server, course_with_measures, therapist):
    course, _ = course_with_measures
    context, page, violations = sign_in(browser, live_server, therapist.username)

    for path in ("/caseload/", f"/courses/{course.pk}/letters/", f"/courses/{course.pk}/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    expect(page.locator("#chart-phq9 .chart__plot svg").first).to_be_visible()
    expect(page.locator("#chart-phq9 .chart__plot svg path").first).to_be_attached()
    context.close()

    assert violations == []


def test_patient_questionnaire_page_runs_under_the_policy(browser, live_server, course_with_measures):
    _, token = course_with_measures
    context = browser.new_context()
    page = context.new_page()
    violations = watch(page)

    response = page.goto(f"{live_server.url}/q/{token}/")
    page.wait_for_load_state("networkidle")
    context.close()

    assert response.status == 200
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert violations == []


def test_outcomes_dashboard_runs_under_the_policy(browser, live_server, course_with_measures, service_lead):
    context, page, violations = sign_in(browser, live_server, service_lead.username)

    page.goto(f"{live_server.url}/outcomes/")
    page.wait_for_load_state("networkidle")
    context.close()

    assert violations == []
