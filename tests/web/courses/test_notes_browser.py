"""A course's notes in a real browser (Playwright on Debian's chromium), as a therapist plays them:
open the course, record a session whose notes start with the DIT initial phase's template, write
under it and save; record a phone call; open the notes, search a word and see it marked; then the
supervisor reads the same notes, read only. No serious or critical axe-core violation, no
horizontal scrolling at 390 px, no Content Security Policy violation.

Set ``SCREENSHOTS_DIR`` to keep screenshots at 1280 px and 390 px wide.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from interpersonal.core import protocols
from interpersonal.web.courses.models import Contact, TherapySession
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
        page.screenshot(path=str(Path(where) / f"notes-{name}.png"), full_page=True)


def shot(locator, name: str) -> None:
    """A screenshot of one part of a page (a section of a long page)."""
    if where := os.environ.get("SCREENSHOTS_DIR"):
        locator.screenshot(path=str(Path(where) / f"notes-{name}.png"))


def sign_in(page, url: str, user) -> None:
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_therapist_writes_notes_under_the_phase_template_and_the_supervisor_reads_them(
        live_server, therapist, supervisor, dit_course):
    template = protocols.get("dit").phase("initial").note_template
    course_url = f"{live_server.url}/courses/{dit_course.pk}/"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        csp: list[str] = []
        page = browser.new_context(**DESKTOP).new_page()
        page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
        sign_in(page, live_server.url, therapist)
        page.goto(course_url)

        # A session: the notes start with the initial phase's headings, and say which template they are.
        page.get_by_role("link", name="Record a session").click()
        notes = page.get_by_label("Notes")
        expect(notes).to_have_value(template)
        expect(page.get_by_text("Template: Initial phase")).to_be_visible()
        check(page, "record-session-template-1280")
        shot(page.locator("fieldset.group").first, "record-session-template-fieldset-1280")
        notes.fill(template.replace("IPAF, representation of self:",
                                    "IPAF, representation of self: not good enough, waits to be let down by her sister"))
        page.get_by_label("Home practice").fill("Notice when she expects to be let down")
        page.get_by_role("button", name="Save the session").click()
        expect(page.locator("#notes")).to_contain_text("Session 1")
        expect(page.locator("#notes")).to_contain_text("waits to be let down by her sister")

        # A phone call outside the sessions, from the course page.
        page.locator("#notes").get_by_role("link", name="Record a contact").click()
        page.get_by_label("Kind of contact").select_option(label="Phone call")
        page.get_by_label("Duration (minutes)").fill("10")
        page.get_by_label("Note").fill("Her sister rang: worried about her sleep.\nAgreed to raise it at session 2.")
        check(page, "record-contact-1280")
        page.get_by_role("button", name="Save the contact").click()
        expect(page.get_by_role("heading", name=re.compile("^Notes"))).to_be_visible()
        expect(page.get_by_role("heading", name="Phone call")).to_be_visible()
        page.goto(course_url)
        shot(page.locator("#notes"), "course-page-section-1280")
        page.goto(f"{course_url}notes/")

        # Search within the course's notes: both mention her sister; the matches are marked.
        page.get_by_label("Search the notes").fill("SISTER")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_role("status")).to_contain_text("2 of 2 notes match")
        expect(page.locator("mark").first).to_have_text(re.compile("sister", re.IGNORECASE))
        check(page, "search-1280")
        page.get_by_label("Search the notes").fill("sleep")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_role("status")).to_contain_text("1 of 2 notes match")
        page.get_by_role("link", name="Show all notes").click()
        expect(page.get_by_text("2 notes, newest first")).to_be_visible()

        phone = browser.new_context(**PHONE).new_page()
        sign_in(phone, live_server.url, therapist)
        phone.goto(f"{course_url}notes/?q=sister")
        expect(phone.get_by_role("status")).to_contain_text("2 of 2 notes match")
        check(phone, "search-390")
        phone.goto(f"{course_url}contacts/new/")
        check(phone, "record-contact-390")
        phone.goto(course_url)
        shot(phone.locator("#notes"), "course-page-section-390")
        phone.goto(f"{course_url}sessions/new/")
        shot(phone.locator("fieldset.group").first, "record-session-template-fieldset-390")

        # The supervisor reads the same notes, and can change nothing.
        reader = browser.new_context(**DESKTOP).new_page()
        reader.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
        sign_in(reader, live_server.url, supervisor)
        reader.goto(course_url)
        expect(reader.locator("#notes")).to_contain_text("Her sister rang")
        reader.locator("#notes").get_by_role("link", name=re.compile(r"All notes \(2\)")).click()
        expect(reader.get_by_text("only the course’s therapist can record or correct them")).to_be_visible()
        expect(reader.get_by_text("waits to be let down by her sister")).to_be_visible()
        expect(reader.get_by_role("link", name="Record a contact")).to_have_count(0)
        expect(reader.get_by_role("link", name=re.compile("^Correct"))).to_have_count(0)
        check(reader, "supervisor-1280")
        browser.close()
    assert csp == []
    session = TherapySession.objects.get(course=dit_course)
    assert "waits to be let down by her sister" in session.notes
    assert Contact.objects.get(course=dit_course).duration_minutes == 10
