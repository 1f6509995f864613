"""Screening and triage in a real browser: the allocated therapist records an assessment contact
with a PHQ-9 whose item 9 is answered (a risk alert, DOMAIN.md §3), acknowledges it, checks the
service's suitability rules (DOMAIN.md §6) and records "suitable", then triages to step 3 IPT
with the NICE NG222 severity shown; axe finds no serious problem on any page. Screenshots at
1280px and 390px go to /tmp/shots (INTERPERSONAL_SHOTS) for a person to look at."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from tests.e2e import axe

pytestmark = pytest.mark.e2e

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop here

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
PASSWORD = "a-long-synthetic-password"  # the personas' password (tests/conftest.py)
SHOTS = Path(os.environ.get("INTERPERSONAL_SHOTS", "/tmp/shots"))  # noqa: S108 - a review artefact, not a secret


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_referral(transactional_db, therapist):
    from interpersonal.web.patients.actions import register_patient
    from tests.web.referrals.screening_helpers import ensure_default_rules

    ensure_default_rules()  # an earlier transactional test empties every table, seeded rules included

    patient = register_patient(
        by=therapist, given_name="Nia", family_name="Newcomer", date_of_birth=dt.date(1992, 5, 17),
        received_on=timezone.localdate() - dt.timedelta(days=10), source="gp", problem_descriptor="F32",
        presenting_problem="Low mood since the winter; arguments at home.",
    )
    return patient.referrals.get()


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"screening-{name}-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=SHOTS / f"screening-{name}-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_therapist_screens_decides_and_triages_a_referral(browser, live_server, new_referral, therapist):
    referral = new_referral
    home = f"/referrals/{referral.pk}/screening/"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/?next={home}")
    page.get_by_label("Username").fill(therapist.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}{home}")
    problems = {"referral": axe.violations(page)}

    page.get_by_role("link", name="Record an assessment contact").click()
    page.get_by_label("Attendance").select_option("5")
    phq9 = page.locator("details.measure", has=page.locator("summary", has_text="PHQ-9"))
    for item in range(1, 9):
        phq9.locator(f"#fieldset-phq9-{item}").get_by_label("More than half the days").check()
    phq9.locator("#fieldset-phq9-9").get_by_label("Several days").check()
    problems["contact"] = axe.violations(page)
    page.get_by_role("button", name="Save the contact").click()

    page.wait_for_url(re.compile(rf"{re.escape(live_server.url + home)}(#.*)?$"))
    alert = page.get_by_role("region", name="Open risk alert")
    expect(alert).to_have_count(1)
    expect(page.locator("#measures")).to_contain_text("PHQ-9 17 (Moderately severe)")
    expect(page.locator("#triage")).to_contain_text("More severe (PHQ-9 16 or more)")
    shoot(page, "referral")
    alert.get_by_label("What was done (required)").fill("Asked about risk: no plan or intent; safety plan agreed.")
    alert.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url(re.compile(rf"{re.escape(live_server.url + home)}(#.*)?$"))
    expect(page.get_by_role("region", name="Open risk alert")).to_have_count(0)

    page.get_by_role("link", name="Decide suitability").click()
    page.locator("#id_clinician_risk_1").check()  # No
    page.locator("#id_under_secondary_care_1").check()  # No
    page.get_by_role("button", name="Check against the rules").click()
    expect(page.locator(".suggestion")).to_contain_text("Clinical review needed")  # item 9 above 0: review
    problems["decide"] = axe.violations(page)
    shoot(page, "decide")
    page.get_by_label("Suitable: go on to triage").check()
    page.get_by_label("Reason").fill("Risk assessed (no plan or intent); depression; no exclusions.")
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_url(re.compile(rf"{re.escape(live_server.url + home)}(#.*)?$"))
    expect(page.locator("#decisions")).to_contain_text("Suitable: go on to triage")

    page.get_by_role("link", name="Triage to a step").click()
    page.get_by_label("Step 3: high intensity").check()
    page.get_by_label("Therapy", exact=True).select_option("ipt")
    page.get_by_label("Reason for this step and therapy").fill("More severe; relationship conflict; not CBT.")
    page.get_by_label("The patient's preference", exact=True).select_option("ipt")
    problems["triage"] = axe.violations(page)
    shoot(page, "triage")
    page.get_by_role("button", name="Triage").click()
    page.wait_for_url(re.compile(rf"{re.escape(live_server.url + home)}(#.*)?$"))
    expect(page.locator("#triage")).to_contain_text("Interpersonal Psychotherapy")
    expect(page.locator("h1")).to_contain_text("Screening and triage")
    referral.refresh_from_db()
    assert (referral.status, referral.step, referral.therapy) == ("waiting", 3, "ipt")

    page.goto(f"{live_server.url}/suitability-rules/")
    problems["rules"] = axe.violations(page)
    shoot(page, "rules")
    context.close()
    assert {name: found for name, found in problems.items() if found} == {}
