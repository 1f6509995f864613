"""A letter's PDF in a real browser with the worker behind: the therapist asks for it, the progress
page says it is waiting, the worker makes it, and the page — without a reload — offers the download."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from interpersonal.web.documents import tasks
from interpersonal.web.documents.models import Document

from .test_formulation_e2e import at, browser, ipt_course, sign_in  # noqa: F401 - the module-scoped browser fixture

pytestmark = pytest.mark.django_db(transaction=True)


def test_progress_page_follows_the_worker_and_then_offers_the_download(settings, browser, live_server,  # noqa: F811
                                                                       ipt_course, therapist, tmp_path):  # noqa: F811
    from interpersonal.web.letters.actions import draft_letter

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # the worker is this test
    letter = draft_letter(course=ipt_course, kind="gp_discharge", by=therapist)
    context, page = sign_in(browser, live_server, therapist.username, f"/letters/{letter.pk}/")
    page.wait_for_url(at(live_server, f"/letters/{letter.pk}/"))

    page.get_by_role("button", name=re.compile("^Make a PDF")).click()
    page.wait_for_url(re.compile(rf"{re.escape(live_server.url)}/letters/{letter.pk}/pdf/\d+/$"))
    expect(page.locator("#document-progress")).to_contain_text("Waiting to start")
    expect(page.get_by_role("link", name="Check again")).to_be_visible()

    document = Document.objects.get(letter=letter)
    assert tasks.make(document.pk) == tasks.READY  # what `interpersonal db_worker` does

    download_link = page.get_by_role("link", name=re.compile("^Download course-"))
    expect(download_link).to_be_visible(timeout=10_000)  # the page polled: no reload
    with page.expect_download() as download_info:
        download_link.click()
    path = tmp_path / "letter.pdf"
    download_info.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    context.close()
