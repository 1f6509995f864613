"""The outcomes dashboard in a real browser, as the service lead, at desktop and phone widths: both
charts draw, nothing overflows the page sideways, axe finds no serious violation, the funnel's
outliers are listed in words, and the therapist table pages. Screenshots go to
``INTERPERSONAL_SHOTS`` (default /tmp/shots) for a person to look at."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect, sync_playwright

from tests.e2e import axe

pytestmark = pytest.mark.e2e

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's event loop shares this thread

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "a-long-synthetic-password"  # the personas' password (tests/conftest.py)
SHOTS = Path(os.environ.get("INTERPERSONAL_SHOTS", "/tmp/shots"))  # noqa: S108 - a review artefact, not a secret


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def service(transactional_db):
    call_command("synth_service", "--referrals", "700", "--seed", "11", "--therapists", "40", "--bench-caseloads", "",
                 stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_the_lead_reads_the_dashboard_at_desktop_and_phone_widths(browser, live_server, service, service_lead,
                                                                  width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/?next=/outcomes/")
    page.get_by_label("Username").fill(service_lead.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/outcomes/")
    expect(page.locator(".chart.chart--ready")).to_have_count(2)

    assert page.evaluate("() => document.documentElement.scrollWidth") <= width  # no sideways scrolling
    assert axe.violations(page) == []
    expect(page.locator("#funnel-heading")).to_be_visible()
    expect(page.locator("ul.outliers li")).to_have_count(4)
    expect(page.locator("#funnel-table tbody tr")).to_have_count(25)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"outcomes-lead-{width}.png"), full_page=True)

    page.get_by_role("link", name="Next").click()
    expect(page.locator("#funnel-table caption")).to_contain_text("26–")

    page.goto(f"{live_server.url}/outcomes/?therapy=ipt_maintenance")
    expect(page.get_by_role("heading", name="Nothing matches these filters")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"outcomes-lead-nothing-{width}.png"), full_page=True)
    context.close()
