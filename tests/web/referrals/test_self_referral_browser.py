"""The self-referral form and the referral inbox in a real browser (Playwright on Debian's
chromium): a person refers themselves on a 320 px phone using the keyboard and labels only, the
error summary takes them to the field, the thank-you page shows the reference; the clinician
then finds the referral in the inbox. Every page: no horizontal scrolling at 320 px, no serious
or critical axe-core violation (tests/e2e/axe.py), no Content Security Policy violation.

Set ``SCREENSHOTS_DIR`` to keep a screenshot of each page at 390 px and 1280 px.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from interpersonal.web.referrals import actions
from interpersonal.web.referrals.models import SelfReferral
from tests.e2e import axe
from tests.e2e.conftest import _live_server_counted, _live_server_quiet_at_teardown  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's event loop shares this thread

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "a-long-synthetic-password"  # the personas' password (tests/conftest.py)
NARROW = {"viewport": {"width": 320, "height": 640}, "is_mobile": True, "has_touch": True}
SHOTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def watch(page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    return found


def fits(page) -> None:
    """Nothing wider than the screen: no horizontal scrolling (WCAG 2.2 1.4.10 Reflow)."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url


def no_axe_violations(page, name: str) -> None:
    found = axe.violations(page)
    assert found == [], f"{name}:\n{axe.describe(found)}"


def shoot(browser, url: str, name: str, *, signed_in=None) -> None:
    where = os.environ.get("SCREENSHOTS_DIR")
    if not where:
        return
    for label, viewport in SHOTS.items():
        context = browser.new_context(viewport=viewport, storage_state=signed_in)
        page = context.new_page()
        page.goto(url)
        page.screenshot(path=str(Path(where) / f"{name}-{label}.png"), full_page=True)
        context.close()


def test_a_person_refers_themselves_on_a_small_phone_with_the_keyboard(browser, live_server, settings, supervisor):
    settings.INTERPERSONAL_SELF_REFERRAL_MIN_SECONDS = 0  # the test types faster than a person
    context = browser.new_context(**NARROW)
    page = context.new_page()
    violations = watch(page)
    url = f"{live_server.url}/refer/"
    shoot(browser, url, "refer-form")

    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Refer yourself for talking therapy")
    expect(page.locator(".crisis__message")).to_have_text(settings.INTERPERSONAL_CRISIS_MESSAGE)
    fits(page)
    no_axe_violations(page, "form")

    # The keyboard: the skip link first, then the first question (the honeypot is never reached).
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_given_name"

    # Sent empty: an error summary whose links take the person to each field.
    page.get_by_role("button", name="Send my referral").press("Enter")
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem: nothing has been sent yet")
    expect(page.locator(".crisis__message")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: "))
    fits(page)
    no_axe_violations(page, "form with errors")
    if os.environ.get("SCREENSHOTS_DIR"):  # a POST's result: this page, at 320 px
        page.screenshot(path=str(Path(os.environ["SCREENSHOTS_DIR"]) / "refer-errors-320.png"), full_page=True)
    summary.get_by_role("link", name="Enter your first name.").click()
    assert page.evaluate("document.activeElement.id") == "id_given_name"

    # Filled in by label, as assistive technology finds the fields.
    page.get_by_label("First name").fill("Morgan")
    page.get_by_label("Last name").fill("Selfton")
    page.get_by_label("Day").fill("14")
    page.get_by_label("Month").fill("3")
    page.get_by_label("Year").fill("1985")
    page.get_by_label("GP practice").fill("Riverside Surgery, Exampletown")
    page.get_by_label("Phone number").fill("07700 900982")
    page.get_by_label("Text message").check()
    page.get_by_label("No", exact=True).check()
    page.get_by_label("What would you like help with?").fill("Low mood since I lost my job.")
    page.get_by_label("I agree that the service may contact me").check()
    page.get_by_role("button", name="Send my referral").click()

    page.wait_for_url(re.compile(r".*/refer/thanks/\?r=.*"))
    submission = SelfReferral.objects.get()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your referral has been sent")
    expect(page.locator(".p-reference")).to_have_text(submission.reference)
    expect(page.locator(".crisis__message")).to_be_visible()
    assert "Morgan" not in page.content()
    fits(page)
    no_axe_violations(page, "thanks")
    shoot(browser, page.url, "refer-thanks")
    context.close()
    assert violations == []

    # The clinician finds it in the inbox, and opens it.
    desk = browser.new_context(viewport=SHOTS["desktop"])
    staff = desk.new_page()
    staff_violations = watch(staff)
    staff.goto(f"{live_server.url}/accounts/login/?next=/referrals/")
    staff.get_by_label("Username").fill(supervisor.username)
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Sign in").click()
    staff.wait_for_url(re.compile(r".*/referrals/$"))
    row = staff.locator("tr", has_text="Selfton, Morgan")
    expect(row).to_contain_text("Self-referral")
    expect(row).to_contain_text("0 days")
    no_axe_violations(staff, "inbox")
    state = desk.storage_state()
    shoot(browser, staff.url, "inbox", signed_in=state)
    row.get_by_role("link").click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text("Referral of Morgan Selfton")
    expect(staff.get_by_text("do not leave a message saying who we are")).to_be_visible()
    no_axe_violations(staff, "referral")
    shoot(browser, staff.url, "referral", signed_in=state)
    # The same person sends the form again: flagged, and the clinician records that it is them.
    again = actions.receive_self_referral(
        given_name="Morgan", family_name="Selfton", date_of_birth=dt.date(1985, 3, 14), gp_practice="Riverside",
        presenting_problem="Still low.", contact_method="phone", leave_message=True, consent=True,
        phone="07700 900982")
    staff.goto(f"{live_server.url}/referrals/{again.referral_id}/")
    expect(staff.get_by_role("heading", name="Possible duplicate")).to_be_visible()
    no_axe_violations(staff, "possible duplicate")
    shoot(browser, staff.url, "duplicate", signed_in=state)
    staff.get_by_label("Yes: the same person").check()
    staff.get_by_role("button", name="Record the decision").click()
    expect(staff.get_by_role("heading", name="Duplicate: this record is to be erased")).to_be_visible()
    staff.goto(f"{live_server.url}/referrals/new/")
    no_axe_violations(staff, "new referral")
    shoot(browser, staff.url, "new-referral", signed_in=state)
    desk.close()
    assert staff_violations == []
