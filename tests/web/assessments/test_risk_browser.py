"""Risk in a real browser (Playwright on Debian's chromium), as a therapist plays it (issue 14):
an open alert on the course page says what was answered, where and how long it has been open;
its page leads to "Assess risk"; the risk assessment and safety plan are recorded from it; the
alert is acknowledged; later the assessment is reviewed and the earlier version is history. At
1280 px, then the pages that matter on a 390 px phone: no horizontal scrolling, no serious or
critical axe-core violation, no Content Security Policy violation.

Set ``SCREENSHOTS_DIR`` to keep screenshots of each page.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from interpersonal.web.assessments.models import RiskAssessment
from tests.e2e import axe
from tests.e2e.conftest import _live_server_counted, _live_server_quiet_at_teardown  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's event loop shares this thread

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "a-long-synthetic-password"  # the personas' password (tests/conftest.py)
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def check(page, name: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), f"{name} scrolls sideways"
    found = axe.violations(page)
    assert found == [], f"{name}:\n{axe.describe(found)}"
    if where := os.environ.get("SCREENSHOTS_DIR"):
        page.screenshot(path=str(Path(where) / f"risk-{name}.png"), full_page=True)


def sign_in(page, url: str, user) -> None:
    page.goto(f"{url}/accounts/login/?next=/caseload/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_therapist_assesses_risk_from_an_alert_acknowledges_it_and_reviews_later(live_server, therapist,
                                                                                  dit_course, risk_alert):
    course_url = f"{live_server.url}/courses/{dit_course.pk}/"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(**DESKTOP).new_page()
        csp: list[str] = []
        page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
        sign_in(page, live_server.url, therapist)

        # The open alert: the answer, where it came from, how long it has been open.
        page.goto(course_url)
        alert = page.get_by_role("region", name="Open risk alert")
        expect(alert).to_contain_text("Item 9 ‘Thoughts that you would be better off dead")
        expect(alert).to_contain_text("1 — Several days")
        expect(alert).to_contain_text("session 1 (recorded by Tess Therapist)")
        expect(alert).to_contain_text("open 7 days")
        expect(page.locator("#risk")).to_contain_text("None recorded")
        check(page, "course-open-alert-1280")

        alert.get_by_role("link", name=re.compile("Alert details")).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Risk alert")
        expect(page.locator(".alert-duration")).to_have_text("Open 7 days")
        check(page, "alert-detail-open-1280")

        # Assess risk from it: the risk assessment and the safety plan.
        page.get_by_role("link", name="Assess risk").click()
        expect(page.get_by_role("heading", name=re.compile("From the risk alert"))).to_be_visible()
        page.get_by_label("Current suicidal ideation").fill("Fleeting thoughts of being better off dead, no plan.")
        page.get_by_label("Intent").fill("Denies any intent.")
        page.get_by_label("Protective factors").fill("Her children; her sister.")
        page.get_by_role("radio", name="Medium").check()
        page.get_by_label("Formulation and plan").fill("Passive ideation when conflict with her partner peaks.")
        page.get_by_label("Warning signs").fill("Not sleeping; staying in bed.")
        page.get_by_label("People I can ask for help").fill("Sister, Jo.")
        check(page, "assessment-form-1280")
        page.get_by_role("button", name="Save the risk assessment").click()
        expect(page.get_by_role("heading", name=re.compile("Current: Medium risk"))).to_be_visible()
        check(page, "assessment-recorded-1280")

        # Acknowledge the alert from its page, which now lists the assessment made from it.
        page.get_by_role("link", name="a risk alert").click()
        expect(page.get_by_text(re.compile("Version 1: Medium risk"))).to_be_visible()
        page.get_by_label("What was done (required)").fill("Risk assessed with the patient; safety plan agreed.")
        page.get_by_role("button", name="Acknowledge").click()
        expect(page.get_by_role("heading", level=2, name=re.compile("^Acknowledged"))).to_be_visible()
        expect(page.locator(".alert-duration")).to_contain_text("Acknowledged after 7 days")
        check(page, "alert-detail-acknowledged-1280")

        page.goto(course_url)
        expect(page.locator("#risk")).to_contain_text("Medium")
        expect(page.locator("#risk")).to_contain_text("Next review")
        check(page, "course-risk-summary-1280")

        # Later: the review, and the history.
        page.locator("#risk").get_by_role("link", name="Review the risk assessment").click()
        expect(page.get_by_label("Intent")).to_have_value("Denies any intent.")
        page.get_by_role("radio", name="Low").check()
        page.get_by_label("Formulation and plan").fill("Ideation has gone; coping plan in use.")
        page.get_by_role("button", name="Save the review").click()
        expect(page.get_by_role("heading", name=re.compile("Current: Low risk"))).to_be_visible()
        history = page.locator("#history")
        history.get_by_text(re.compile("Medium risk, recorded")).click()
        expect(history).to_contain_text("Passive ideation when conflict with her partner peaks.")
        check(page, "review-history-1280")

        # A phone: the course page's risk part, the form and the safety plan to share.
        phone = browser.new_context(**PHONE).new_page()
        phone.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
        sign_in(phone, live_server.url, therapist)
        phone.goto(course_url + "#risk")
        expect(phone.locator("#risk")).to_contain_text("Low")
        check(phone, "course-risk-summary-390")
        phone.goto(f"{live_server.url}/courses/{dit_course.pk}/risk/new/")
        check(phone, "assessment-form-390")
        phone.goto(f"{live_server.url}/courses/{dit_course.pk}/risk/safety-plan/")
        expect(phone.get_by_role("heading", level=1)).to_contain_text("My safety plan")
        expect(phone.locator(".safety-plan")).to_contain_text("Sister, Jo.")
        check(phone, "safety-plan-390")
        browser.close()
    assert csp == []
    assert list(RiskAssessment.objects.order_by("number").values_list("number", "level")) == [(1, "medium"), (2, "low")]
    risk_alert.refresh_from_db()
    assert not risk_alert.open
