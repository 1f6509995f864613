"""Registering a patient in a real browser (Playwright on Debian's chromium): the possible-duplicate
warning appears before anything is saved, the therapist confirms a different person, and the NHS
Talking Therapies data set fields recorded on the form show on the record. No serious or critical
axe-core violation on either page (tests/e2e/axe.py).

Set ``SCREENSHOTS_DIR`` to keep a screenshot of the warning and of the record at 1280 px.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from interpersonal.web.patients.models import Patient
from tests.e2e import axe
from tests.e2e.conftest import _live_server_counted, _live_server_quiet_at_teardown  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's event loop shares this thread

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "a-long-synthetic-password"  # the personas' password (tests/conftest.py)


def shoot(page, name: str) -> None:
    where = os.environ.get("SCREENSHOTS_DIR")
    if where:
        page.screenshot(path=str(Path(where) / f"{name}-desktop.png"), full_page=True)


def test_a_possible_duplicate_is_flagged_then_a_different_person_is_registered_with_the_data_set(
        live_server, therapist, patient):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(f"{live_server.url}/accounts/login/?next=/patients/new/")
        page.get_by_label("Username").fill(therapist.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        # Same name and date of birth as the ``patient`` fixture (Pat Example, 14 Mar 1985).
        page.get_by_label("Given name").fill("Pat")
        page.get_by_label("Family name").fill("Example")
        page.get_by_label("Date of birth").fill("1985-03-14")
        page.get_by_label("Ethnic category").select_option("N")
        page.get_by_label("Hearing (02)").check()
        page.get_by_label("Consents to text messages").select_option("no")
        page.get_by_label("Referral received").fill((timezone.localdate() - dt.timedelta(days=2)).isoformat())
        page.get_by_role("button", name="Save").click()

        warning = page.get_by_role("region", name="Possible duplicate: nothing was saved")
        expect(warning).to_contain_text("already registered")
        expect(warning.get_by_role("link", name="Pat Example")).to_be_visible()  # the therapist's own patient
        assert page.url.endswith("/patients/new/")  # nothing saved: still the form (counted below, after the browser)
        assert axe.violations(page) == [], axe.describe(axe.violations(page))
        shoot(page, "register-possible-duplicate")

        page.get_by_label("This is a different person: register them as a new patient").check()
        page.get_by_role("button", name="Save").click()

        expect(page.get_by_role("heading", name="NHS Talking Therapies data set")).to_be_visible()
        facts = page.locator("dl.facts", has_text="Ethnic category")
        expect(facts).to_contain_text("Black or Black British: African (N)")
        expect(facts).to_contain_text("Hearing (02)")
        expect(page.locator("dl.facts", has_text="Text messages")).to_contain_text("No")
        assert axe.violations(page) == [], axe.describe(axe.violations(page))
        shoot(page, "register-record-data-set")
        browser.close()
    # ORM calls outside Playwright's event loop: inside it, Django would open a second connection.
    assert Patient.objects.count() == 2
    assert Patient.objects.filter(family_name="Example", ethnic_category="N", disabilities=["02"]).count() == 1
