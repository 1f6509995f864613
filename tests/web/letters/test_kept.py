"""A draft survives the end of a session: the page warns before the idle timeout; text posted
after it is kept, and restored after sign-in to the same user — never to anyone else."""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.letters import actions, kept
from interpersonal.web.letters.models import Letter
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

TYPED = "Dear Doctor,\n\nTyped while the session ran out: Pat is discharged to your care.\n"


@pytest.fixture
def letter(ended_dit_course, therapist):
    return actions.draft_letter(course=ended_dit_course, kind="gp_discharge", by=therapist)


def owner_on_page(client, letter) -> str:
    page = client.get(reverse("letters:edit", args=[letter.pk])).content.decode()
    return re.search(r'name="owner" value="([^"]+)"', page).group(1)


def session_ends(client) -> None:
    """The idle timeout: the server no longer knows the session (its cookie names nothing)."""
    client.cookies[django_settings.SESSION_COOKIE_NAME] = "ended"


def sign_in_again(client, user, letter):
    """Through the sign-in page (Django's login(), which keeps an anonymous session's data)."""
    response = client.post(reverse("accounts:login") + "?next=" + reverse("letters:edit", args=[letter.pk]),
                           {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]


def test_the_page_warns_before_the_idle_timeout(client_for, therapist, letter, settings):
    page = client_for(therapist).get(reverse("letters:edit", args=[letter.pk])).content.decode()

    assert f'data-idle-seconds="{settings.SESSION_COOKIE_AGE}"' in page
    assert 'data-warn-seconds="120"' in page
    assert re.search(r'id="session-warning"[^>]*role="alert" hidden', page)  # shown by its script only
    assert "letters/session-timeout.js" in page


def test_text_posted_after_the_session_ended_is_restored_after_signing_in(client_for, therapist, letter, settings):
    settings.INTERPERSONAL_REQUIRE_MFA = False
    client = client_for(therapist)
    owner = owner_on_page(client, letter)
    session_ends(client)

    response = client.post(reverse("letters:edit", args=[letter.pk]), {"version": 1, "body": TYPED, "owner": owner})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login") + f"?next=/letters/{letter.pk}/"
    assert Letter.objects.get(pk=letter.pk).version == 1  # nothing saved without a user
    sign_in_again(client, therapist, letter)
    page = client.get(reverse("letters:edit", args=[letter.pk])).content.decode()
    assert "Your text is back." in page
    assert "Typed while the session ran out" in page
    assert re.search(r'name="version" value="1"', page)  # saved against the version the therapist had
    again = client.get(reverse("letters:edit", args=[letter.pk])).content.decode()
    assert "Typed while the session ran out" not in again  # given back once, then gone from the session
    events = list(AuditEvent.objects.filter(type__startswith="letter.text_").order_by("id").values_list("type", "data"))
    assert [t for t, _ in events] == ["letter.text_kept_after_timeout", "letter.text_restored_after_sign_in"]
    assert "Typed" not in repr(events)


def test_kept_text_is_never_shown_to_another_user_signing_in_on_that_browser(client_for, therapist, supervisor,
                                                                             letter, settings):
    settings.INTERPERSONAL_REQUIRE_MFA = False
    client = client_for(therapist)
    owner = owner_on_page(client, letter)
    session_ends(client)
    client.post(reverse("letters:edit", args=[letter.pk]), {"version": 1, "body": TYPED, "owner": owner})

    sign_in_again(client, supervisor, letter)
    page = client.get(reverse("letters:edit", args=[letter.pk])).content.decode()

    assert "Typed while the session ran out" not in page
    assert kept.SESSION_KEY not in client.session or str(letter.pk) not in client.session[kept.SESSION_KEY]


@pytest.mark.parametrize("owner", ["", "forged", "other-letter"])
def test_a_post_without_a_genuine_owner_for_this_letter_keeps_nothing(client_for, therapist, letter, owner,
                                                                      ended_dit_course):
    client = client_for(therapist)
    if owner == "other-letter":
        other = actions.draft_letter(course=ended_dit_course, kind="goodbye", by=therapist)
        owner = owner_on_page(client, other)
    session_ends(client)

    response = client.post(reverse("letters:edit", args=[letter.pk]), {"version": 1, "body": TYPED, "owner": owner})

    assert response.status_code == 302
    assert kept.SESSION_KEY not in client.session
    assert not AuditEvent.objects.filter(type="letter.text_kept_after_timeout").exists()


def test_text_posted_to_finalise_after_the_session_ended_is_kept_too(client_for, therapist, letter):
    client = client_for(therapist)
    owner = owner_on_page(client, letter)
    session_ends(client)

    response = client.post(reverse("letters:finalise", args=[letter.pk]),
                           {"version": 1, "body": TYPED, "owner": owner, "confirm": "on"})

    assert response["Location"].startswith(reverse("accounts:login"))
    assert client.session[kept.SESSION_KEY][str(letter.pk)]["body"] == TYPED
    assert not Letter.objects.get(pk=letter.pk).is_final


def test_a_session_keeps_at_most_three_letters_texts_dropping_the_oldest(client_for, therapist, ended_dit_course,
                                                                        complete):
    client = client_for(therapist)
    letters = []
    for kind in ("goodbye", "gp_discharge"):  # a final letter and its new version: two letters of a kind
        first = actions.finalise_letter(letter=complete(actions.draft_letter(course=ended_dit_course, kind=kind,
                                                                             by=therapist)), by=therapist)
        letters += [first, actions.new_version(letter=first, by=therapist)]
    owners = [kept.owner_token(therapist, x) for x in letters]  # as each page signs it
    session_ends(client)
    for x, owner in zip(letters, owners, strict=True):
        client.post(reverse("letters:edit", args=[x.pk]), {"version": 1, "body": TYPED, "owner": owner})

    assert set(client.session[kept.SESSION_KEY]) == {str(x.pk) for x in letters[1:]}
