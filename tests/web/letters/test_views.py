"""Letters over HTTP: the therapist writes, the supervisor reads, anyone else gets 404;
a stale save answers 409 with what changed meanwhile; a PDF is asked for, made by the task worker
(the immediate backend in tests) and downloaded from its progress page; downloads are audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.documents import actions as actions_documents
from interpersonal.web.documents import tasks
from interpersonal.web.documents.models import Document
from interpersonal.web.letters import actions
from interpersonal.web.letters.models import MAX_BODY_CHARS, Letter, LetterRevision

pytestmark = pytest.mark.django_db


@pytest.fixture
def gp_letter(ended_dit_course, therapist):
    return actions.draft_letter(course=ended_dit_course, kind="gp_discharge", by=therapist)


def ask_for_pdf(client, letter):
    """POST for the letter's PDF; the progress page it leads to, and the document."""
    asked = client.post(reverse("letters:pdf", args=[letter.pk]))
    assert asked.status_code == 302
    document = Document.objects.filter(letter=letter).latest("pk")
    assert asked["Location"] == reverse("letters:pdf_progress", args=[letter.pk, document.pk])
    return client.get(asked["Location"]), document


def download_pdf(client, letter):
    """Ask for the PDF and download it: the response and the file's bytes."""
    _page, document = ask_for_pdf(client, letter)
    response = client.get(reverse("letters:pdf_download", args=[letter.pk, document.pk]))
    assert response.status_code == 200
    return response, b"".join(response.streaming_content)


def test_therapist_drafts_from_the_list(client_for, therapist, ended_dit_course):
    client = client_for(therapist)
    page = client.get(reverse("letters:list", args=[ended_dit_course.pk]))
    assert page.status_code == 200
    assert b"Draft the goodbye letter" in page.content

    response = client.post(reverse("letters:new", args=[ended_dit_course.pk]), {"kind": "goodbye"})

    letter = Letter.objects.get(course=ended_dit_course)
    assert response.status_code == 302
    assert response["Location"] == reverse("letters:edit", args=[letter.pk])
    assert client.post(reverse("letters:new", args=[ended_dit_course.pk]), {"kind": "goodbye"}).status_code == 400


def test_edit_saves_then_stale_save_answers_409_with_the_changes_and_keeps_the_text(client_for, therapist, gp_letter):
    client = client_for(therapist)
    url = reverse("letters:edit", args=[gp_letter.pk])
    assert b'name="version" value="1"' in client.get(url).content
    theirs = gp_letter.body.replace("Dear Doctor,", "Dear Dr Example,")
    assert client.post(url, {"version": 1, "body": theirs}).status_code == 302

    response = client.post(url, {"version": 1, "body": "Dear Doctor,\n\nMy own rewrite."})

    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else changed this letter" in html
    assert "-Dear Doctor," in html
    assert "+Dear Dr Example," in html
    assert "My own rewrite." in html
    assert 'name="version" value="2"' in html
    gp_letter.refresh_from_db()
    assert gp_letter.version == 2
    assert "My own rewrite" not in gp_letter.body


def test_finalise_then_new_version(client_for, therapist, gp_letter, complete):
    client = client_for(therapist)
    gp_letter = complete(gp_letter)
    finalised = client.post(reverse("letters:finalise", args=[gp_letter.pk]), {"version": gp_letter.version, "confirm": "on"})
    assert finalised.status_code == 302
    gp_letter.refresh_from_db()
    assert gp_letter.is_final
    refused = client.post(reverse("letters:edit", args=[gp_letter.pk]), {"version": 1, "body": "x"})
    assert refused.status_code == 400
    assert b"final" in refused.content

    response = client.post(reverse("letters:new_version", args=[gp_letter.pk]))

    second = Letter.objects.get(supersedes=gp_letter)
    assert response.status_code == 302
    assert second.number == 2


