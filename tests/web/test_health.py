from unittest import mock

import pytest
from django.db import OperationalError, connection

pytestmark = pytest.mark.django_db


def test_healthz_ok_without_signing_in(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_503_when_database_unreachable(client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("could not connect to server")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable"}  # the detail is logged, not shown


def test_healthz_rejects_post(client):
    assert client.post("/healthz").status_code == 405


def test_stylesheet_is_served(client):
    response = client.get("/static/interpersonal/site.css")
    body = b"".join(response.streaming_content)
    response.close()

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert b".skip-link" in body


def test_healthz_answers_head_for_load_balancers(client):
    assert client.head("/healthz").status_code == 200
