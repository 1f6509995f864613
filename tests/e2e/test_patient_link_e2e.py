"""A patient answers by link on a phone, in a real browser: PHQ-9 with item 9 = 2 and the rest
of the bundle one question per screen, review, send; the crisis message shows. The therapist
then sees the alert, and the link, opened again, says it has been used.

axe-core (tests/e2e/vendor, see tests/e2e/axe.py) checks every patient page visited — start,
every question, review, done and the used-link page — for serious or critical violations.
"""

from __future__ import annotations

import os
import re

import pytest
from django.conf import settings
from playwright.sync_api import expect, sync_playwright

from interpersonal.core import measures

from . import axe

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
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
BUNDLE = ("phq9", "gad7")
PHQ9_ITEM9 = 2
"""“More than half the days” to “thoughts that you would be better off dead…”: a risk answer."""


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def link_token(transactional_db, dit_course, therapist):
    from interpersonal.web.questionnaires.actions import issue_link

    _link, token = issue_link(course=dit_course, instruments=BUNDLE, by=therapist)
    return token


def answer_label(instrument: str, item: measures.Item) -> str:
    """The answer the patient picks: 2 to PHQ-9 item 9, 1 (“Several days”…) elsewhere."""
    value = PHQ9_ITEM9 if (instrument, item.id) == ("phq9", "9") else 1
    return next(o.label for o in item.options if o.value == value)


class AxeAudit:
    """axe on each page visited; the violations of all of them are asserted together at the end."""

    def __init__(self) -> None:
        self.pages: dict[str, list[dict]] = {}

    def check(self, page, name: str) -> None:
        found = axe.violations(page)
        self.pages[name] = found
        if found:
            print(f"\naxe: {name} ({page.url}):\n{axe.describe(found)}")

    def failures(self) -> dict[str, list[dict]]:
        return {name: found for name, found in self.pages.items() if found}


def test_patient_answers_phq9_with_risk_on_a_phone_then_therapist_sees_alert_and_link_is_used(
    browser, live_server, link_token, dit_course, therapist, patient,
):
    audit = AxeAudit()
    crisis = settings.INTERPERSONAL_CRISIS_MESSAGE
    start_url = f"{live_server.url}/q/{link_token}/"
    phone = browser.new_context(**PHONE)
    page = phone.new_page()

    # Start: the patient opens the link from a message.
    response = page.goto(start_url)
    assert response is not None
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello {patient.given_name}")
    audit.check(page, "start")
    page.get_by_label("One question at a time").check()
    page.get_by_role("button", name="Start").tap()

    # One question per screen, in the bundle's order.
    steps = [(iid, item) for iid in BUNDLE for item in measures.get(iid).items]
    risk_seen_at = None
    for position, (iid, item) in enumerate(steps, 1):
        page.wait_for_url(f"{live_server.url}/q/{link_token}/{iid}/{item.id}/")
        expect(page.locator(".progress__text")).to_have_text(f"Question {position} of {len(steps)}")
        expect(page.get_by_role("heading", level=1)).to_have_text(item.text)
        # (every page's footer has the message too; the crisis section appears only after a risk answer)
        if risk_seen_at is None and page.locator(".crisis .crisis__message").count():
            expect(page.locator(".crisis .crisis__message")).to_have_text(crisis)
            risk_seen_at = (iid, item.id)
        audit.check(page, f"question {iid} {item.id}")
        page.get_by_label(answer_label(iid, item), exact=True).check()
        page.get_by_role("button", name="Next").tap()
    # The crisis message appears on the screen after the risk answer, before anything is sent.
    assert risk_seen_at == ("phq9", "10"), risk_seen_at

    # Review: every answer shown, the crisis message still there; send.
    page.wait_for_url(f"{live_server.url}/q/{link_token}/review/")
    expect(page.get_by_role("heading", name="Check your answers", level=1)).to_be_visible()
    expect(page.get_by_text(f"You have answered {len(steps)} of {len(steps)} questions")).to_be_visible()
    expect(page.locator("#row-phq9-9 dd").first).to_have_text("More than half the days")
    expect(page.locator(".crisis .crisis__message")).to_have_text(crisis)
    audit.check(page, "review")
    page.get_by_role("button", name="Send my answers").tap()

    # Done: thanks, and the crisis message as an alert (the answers included a risk answer).
    page.wait_for_url(f"{live_server.url}/q/{link_token}/done/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: your answers have been sent")
    done_crisis = page.get_by_role("alert")
    expect(done_crisis).to_contain_text("If you need help now")
    expect(done_crisis.locator(".crisis__message")).to_have_text(crisis)
    audit.check(page, "done")
    phone.close()

    # The therapist (desktop) sees the alert on the caseload and on the course.
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    clinician = desk.new_page()
    clinician.goto(f"{live_server.url}/accounts/login/?next=/caseload/")
    clinician.get_by_label("Username").fill(therapist.username)
    clinician.get_by_label("Password").fill(PASSWORD)
    clinician.get_by_role("button", name="Sign in").click()
    clinician.wait_for_url(re.compile(r".*/caseload/.*"))
    row = clinician.locator("tr", has_text=patient.family_name)
    expect(row).to_contain_text("Risk: 1 open alert")
    clinician.goto(f"{live_server.url}/courses/{dit_course.pk}/")
    alert = clinician.get_by_role("region", name="Open risk alert")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("PHQ-9")
    expect(alert).to_contain_text("Item 9")
    desk.close()

    # The link, opened again (on the phone), says it has been used.
    again = browser.new_context(**PHONE)
    page = again.new_page()
    response = page.goto(start_url)
    assert response is not None
    assert response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("These questionnaires have already been sent")
    expect(page.get_by_text("This link can only be used once")).to_be_visible()
    audit.check(page, "used link")
    again.close()

    print(f"\naxe {axe.version()}: {len(audit.pages)} patient pages checked, "
          f"{sum(map(len, audit.pages.values()))} serious/critical violations")
    assert not audit.failures(), "\n".join(f"{name}:\n{axe.describe(found)}" for name, found in audit.failures().items())
