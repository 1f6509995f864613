import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_login_page_renders_with_labelled_fields(client):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">' in html
    assert '<label for="id_password">' in html
    assert 'href="#main"' in html  # skip link


def test_signing_in_sends_each_role_to_its_start_page(administrator, administrator_credentials):
    client = Client()

    response = client.post("/accounts/login/", administrator_credentials)
    start = client.get(response["Location"])

    assert response["Location"] == "/"
    assert start.status_code == 302
    assert start["Location"] == "/audit/"  # a superuser counts as an administrator


def test_wrong_password_is_refused(administrator, administrator_credentials):
    credentials = administrator_credentials | {"password": "not-the-password"}

    response = Client().post("/accounts/login/", credentials)

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_signing_out_ends_the_session(signed_in_client):
    response = signed_in_client.post("/accounts/logout/")

    assert response.status_code == 302
    assert signed_in_client.get("/measures/").status_code == 302
