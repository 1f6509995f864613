from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db
User = get_user_model()


def run(*args, **kwargs) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def test_create_admin_creates_a_superuser():
    output = run(
        "create_admin", "--username", "grace", "--password", "a-long-synthetic-pass", "--email", "g@example.org"
    )

    user = User.objects.get(username="grace")
    assert "Created administrator 'grace'" in output
    assert (user.is_superuser, user.is_staff, user.is_active, user.email) == (True, True, True, "g@example.org")
    assert user.check_password("a-long-synthetic-pass")
    assert user.password.startswith("argon2")


def test_create_admin_is_idempotent_and_updates_the_password():
    run("create_admin", "--username", "grace", "--password", "a-long-synthetic-pass")
    User.objects.filter(username="grace").update(is_superuser=False, is_active=False)

    output = run("create_admin", "--username", "grace", "--password", "another-long-pass-phrase")

    assert "Updated administrator 'grace'" in output
    assert User.objects.filter(username="grace").count() == 1
    user = User.objects.get(username="grace")
    assert user.is_superuser
    assert user.is_active
    assert user.check_password("another-long-pass-phrase")


def test_create_admin_reads_the_password_from_an_environment_variable(monkeypatch):
    monkeypatch.setenv("ADMIN_PW", "from-the-environment-123")

    run("create_admin", "--username", "grace", "--password-env", "ADMIN_PW")

    assert User.objects.get(username="grace").check_password("from-the-environment-123")


def test_create_admin_fails_when_the_variable_is_unset(monkeypatch):
    monkeypatch.delenv("ADMIN_PW", raising=False)

    with pytest.raises(CommandError, match="ADMIN_PW is not set"):
        run("create_admin", "--username", "grace", "--password-env", "ADMIN_PW")
    assert not User.objects.filter(username="grace").exists()


def test_create_admin_rejects_a_weak_password():
    with pytest.raises(CommandError, match="password rejected"):
        run("create_admin", "--username", "grace", "--password", "123")


def test_create_admin_help_documents_idempotence_and_password_env():
    from interpersonal.web.accounts.management.commands.create_admin import Command

    assert "Idempotent" in Command.help
    assert "--password-env" in Command.help


def test_seed_demo_creates_admin_with_default_password_and_prints_how_to_sign_in(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)

    output = run("seed_demo")

    assert User.objects.get(username="admin").check_password("interpersonal-demo")
    assert "http://127.0.0.1:8000/accounts/login/" in output
    assert "username: admin" in output
    assert "password: interpersonal-demo" in output


def test_seed_demo_is_idempotent_and_honours_demo_password(monkeypatch):
    run("seed_demo")
    monkeypatch.setenv("DEMO_PASSWORD", "a-different-demo-pass")

    output = run("seed_demo")

    assert "already present" in output
    assert "password: a-different-demo-pass" in output
    assert User.objects.filter(username="admin").count() == 1
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password("a-different-demo-pass")
