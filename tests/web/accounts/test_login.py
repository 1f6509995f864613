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


# --- Audit of sign-in, sign-out and lockout (issue 7) ---------------------------------------

WRONG_PASSWORD = "not-the-password"


def stored_text(event) -> str:
    """Every stored value of the event, as one string to search for secrets."""
    return " ".join(str(getattr(event, f.attname)) for f in type(event)._meta.concrete_fields)


def test_signing_in_is_audited_once_without_the_password(administrator, administrator_credentials, audit_trail):
    Client().post("/accounts/login/", administrator_credentials)

    [event] = audit_trail.new()
    assert event.type == "login.succeeded"
    assert (event.actor_id, event.actor_username) == (administrator.pk, administrator.username)
    assert (event.target_type, event.target_id) == ("user", str(administrator.pk))
    assert administrator_credentials["password"] not in stored_text(event)


def test_a_wrong_password_is_audited_once_against_the_account_without_the_password(
        administrator, administrator_credentials, audit_trail):
    Client().post("/accounts/login/", administrator_credentials | {"password": WRONG_PASSWORD})

    [event] = audit_trail.new()
    assert event.type == "login.failed"
    assert (event.actor_id, event.actor_username) == (None, "")
    assert (event.target_type, event.target_id) == ("user", str(administrator.pk))
    assert event.data == {}
    assert WRONG_PASSWORD not in stored_text(event)
    assert administrator_credentials["password"] not in stored_text(event)


def test_an_unknown_username_is_audited_without_storing_what_was_typed(administrator, audit_trail):
    # People type their password into the username box: an unknown username is never stored.
    typed = "correct-horse-typed-in-the-wrong-box"

    Client().post("/accounts/login/", {"username": typed, "password": WRONG_PASSWORD})

    [event] = audit_trail.new()
    assert event.type == "login.failed"
    assert (event.target_type, event.target_id) == ("user", "")
    assert typed not in stored_text(event)
    assert WRONG_PASSWORD not in stored_text(event)


def test_signing_out_is_audited_once(administrator, signed_in_client, audit_trail):
    signed_in_client.post("/accounts/logout/")

    [event] = audit_trail.new()
    assert event.type == "logout"
    assert event.actor_id == administrator.pk
    assert (event.target_type, event.target_id) == ("user", str(administrator.pk))


def test_signing_out_without_a_session_writes_nothing(db, audit_trail):
    Client().post("/accounts/logout/")

    assert audit_trail.new() == []


def test_a_lockout_is_audited_once_with_each_failure_and_no_password(
        administrator, administrator_credentials, audit_trail):
    client = Client()
    for _ in range(5):  # the fifth failure reaches AXES_FAILURE_LIMIT
        client.post("/accounts/login/", administrator_credentials | {"password": WRONG_PASSWORD})

    events = audit_trail.new()

    # axes' receiver may run before or after ours on the fifth failure: compare as a multiset.
    assert sorted(e.type for e in events) == ["login.failed"] * 5 + ["login.locked_out"]
    [locked] = [e for e in events if e.type == "login.locked_out"]
    assert (locked.actor_id, locked.target_type, locked.target_id) == (None, "user", str(administrator.pk))
    assert all(WRONG_PASSWORD not in stored_text(e) for e in events)


def test_a_refused_attempt_while_locked_out_is_audited_and_the_right_password_is_not_stored(
        administrator, administrator_credentials, audit_trail):
    client = Client()
    for _ in range(5):
        client.post("/accounts/login/", administrator_credentials | {"password": WRONG_PASSWORD})
    audit_trail.mark()

    response = client.post("/accounts/login/", administrator_credentials)

    events = audit_trail.new()
    assert response.status_code == 403
    assert sorted(e.type for e in events) == ["login.failed", "login.locked_out"]
    assert "login.succeeded" not in [e.type for e in events]
    assert all(administrator_credentials["password"] not in stored_text(e) for e in events)


@pytest.mark.parametrize("username", ["x" * 256, "\ufdfa" * 20])  # U+FDFA is 18 characters after NFKC
def test_a_username_longer_than_any_account_is_refused_and_audited(administrator, username, audit_trail):
    """Found by tests/web/test_fuzz_forms.py on PostgreSQL: Django's sign-in form does not enforce
    the username's length, so django-axes stored the failure in a 255-character column: a 500.
    It is a form error now, audited as a failed sign-in for no account, without what was typed."""
    response = Client().post("/accounts/login/", {"username": username, "password": WRONG_PASSWORD})

    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()
    [event] = audit_trail.new()
    assert event.type == "login.failed"
    assert (event.actor_id, event.target_type, event.target_id) == (None, "user", "")
    assert username[:20] not in stored_text(event)
    assert WRONG_PASSWORD not in stored_text(event)
