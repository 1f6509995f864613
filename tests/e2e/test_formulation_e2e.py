"""An IPT course in a real browser: the interpersonal inventory and its closeness circle, the
timeline and its chart, an end-of-treatment letter drafted, edited and finalised, and the
discharge letter to the GP as a PDF with the scores and the chart; another therapist is
refused the inventory."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess

import pytest
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

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

PEOPLE = [  # (label, relationship, ring): synthetic
    ("Sam", "partner", "Inner"),
    ("Mum", "mother", "Inner"),
    ("Jo", "sister", "Middle"),
    ("Boss", "manager at work", "Outer"),
    ("Ali", "old school friend", "Middle"),
]
EVENTS = [  # (date, event, mood)
    ("2025-03-10", "Moved to a new city for work", "-1"),
    ("2025-09-01", "Argument with partner; moved out for a week", "-4"),
    ("2026-02-14", "Started volunteering", "2"),
]
PHQ9_FIRST = {"1": 3, "2": 3, "3": 2, "4": 2, "5": 2, "6": 2, "7": 2, "8": 2, "9": 0}  # 18
PHQ9_LAST = {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1, "6": 1, "7": 0, "8": 0, "9": 0}  # 6
GAD7_FIRST = {"1": 2, "2": 2, "3": 2, "4": 2, "5": 2, "6": 2, "7": 2}  # 14
GAD7_LAST = {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1, "6": 0, "7": 0}  # 5
EDIT = "We agreed that you will keep seeing your sister every week."


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def ipt_course(transactional_db, patient, therapist):
    """An active IPT course of ``therapist``: four attended sessions, PHQ-9 and GAD-7 at the
    first (18, 14) and the last (6, 5)."""
    from interpersonal.web.assessments.actions import record_measurement
    from interpersonal.web.courses.actions import record_session, start_course

    course = start_course(patient=patient, protocol="ipt", therapist=therapist, by=therapist,
                          started_on=timezone.localdate() - dt.timedelta(days=35))
    sessions = [record_session(course=course, by=therapist, attendance=5, duration_minutes=50,
                               scheduled_at=timezone.now() - dt.timedelta(days=days)) for days in (28, 21, 14, 7)]
    for session, phq, gad in ((sessions[0], PHQ9_FIRST, GAD7_FIRST), (sessions[-1], PHQ9_LAST, GAD7_LAST)):
        record_measurement(course=course, instrument="phq9", answers=phq, by=therapist, session=session,
                           recorded_at=session.scheduled_at)
        record_measurement(course=course, instrument="gad7", answers=gad, by=therapist, session=session,
                           recorded_at=session.scheduled_at)
    return course


def sign_in(browser, live_server, username: str, next_path: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return context, page


def at(live_server, path: str) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(live_server.url + path)}(\?.*)?(#.*)?$")


def test_ipt_inventory_timeline_letters_and_gp_pdf(
    browser, live_server, ipt_course, therapist, unrelated_therapist, patient, tmp_path,
):
    course = ipt_course
    course_path = f"/courses/{course.pk}/"
    inventory_path = f"/courses/{course.pk}/inventory/"
    timeline_path = f"/courses/{course.pk}/timeline/"
    context, page = sign_in(browser, live_server, therapist.username, course_path)
    page.wait_for_url(at(live_server, course_path))

    # -- the inventory: five people through the page's form; the closeness circle shows them
    page.get_by_role("link", name="Interpersonal inventory").click()
    page.wait_for_url(at(live_server, inventory_path))
    for label, relationship, ring in PEOPLE:
        page.locator("#id_label").fill(label)
        page.locator("#id_relationship").fill(relationship)
        page.get_by_label(ring, exact=True).check()
        page.get_by_role("button", name="Add to the inventory").click()
        page.wait_for_url(at(live_server, inventory_path))
        expect(page.locator("#inventory-table tbody th", has_text=label)).to_have_count(1)

    circle = page.locator("svg.closeness-circle")
    expect(circle).to_have_count(1)
    expect(circle.locator("g.person")).to_have_count(5)
    expect(circle.locator("g.person circle")).to_have_count(5)
    for label, _, _ in PEOPLE:
        expect(circle.locator("g.person text", has_text=label)).to_have_count(1)
    # The text alternative: role img, named by its title, described ring by ring.
    expect(page.get_by_role("img", name=re.compile("Closeness circle: 5 important people"))).to_have_count(1)
    description = circle.locator("desc").text_content() or ""
    assert "Inner ring: Sam, Mum" in description
    assert "Outer ring: Boss" in description
    for label, _, _ in PEOPLE:
        assert label in description
    expect(page.locator("#inventory-table tbody tr")).to_have_count(5)

    # -- the timeline: three events, plotted and tabled
    page.goto(f"{live_server.url}{course_path}")
    page.get_by_role("link", name="Timeline").click()
    page.wait_for_url(at(live_server, timeline_path))
    for date, text, mood in EVENTS:
        page.locator("#id_occurred_on").fill(date)
        page.locator("#id_event").fill(text)
        page.locator("#id_mood").select_option(mood)
        page.get_by_role("button", name="Add to the timeline").click()
        page.wait_for_url(at(live_server, timeline_path))
    rows = page.locator("#timeline-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("10 Mar 2025")
    expect(rows.nth(1)).to_contain_text("Argument with partner")
    expect(rows.nth(1)).to_contain_text("-4")
    expect(rows.nth(2)).to_contain_text("+2")
    expect(page.locator("#chart-timeline .vega-embed svg").first).to_be_visible()
    expect(page.locator("#chart-timeline .vega-embed svg .mark-symbol path")).to_have_count(3)

    # -- the end-of-treatment summary: drafted, edited, finalised
    page.goto(f"{live_server.url}{course_path}")
    page.get_by_role("link", name="Letters", exact=True).click()
    page.wait_for_url(at(live_server, f"/courses/{course.pk}/letters/"))
    page.get_by_role("button", name="Draft the end-of-treatment summary").click()
    page.wait_for_url(re.compile(rf"{re.escape(live_server.url)}/letters/\d+/$"))
    letter_url = page.url
    body = page.get_by_label("Letter text")
    expect(body).not_to_have_value("")
    body.fill(body.input_value().rstrip() + "\n\n" + EDIT + "\n")
    page.get_by_role("button", name="Save the draft").click()
    page.wait_for_url(letter_url)
    expect(page.get_by_label("Letter text")).to_have_value(re.compile(re.escape(EDIT)))
    # The draft's [[prompts]] are the therapist's to write: finalising is refused while one remains
    page.get_by_label(re.compile("I have read the letter through")).check()
    page.get_by_role("button", name="Save and finalise").click()
    expect(page.get_by_role("alert").first).to_contain_text("still has 2 prompts")
    body = page.get_by_label("Letter text")
    body.fill(re.sub(r"\[\[.*?\]\]", "If your mood drops, you will tell your sister and call your GP.",
                     body.input_value(), flags=re.DOTALL))
    page.get_by_label(re.compile("I have read the letter through")).check()
    page.get_by_role("button", name="Save and finalise").click()
    page.wait_for_url(letter_url)
    expect(page.locator("main, body").first).to_contain_text("it cannot be changed")
    expect(page.get_by_text("Final", exact=True)).to_have_count(1)
    expect(page.locator(".letter-text")).to_contain_text(EDIT)
    expect(page.get_by_label("Letter text")).to_have_count(0)
    expect(page.get_by_role("button", name="Save the draft")).to_have_count(0)
    expect(page.get_by_role("button", name="Save and finalise")).to_have_count(0)

    # -- the discharge letter to the GP, downloaded as a PDF
    page.get_by_role("link", name="All letters of this course").click()
    page.get_by_role("button", name="Draft the discharge letter to the gp").click()
    page.wait_for_url(re.compile(rf"{re.escape(live_server.url)}/letters/\d+/$"))
    # Made by the task worker (the live server's immediate backend runs it at once), then downloaded
    page.get_by_role("button", name=re.compile("^Make a PDF")).click()
    page.wait_for_url(re.compile(rf"{re.escape(live_server.url)}/letters/\d+/pdf/\d+/$"))
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("^Download course-")).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    assert patient.family_name not in download.suggested_filename
    pdf_path = tmp_path / "gp-letter.pdf"
    download.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(pdf_path), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    assert "943 476 5919" in text  # the NHS number, formatted 3-3-4
    assert re.search(r"PHQ-9\s+18\s+6\b", text), text  # first and last PHQ-9 in the scores table
    assert re.search(r"GAD-7\s+14\s+5\b", text), text
    assert "PHQ-9 total" in text  # the chart's axis title: the chart is drawn in the PDF
    context.close()

    # -- another therapist: the inventory does not exist for them
    other_context, other_page = sign_in(browser, live_server, unrelated_therapist.username, "/")
    response = other_page.goto(f"{live_server.url}{inventory_path}")
    assert response is not None
    assert response.status == 404
    content = other_page.content()
    assert patient.full_name not in content
    assert "manager at work" not in content
    assert "Boss" not in content
    other_context.close()