@pytest.mark.parametrize("version", ["one", "1.0", "1e0", "9" * 5000])
def test_finalise_with_a_version_that_is_not_a_number_is_refused(client_for, therapist, gp_letter, version, complete):
    """Found by tests/web/test_fuzz_forms.py: a garbled ``version`` was taken as "no version sent"
    and finalised the letter without the stale-copy check. It is refused (400); the letter stays a draft
    (a letter otherwise ready, and confirmed: only the version is wrong)."""
    complete(gp_letter)
    response = client_for(therapist).post(reverse("letters:finalise", args=[gp_letter.pk]),
                                          {"version": version, "confirm": "on"})

    assert response.status_code == 400
    gp_letter.refresh_from_db()
    assert not gp_letter.is_final


def test_pdf_download_is_an_audited_attachment_without_the_patients_name(client_for, therapist, gp_letter, audit_trail):
    response, body = download_pdf(client_for(therapist), gp_letter)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    assert body.startswith(b"%PDF")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "draft" in disposition
    assert "Pat" not in disposition
    assert "Example" not in disposition
    downloaded = [e for e in audit_trail.new() if e.type == "letter.downloaded"]
    assert len(downloaded) == 1
    assert downloaded[0].target_id == str(gp_letter.pk)
    assert "Dear" not in repr(downloaded[0].data)


def test_supervisor_reads_and_downloads_but_may_not_write(client_for, supervisor, gp_letter):
    client = client_for(supervisor)
    course = gp_letter.course
    assert client.get(reverse("letters:list", args=[course.pk])).status_code == 200
    page = client.get(reverse("letters:edit", args=[gp_letter.pk]))
    assert page.status_code == 200
    assert b"<textarea" not in page.content
    assert download_pdf(client, gp_letter)[1].startswith(b"%PDF")

    for name, args, data in (("letters:new", [course.pk], {"kind": "goodbye"}),
                             ("letters:edit", [gp_letter.pk], {"version": 1, "body": "x"}),
                             ("letters:finalise", [gp_letter.pk], {"version": 1}),
                             ("letters:new_version", [gp_letter.pk], {})):
        assert client.post(reverse(name, args=args), data).status_code == 403, name
    gp_letter.refresh_from_db()
    assert gp_letter.version == 1
    assert not gp_letter.is_final


def test_unrelated_therapist_gets_404_everywhere(client_for, unrelated_therapist, gp_letter):
    client = client_for(unrelated_therapist)
    course = gp_letter.course
    assert client.get(reverse("letters:list", args=[course.pk])).status_code == 404
    assert client.post(reverse("letters:new", args=[course.pk]), {"kind": "goodbye"}).status_code == 404
    assert client.get(reverse("letters:edit", args=[gp_letter.pk])).status_code == 404
    assert client.post(reverse("letters:pdf", args=[gp_letter.pk])).status_code == 404
    document = actions_documents.request_letter_pdf(letter=gp_letter, by=gp_letter.created_by)
    for name in ("letters:pdf_progress", "letters:pdf_download"):
        assert client.get(reverse(name, args=[gp_letter.pk, document.pk])).status_code == 404, name
    for name in ("letters:edit", "letters:finalise", "letters:new_version"):
        assert client.post(reverse(name, args=[gp_letter.pk]), {"version": 1, "body": "x"}).status_code == 404, name
    assert not Letter.objects.exclude(pk=gp_letter.pk).exists()


# --- PDFs are made in the background, never in the request -----------------------------------


def test_asking_for_a_pdf_shows_progress_then_a_download_link(client_for, therapist, gp_letter):
    page, document = ask_for_pdf(client_for(therapist), gp_letter)

    assert page.status_code == 200
    document.refresh_from_db()
    assert document.state == Document.State.READY
    assert reverse("letters:pdf_download", args=[gp_letter.pk, document.pk]).encode() in page.content
    assert document.sha256.encode() in page.content


