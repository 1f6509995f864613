"""A therapist's day in a real browser: record a PHQ-9 with a risk answer, see the chart
and the alert, acknowledge it; another therapist is refused the course."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

pytestmark = pytest.mark.e2e

# Playwright's sync API runs an event loop in this thread; Django's ORM (fixtures, live
# server set-up) refuses to run inside one unless told it is safe here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
PASSWORD = "a-long-synthetic-password"  # the personas' password (tests/conftest.py)
NOTE = "Safety plan reviewed by phone; GP informed"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def course_with_a_first_phq9(transactional_db, dit_course, therapist):
    """The DIT course after one attended session with a clean PHQ-9 (one row in the chart table)."""
    from interpersonal.web.assessments.actions import record_measurement
    from interpersonal.web.courses.actions import record_session

    session = record_session(course=dit_course, by=therapist, attendance=5, duration_minutes=50,
                             scheduled_at=timezone.now() - dt.timedelta(days=7))
    record_measurement(course=dit_course, instrument="phq9", session=session, by=therapist, recorded_at=session.scheduled_at,
                       answers={"1": 2, "2": 2, "3": 1, "4": 2, "5": 1, "6": 1, "7": 1, "8": 0, "9": 0})
    return dit_course


def sign_in(browser, live_server, username: str, next_path: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return context, page


def test_therapist_records_risk_phq9_sees_chart_and_alert_and_acknowledges(
    browser, live_server, course_with_a_first_phq9, therapist, unrelated_therapist, patient,
):
    course = course_with_a_first_phq9
    course_path = f"/courses/{course.pk}/"
    context, page = sign_in(browser, live_server, therapist.username, course_path)
    page.wait_for_url(f"{live_server.url}{course_path}")
    phq9_rows = page.locator("#chart-phq9 table tbody tr")
    expect(phq9_rows).to_have_count(1)
    expect(page.get_by_role("region", name="Open risk alert")).to_have_count(0)

    page.get_by_role("link", name="Record a session").click()
    phq9 = page.locator("details.measure", has=page.locator("summary", has_text="PHQ-9"))
    for item in range(1, 9):
        phq9.locator(f"#fieldset-phq9-{item}").get_by_label("Not at all").check()
    phq9.locator("#fieldset-phq9-9").get_by_label("Several days").check()
    page.get_by_role("button", name="Save the session").click()

    page.wait_for_url(re.compile(rf"{re.escape(live_server.url + course_path)}(#.*)?$"))
    expect(phq9_rows).to_have_count(2)
    expect(phq9_rows.nth(1)).to_contain_text("Yes")  # the risk column of the new row
    expect(page.locator("#chart-phq9.chart--ready .chart__plot svg")).to_have_count(1)
    alert = page.get_by_role("region", name="Open risk alert")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("Item 9")

    alert.get_by_label("What was done (required)").fill(NOTE)
    alert.get_by_role("button", name="Acknowledge").click()

    page.wait_for_url(re.compile(rf"{re.escape(live_server.url + course_path)}(#.*)?$"))
    expect(page.get_by_role("region", name="Open risk alert")).to_have_count(0)
    expect(page.locator(".alert-done")).to_contain_text(NOTE)
    context.close()

    other_context, other_page = sign_in(browser, live_server, unrelated_therapist.username, "/")
    response = other_page.goto(f"{live_server.url}{course_path}")
    assert response is not None
    assert response.status == 404
    assert patient.full_name not in other_page.content()
    other_context.close()
