"""Letters over HTTP: the therapist writes, the supervisor reads, anyone else gets 404;
a stale save answers 409 with what changed meanwhile; downloads are audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from interpersonal.web.letters import actions
from interpersonal.web.letters.models import Letter

pytestmark = pytest.mark.django_db


@pytest.fixture
def gp_letter(ended_dit_course, therapist):
    return actions.draft_letter(course=ended_dit_course, kind="gp_discharge", by=therapist)


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


def test_finalise_then_new_version(client_for, therapist, gp_letter):
    client = client_for(therapist)
    assert client.post(reverse("letters:finalise", args=[gp_letter.pk]), {"version": 1}).status_code == 302
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
def test_finalise_with_a_version_that_is_not_a_number_is_refused(client_for, therapist, gp_letter, version):
    """Found by tests/web/test_fuzz_forms.py: a garbled ``version`` was taken as "no version sent"
    and finalised the letter without the stale-copy check. It is refused (400); the letter stays a draft."""
    response = client_for(therapist).post(reverse("letters:finalise", args=[gp_letter.pk]), {"version": version})

    assert response.status_code == 400
    gp_letter.refresh_from_db()
    assert not gp_letter.is_final


def test_pdf_download_is_an_audited_attachment_without_the_patients_name(client_for, therapist, gp_letter, audit_trail):
    response = client_for(therapist).get(reverse("letters:pdf", args=[gp_letter.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
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
    assert client.get(reverse("letters:pdf", args=[gp_letter.pk])).status_code == 200

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
    for name in ("letters:edit", "letters:pdf"):
        assert client.get(reverse(name, args=[gp_letter.pk])).status_code == 404, name
    for name in ("letters:edit", "letters:finalise", "letters:new_version"):
        assert client.post(reverse(name, args=[gp_letter.pk]), {"version": 1, "body": "x"}).status_code == 404, name
    assert not Letter.objects.exclude(pk=gp_letter.pk).exists()