def test_polling_the_progress_page_is_not_a_read_of_the_letter_and_the_download_is(
        client_for, therapist, gp_letter, settings):
    """The page polls every 2 s while the worker runs; an audited read per poll would bury the
    patient's access log. It shows no letter text; the download, which hands the letter over, is audited."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # nobody runs the task
    client = client_for(therapist)
    _page, document = ask_for_pdf(client, gp_letter)
    progress = reverse("letters:pdf_progress", args=[gp_letter.pk, document.pk])
    reads = AuditEvent.objects.filter(type__in=("letter.viewed", "course.viewed"))
    before = reads.count()

    polls = [client.get(progress) for _ in range(5)]

    assert [p.status_code for p in polls] == [200] * 5
    assert reads.count() == before
    tasks.make_document.call(document.pk)
    assert client.get(reverse("letters:pdf_download", args=[gp_letter.pk, document.pk])).status_code == 200
    assert AuditEvent.objects.filter(type="letter.downloaded", target_id=str(gp_letter.pk)).count() == 1


def test_asking_again_for_the_same_version_reuses_the_pdf(client_for, therapist, gp_letter):
    client = client_for(therapist)
    _page, first = ask_for_pdf(client, gp_letter)
    _page, second = ask_for_pdf(client, gp_letter)

    assert first.pk == second.pk
    assert Document.objects.filter(letter=gp_letter).count() == 1


def test_a_saved_edit_or_finalising_makes_a_new_pdf(client_for, therapist, gp_letter, complete):
    client = client_for(therapist)
    gp_letter = complete(gp_letter)
    _page, draft = ask_for_pdf(client, gp_letter)
    actions.finalise_letter(letter=gp_letter, by=therapist)
    _page, final = ask_for_pdf(client, gp_letter)

    assert draft.pk != final.pk
    assert (draft.letter_final, final.letter_final) == (False, True)


def test_download_before_the_pdf_is_ready_returns_to_the_progress_page(client_for, therapist, gp_letter, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # nobody runs the task
    client = client_for(therapist)
    page, document = ask_for_pdf(client, gp_letter)

    response = client.get(reverse("letters:pdf_download", args=[gp_letter.pk, document.pk]))

    assert document.state == Document.State.QUEUED
    assert b"Check again" in page.content
    assert b'data-poll="2000"' in page.content
    assert response.status_code == 302
    assert response["Location"] == reverse("letters:pdf_progress", args=[gp_letter.pk, document.pk])


def test_a_failed_pdf_says_so_and_asking_again_makes_a_new_one(client_for, therapist, gp_letter, monkeypatch):
    import weasyprint

    def broken(*args, **kwargs):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", broken)
    client = client_for(therapist)
    page, failed = ask_for_pdf(client, gp_letter)
    failed.refresh_from_db()

    assert failed.state == Document.State.FAILED
    assert b"The file could not be made" in page.content
    assert b"Ask for it again" in page.content
    assert b"no fonts" not in page.content
    assert client.get(reverse("letters:pdf_download", args=[gp_letter.pk, failed.pk])).status_code == 302

    monkeypatch.undo()
    _page, retried = ask_for_pdf(client, gp_letter)
    retried.refresh_from_db()
    assert retried.pk != failed.pk
    assert retried.state == Document.State.READY


def test_a_pdf_of_another_letter_is_not_found_under_this_one(client_for, therapist, gp_letter, ended_dit_course):
    goodbye = actions.draft_letter(course=ended_dit_course, kind="goodbye", by=therapist)
    document = actions_documents.request_letter_pdf(letter=goodbye, by=therapist)
    client = client_for(therapist)

    for name in ("letters:pdf_progress", "letters:pdf_download"):
        assert client.get(reverse(name, args=[gp_letter.pk, document.pk])).status_code == 404, name


# --- the bound on a letter's text ------------------------------------------------------------


def test_a_million_character_letter_is_a_form_error_and_nothing_is_saved(client_for, therapist, gp_letter):
    response = client_for(therapist).post(reverse("letters:edit", args=[gp_letter.pk]),
                                          {"version": 1, "body": "x" * 1_000_000})

    assert response.status_code == 400
    assert b"The letter is 1,000,000 characters long; a letter can hold at most 20,000." in response.content
    gp_letter.refresh_from_db()
    assert gp_letter.version == 1
    assert LetterRevision.objects.filter(letter=gp_letter).count() == 1


def test_a_letter_at_the_bound_is_saved_counting_line_breaks_once(client_for, therapist, gp_letter):
    body = ("a" * 98 + "\r\n") * (MAX_BODY_CHARS // 99) + "b" * (MAX_BODY_CHARS % 99)
    assert len(body.replace("\r\n", "\n")) == MAX_BODY_CHARS

    response = client_for(therapist).post(reverse("letters:edit", args=[gp_letter.pk]), {"version": 1, "body": body})

    assert response.status_code == 302
    gp_letter.refresh_from_db()
    assert gp_letter.version == 2


def test_the_textarea_tells_the_browser_the_bound(client_for, therapist, gp_letter):
    page = client_for(therapist).get(reverse("letters:edit", args=[gp_letter.pk]))
    assert f'maxlength="{MAX_BODY_CHARS}"'.encode() in page.content


# -- finalising asks for confirmation and refuses unfinished prompts ----------------------------

def test_finalise_without_the_confirmation_is_refused_and_the_posted_text_kept(client_for, therapist, gp_letter):
    written = actions.PLACEHOLDER.sub("Discharged to your care.", gp_letter.body)

    response = client_for(therapist).post(reverse("letters:finalise", args=[gp_letter.pk]),
                                          {"version": 1, "body": written})

    assert response.status_code == 400
    page = response.content.decode()
    assert "tick the box to confirm the letter is ready to send" in page
    assert 'aria-invalid="true"' in page
    assert "Discharged to your care." in page  # what was typed is still in the form
    stored = Letter.objects.get(pk=gp_letter.pk)
    assert (stored.is_final, stored.version) == (False, 1)


def test_finalise_with_a_prompt_left_is_refused_naming_it_and_nothing_is_saved(client_for, therapist, gp_letter):
    risk_prompt = actions.placeholders(gp_letter.body)[0]
    half_written = gp_letter.body.replace(actions.placeholders(gp_letter.body)[1], "Discharged to your care.")

    response = client_for(therapist).post(reverse("letters:finalise", args=[gp_letter.pk]),
                                          {"version": 1, "body": half_written, "confirm": "on"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Not finalised: the letter still has 1 prompt" in page
    assert risk_prompt.replace("'", "&#x27;") in page
    assert "Discharged to your care." in page
    stored = Letter.objects.get(pk=gp_letter.pk)
    assert (stored.is_final, stored.version, stored.body) == (False, 1, gp_letter.body)


def test_the_letter_page_lists_the_prompts_still_to_replace(client_for, therapist, gp_letter):
    page = client_for(therapist).get(reverse("letters:edit", args=[gp_letter.pk])).content.decode()

    assert "Prompts still to replace in the saved text (2)" in page
    assert 'formaction="{}"'.format(reverse("letters:finalise", args=[gp_letter.pk])) in page
    assert 'name="confirm"' in page


def test_save_and_finalise_from_the_letters_form_saves_the_text_and_finalises(client_for, therapist, gp_letter,
                                                                            audit_trail):
    written = actions.PLACEHOLDER.sub("Discharged to your care.", gp_letter.body)

    response = client_for(therapist).post(reverse("letters:finalise", args=[gp_letter.pk]),
                                          {"version": 1, "body": written, "confirm": "on"})

    assert response.status_code == 302
    stored = Letter.objects.get(pk=gp_letter.pk)
    assert stored.is_final
    assert "Discharged to your care." in stored.body
    assert [e.type for e in audit_trail.new() if e.type in ("letter.edited", "letter.finalised")] == [
        "letter.edited", "letter.finalised"]
