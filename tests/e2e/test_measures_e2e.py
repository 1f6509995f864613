"""A real browser (Playwright on Debian's chromium) against the live server."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from interpersonal.web.accounts.actions import ensure_superuser

pytestmark = pytest.mark.e2e

# Playwright's sync API runs an event loop in this thread; Django's ORM (used by the fixtures
# and the live server's setup) refuses to run inside one unless told it is safe here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Screenshots for a person to look at (desktop and 390px phone width); the brief asks for /tmp/shots.
SHOTS = Path(os.environ.get("INTERPERSONAL_SHOTS", "/tmp/shots"))  # noqa: S108 - a review artefact, not a secret
USERNAME, PASSWORD = "e2e.admin", "a-synthetic-e2e-password"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def signed_in_page(browser, live_server, transactional_db):
    ensure_superuser(username=USERNAME, password=PASSWORD)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/measures/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/measures/")
    yield page
    context.close()


def test_score_phq9_with_item_9_shows_total_and_risk_flag(signed_in_page, live_server):
    page = signed_in_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    expect(page.get_by_role("heading", name="Measures", level=1)).to_be_visible()
    page.screenshot(path=SHOTS / "catalogue-desktop.png", full_page=True)

    page.get_by_role("link", name="PHQ-9").click()
    page.get_by_role("link", name="Score a PHQ-9").click()
    answers = {
        "1": "Several days",
        "2": "More than half the days",
        "3": "Several days",
        "4": "Nearly every day",
        "5": "Not at all",
        "6": "Several days",
        "7": "Not at all",
        "8": "Not at all",
        "9": "Several days",
    }
    for item, label in answers.items():
        page.get_by_role("group", name=re.compile(rf"^Item {item} ")).get_by_label(label).check()
    page.get_by_role("button", name="Score").click()

    result = page.get_by_role("region", name="Result")
    expect(result.locator(".total")).to_contain_text("9")
    risk = page.locator(".risk-flag")
    expect(risk).to_be_visible()
    expect(risk).to_contain_text("Item 9 — Thoughts of being better off dead or of self-harm")
    page.screenshot(path=SHOTS / "score-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=SHOTS / "score-phone.png", full_page=False)
    page.goto(f"{live_server.url}/measures/")
    page.screenshot(path=SHOTS / "catalogue-phone.png", full_page=True)
