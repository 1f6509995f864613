"""The account page says who you are and what your role allows."""

from __future__ import annotations


def test_account_page_shows_role_and_its_permissions(client_for, therapist):
    response = client_for(therapist).get("/accounts/me/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Therapist" in body
    assert "See and change your own caseload" in body
    assert "supervisees" not in body


def test_account_page_for_a_user_without_role_says_so(client_for, make_user):
    nobody = make_user("no.role", "")

    body = client_for(nobody).get("/accounts/me/").content.decode()

    assert "No role" in body
    assert "Nothing beyond this page." in body
