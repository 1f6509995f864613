"""Issue 14 in a real browser (Playwright on Debian's chromium):

- a patient on a 390 px phone gives a risk answer: the next question is still on the first
  screen, a one-line pointer leads to the crisis panel after the form, and 999, 111 and
  116 123 are tap-to-call links with accessible names;
- a therapist's course page with WSAS 10 → 23 draws the chart with the deterioration flagged
  and, from "Other measures", reaches BDI-II, entered without its licensed text.

Set ``SCREENSHOTS_DIR`` to keep a screenshot of the pages at 390 px and 1280 px; look at them,
also through a deuteranopia simulation (Machado et al. 2009's matrix, e.g. Pillow's
``Image.convert("RGB", matrix)``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from interpersonal.web.assessments.actions import record_measurement
from interpersonal.web.courses.actions import record_session

pytestmark = pytest.mark.e2e

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's event loop shares this thread

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "a-long-synthetic-password"  # the personas' password (tests/conftest.py)
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def shoot(page, name: str) -> None:
    where = os.environ.get("SCREENSHOTS_DIR")
    if where:
        page.screenshot(path=str(Path(where) / f"{name}.png"), full_page=True)


def test_after_a_risk_answer_the_next_question_stays_on_a_phones_first_screen(
    browser, live_server, transactional_db, dit_course, therapist,
):
    from interpersonal.web.questionnaires.actions import issue_link

    _link, token = issue_link(course=dit_course, instruments=("phq9",), by=therapist)
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    page.goto(f"{live_server.url}/q/{token}/phq9/9/")
    page.get_by_label("More than half the days", exact=True).check()
    page.get_by_role("button", name="Next").tap()
    page.wait_for_url(f"{live_server.url}/q/{token}/phq9/10/")

    screen = PHONE["viewport"]["height"]
    question = page.get_by_role("heading", level=1)
    box = question.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= screen, box  # the question is on the first screen
    first_answer = page.get_by_role("radio").first.bounding_box()
    assert first_answer is not None
    assert first_answer["y"] + first_answer["height"] <= screen, first_answer
    pointer = page.locator(".crisis-compact")
    expect(pointer).to_be_visible()
    shoot(page, "questionnaire-risk-phone")

    panel = page.locator("main #crisis")
    for number, name in (("111", "Call 111"), ("999", "Call 999"), ("116123", "Call 116 123")):
        link = panel.get_by_role("link", name=name)
        expect(link).to_have_attribute("href", f"tel:{number}")
    pointer.get_by_role("link").tap()
    expect(panel).to_be_in_viewport()
    phone.close()


def test_course_chart_flags_wsas_deterioration_and_bdi2_is_reachable(
    browser, live_server, transactional_db, dit_course, therapist,
):
    for days, values in ((21, (2, 2, 2, 2, 2)), (14, (3, 3, 3, 3, 3)), (7, (5, 5, 5, 4, 4))):  # 10, 15, 23
        s = record_session(course=dit_course, by=therapist, attendance=5,
                           scheduled_at=timezone.now() - dt.timedelta(days=days))
        record_measurement(course=dit_course, instrument="wsas", session=s, by=therapist, recorded_at=s.scheduled_at,
                           answers={str(i): v for i, v in enumerate(values, 1)})
    desk = browser.new_context(**DESKTOP)
    page = desk.new_page()
    page.goto(f"{live_server.url}/accounts/login/?next=/courses/{dit_course.pk}/")
    page.get_by_label("Username").fill(therapist.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(rf".*/courses/{dit_course.pk}/$"))

    chart = page.locator("#chart-wsas")
    expect(chart.locator(".chart__plot svg, .chart__plot canvas").first).to_be_visible()
    expect(chart.locator(".chart__plot")).to_contain_text("reliable deterioration")
    expect(page.locator("#summary tr", has_text="WSAS")).to_contain_text("▲ Reliable deterioration: 13 points worse")
    chart.scroll_into_view_if_needed()
    shoot(page, "course-wsas-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "course-wsas-phone")
    page.set_viewport_size(DESKTOP["viewport"])

    page.get_by_text("Other measures").click()
    page.get_by_role("link", name="Record BDI-II").click()
    page.wait_for_url(re.compile(r".*instrument=bdi2$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Record BDI-II")
    expect(page.get_by_role("note")).to_contain_text("The licence does not allow the item text to be shown")
    desk.close()
