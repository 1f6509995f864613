"""The diary in a real browser (Playwright on Debian's chromium), as a therapist plays it: book a
course's appointments from the course page, see them in the week, mark yesterday's booking "did
not attend" and find the follow-up it opens. No serious or critical axe-core violation, no
horizontal scrolling on a 390 px phone, no Content Security Policy violation.

Set ``SCREENSHOTS_DIR`` to keep a screenshot of the week and the appointment page.
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
from interpersonal.web.courses.models import FollowUp, TherapySession
from tests.e2e import axe
from tests.e2e.conftest import _live_server_counted, _live_server_quiet_at_teardown  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's event loop shares this thread

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "a-long-synthetic-password"  # the personas' password (tests/conftest.py)
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def check(page, name: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
    found = axe.violations(page)
    assert found == [], f"{name}:\n{axe.describe(found)}"
    if where := os.environ.get("SCREENSHOTS_DIR"):
        page.screenshot(path=str(Path(where) / f"diary-{name}.png"), full_page=True)


def test_a_therapist_books_a_series_and_follows_up_a_missed_appointment(live_server, therapist, dit_course):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    missed = record_session(course=dit_course, by=therapist, attendance=None, scheduled_at=timezone.make_aware(
        dt.datetime.combine(yesterday, dt.time(9, 0))))
    first = timezone.localdate() + dt.timedelta(days=7 - timezone.localdate().weekday())  # next Monday
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(**PHONE).new_page()
        csp: list[str] = []
        page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{live_server.url}/accounts/login/?next=/courses/{dit_course.pk}/")
        page.get_by_label("Username").fill(therapist.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        page.get_by_role("link", name="Book appointments").click()
        page.get_by_label("First appointment").fill(first.isoformat())
        page.get_by_label("Time").fill("10:00")
        page.get_by_label("Number of appointments").fill("4")
        page.get_by_label("Room").fill("Elm 2")
        page.get_by_role("button", name="Book the appointments").click()
        expect(page.get_by_text("4 appointments booked")).to_be_visible()
        row = page.locator("tr", has_text="DIT session 2")  # yesterday's booking is session 1
        expect(row).to_contain_text("Elm 2")
        expect(row).to_contain_text("Booked")
        check(page, "week")

        page.goto(f"{live_server.url}/diary/?week={yesterday.isoformat()}")
        page.locator("tr", has_text="09:00").get_by_role("link", name="Mark attendance").click()
        dna = page.get_by_label("3 · Did not attend, no advance warning given")
        expect(dna).to_be_visible()  # the appointment page has loaded (checking it mid-navigation finds no document)
        check(page, "appointment")
        dna.check()
        page.get_by_role("button", name="Record attendance").click()
        expect(page.get_by_text("A follow-up task was added to your diary")).to_be_visible()
        expect(page.get_by_role("heading", name=re.compile("Follow up missed appointments"))).to_be_visible()
        browser.close()
    assert csp == []
    missed.refresh_from_db()
    assert missed.attendance == 3
    assert FollowUp.objects.get().session_id == missed.pk
    assert TherapySession.objects.filter(course=dit_course, attendance__isnull=True).count() == 4
