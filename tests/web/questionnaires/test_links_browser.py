"""Questionnaire links sent from the course, in a real browser (Playwright on Debian's chromium),
as a therapist plays it (issue 14): send the questionnaires by e-mail, see the link queued and,
once the worker has run, sent; try a second link for the same session and be told one is open;
end the course and see the link list say "closed" — and the patient's link open a kind "this
link is closed" page. At 1280 px, and the link list again at 390 px (no sideways scrolling). No
serious or critical axe-core violation, no Content Security Policy violation.

Set ``SCREENSHOTS_DIR`` to keep screenshots of the pages.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from interpersonal.web.courses.actions import record_session
from interpersonal.web.questionnaires import tasks
from interpersonal.web.questionnaires.models import QuestionnaireLink
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
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
    found = axe.violations(page)
    assert found == [], f"{name}:\n{axe.describe(found)}"
    if where := os.environ.get("SCREENSHOTS_DIR"):
        page.screenshot(path=str(Path(where) / f"links-{name}.png"), full_page=True)


def test_a_therapist_emails_the_questionnaires_and_the_course_end_closes_the_link(
        live_server, therapist, dit_course, patient, settings, mailoutbox):
    # The worker is not running: sends wait in the queue until the test runs the task, as db_worker would.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.INTERPERSONAL_SMS_BACKEND = "interpersonal.web.questionnaires.notify.DummySms"
    patient.email, patient.contact_by_email = "pat@example.org", True  # no mobile number recorded
    patient.save(update_fields=["email", "contact_by_email"])
    booked = record_session(course=dit_course, by=therapist, attendance=None,
                            scheduled_at=timezone.now() + dt.timedelta(days=3))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(**DESKTOP).new_page()
        csp: list[str] = []
        page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{live_server.url}/accounts/login/?next=/courses/{dit_course.pk}/")
        page.get_by_label("Username").fill(therapist.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        # Send by e-mail: the text message is offered, disabled, with what to do about it.
        page.get_by_role("link", name="Send questionnaires").click()
        expect(page.get_by_label("E-mail")).to_be_checked()
        expect(page.get_by_label("Text message")).to_be_disabled()
        expect(page.get_by_text("No mobile number recorded — add one on the patient's page")).to_be_visible()
        check(page, "send-1280")
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_text("The link is queued to be sent by e-mail to p•••@example.org")).to_be_visible()
        row = page.locator("tbody tr").first
        expect(row).to_contain_text("Queued to send by e-mail")
        expect(row).to_contain_text("Open")
        check(page, "list-queued-1280")

        # The worker runs; the list shows where and when it went.
        link = QuestionnaireLink.objects.get()
        assert link.session_id == booked.pk  # no session chosen: the next booked one
        assert tasks.deliver(link.pk) == "sent"
        page.reload()
        expect(row).to_contain_text(re.compile(r"Sent by e-mail to p•••@example\.org at \d\d:\d\d"))
        check(page, "list-sent-1280")

        # A second link for the same session is refused, offering to resend or withdraw the open one.
        page.get_by_role("link", name="Send questionnaires").click()
        page.get_by_label("For session").select_option(str(booked.pk))
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_text("This session already has an open link")).to_be_visible()
        expect(page.get_by_role("button", name="Send it again by e-mail")).to_be_visible()
        expect(page.get_by_role("button", name="Withdraw it")).to_be_visible()
        check(page, "second-link-refused-1280")
        assert QuestionnaireLink.objects.count() == 1

        # The course ends; the link list says the link is closed, and why.
        page.goto(f"{live_server.url}/courses/{dit_course.pk}/")
        page.locator("#end summary").click()  # the ending is folded on the course page until asked for
        page.get_by_label("Why the course ended").select_option("dropped_out")
        page.get_by_role("button", name="End the course").click()
        expect(page.get_by_text(re.compile("Ended"))).to_be_visible()
        page.get_by_role("link", name="Questionnaire links").click()
        today = timezone.localdate()
        expect(row).to_contain_text("Closed")
        expect(row).to_contain_text(f"course ended on {today.day} {today:%b %Y}")
        expect(page.get_by_role("button", name=re.compile("Send again|Withdraw"))).to_have_count(0)
        check(page, "list-closed-1280")

        # The patient's link, from the e-mail, now opens a kind closed page.
        (mail,) = mailoutbox
        url = re.search(r"https?://\S+/q/[A-Za-z0-9_-]+/", mail.body).group(0)
        patient_page = browser.new_context(**PHONE).new_page()
        patient_page.goto(live_server.url + url[url.index("/q/"):])
        expect(patient_page.get_by_role("heading", name="This link is closed")).to_be_visible()
        check(patient_page, "patient-closed-390")

        phone = browser.new_context(**PHONE).new_page()
        phone.goto(f"{live_server.url}/accounts/login/?next=/courses/{dit_course.pk}/questionnaires/")
        phone.get_by_label("Username").fill(therapist.username)
        phone.get_by_label("Password").fill(PASSWORD)
        phone.get_by_role("button", name="Sign in").click()
        expect(phone.locator("tbody tr").first).to_contain_text("course ended on")
        check(phone, "list-closed-390")
        browser.close()
    assert csp == []
