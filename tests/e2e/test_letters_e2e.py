"""A letter's draft survives the idle timeout, in a real browser: the page warns before the
session ends and says when it has; the therapist's text, saved after that, is kept through
signing in again and put back into the letter. (The idle timeout is shortened to seconds.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from interpersonal.web.letters import views
from interpersonal.web.letters.models import Letter

from . import axe
from .test_formulation_e2e import PASSWORD, at, browser, ipt_course, sign_in  # noqa: F401 - module-scoped fixtures

pytestmark = pytest.mark.django_db(transaction=True)

TYPED = "Written after a long telephone call: Pat is discharged to your care, and can refer herself again."


def test_the_draft_survives_the_idle_timeout(settings, monkeypatch, browser, live_server, ipt_course,  # noqa: F811
                                             therapist, tmp_path):
    from interpersonal.web.letters.actions import draft_letter

    letter = draft_letter(course=ipt_course, kind="gp_discharge", by=therapist)
    letter_path = f"/letters/{letter.pk}/"
    context, page = sign_in(browser, live_server, therapist.username, letter_path)
    page.wait_for_url(at(live_server, letter_path))
    settings.SESSION_COOKIE_AGE = 6  # from the letter page's request on: idle for 6 s ends the session
    monkeypatch.setattr(views, "WARN_BEFORE_SECONDS", 4)
    page.reload()
    warning = page.locator("#session-warning")
    expect(warning).to_be_hidden()

    expect(warning).to_be_visible(timeout=5_000)
    expect(warning).to_contain_text("Your session will end in less than a minute unless you save the draft.")
    assert axe.violations(page) == []  # the warning, the prompts and the finalise fieldset
    body = page.get_by_label("Letter text")
    body.fill(body.input_value().rstrip() + "\n\n" + TYPED + "\n")
    expect(warning).to_contain_text("Your session has ended", timeout=8_000)

    page.get_by_role("button", name="Save the draft", exact=True).click()
    page.wait_for_url(re.compile(rf"{re.escape(live_server.url)}/accounts/login/\?next=.*"))
    assert Letter.objects.get(pk=letter.pk).version == 1  # nothing was saved without a user
    settings.SESSION_COOKIE_AGE = 15 * 60
    page.get_by_label("Username").fill(therapist.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(at(live_server, letter_path))
    expect(page.get_by_role("status")).to_contain_text("Your text is back")
    expect(page.get_by_label("Letter text")).to_have_value(re.compile(re.escape(TYPED)))
    page.screenshot(path=str(tmp_path / "letter-restored.png"), full_page=True)
    page.get_by_role("button", name="Save the draft", exact=True).click()
    page.wait_for_url(at(live_server, letter_path))
    assert TYPED in Letter.objects.get(pk=letter.pk).body
    context.close()
