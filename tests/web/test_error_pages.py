"""The error pages are the service's own: they say what happened and that nothing changed, offer
the way home, and give away nothing — a record outside the caseload answers exactly as a record
that does not exist. The 500 page renders with neither a request nor a database."""

from __future__ import annotations

import re

import pytest
from django.test import Client, RequestFactory
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


def _unmasked(page: str) -> str:
    """The page with its CSRF token (masked afresh on every render) blanked."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', page)


def test_a_patient_outside_the_caseload_is_the_same_page_as_no_patient(client_for, patient, unrelated_therapist):
    client = client_for(unrelated_therapist)
    outside = client.get(f"/patients/{patient.pk}/")
    missing = client.get("/patients/999999/")
    assert outside.status_code == missing.status_code == 404
    assert _unmasked(_text(outside)) == _unmasked(_text(missing))
    page = _text(outside)
    assert "<h1>Page not found</h1>" in page
    assert 'href="/"' in page  # the way home
    assert 'rel="icon"' in page  # no /favicon.ico request follows the page
    assert patient.family_name not in page
    assert "No such patient" not in page  # the exception's text is for the log, not the page


def test_a_refusal_says_why_in_the_services_words(client_for, patient, supervisor):
    response = client_for(supervisor).get(f"/patients/{patient.pk}/edit/")
    assert response.status_code == 403
    page = _text(response)
    assert "<h1>You cannot do this</h1>" in page
    assert "You may read this patient&#x27;s record but not change it." in page
    assert "Nothing was changed." in page


def test_an_unknown_host_is_a_plain_bad_request(client):
    response = client.get("/accounts/login/", HTTP_HOST="attacker.example")
    assert response.status_code == 400
    page = _text(response)
    assert "That request could not be understood" in page
    assert "attacker.example" not in page


def test_a_form_without_its_csrf_token_is_refused_and_says_what_to_do(therapist):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": therapist.username, "password": "x"})
    assert response.status_code == 403
    page = _text(response)
    assert "Your form was not sent" in page
    assert "copy anything you typed" in page
    assert "CSRF" not in page  # the reason Django logs is not shown


@pytest.mark.django_db(databases=[])
def test_the_server_error_page_needs_no_database_and_no_user():
    response = server_error(RequestFactory().get("/patients/1/"))
    assert response.status_code == 500
    page = _text(response)
    assert "Something went wrong on our side" in page
    assert "/static/interpersonal/site.css" in page
    assert "open the record again" in page
