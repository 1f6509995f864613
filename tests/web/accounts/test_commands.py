from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def demo_opt_in(monkeypatch):
    """As `make run` does; the tests of the opt-in itself remove it."""
    monkeypatch.setenv("INTERPERSONAL_DEMO", "1")


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
    root = User.objects.get(username="root")
    assert root.is_superuser
    assert root.check_password("a-different-demo-pass")
    assert User.objects.get(username="admin").check_password("a-different-demo-pass")


# --- seed_demo touches only what it made, and only on a demo database (issue 12) ---------------


def test_seed_demo_refuses_a_database_with_the_operators_superuser_and_leaves_it_alone(monkeypatch):
    from interpersonal.web.accounts.actions import ensure_superuser

    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    ensure_superuser(username="admin", password="the-operators-own-passphrase")

    with pytest.raises(CommandError, match="1 account"):
        run("seed_demo")

    admin = User.objects.get(username="admin")
    assert admin.check_password("the-operators-own-passphrase")
    assert (admin.role, admin.created_by_demo, admin.team) == ("", False, None)
    assert list(User.objects.values_list("username", flat=True)) == ["admin"]


def test_seed_demo_refuses_a_database_with_any_account_it_did_not_create(make_user):
    make_user("real.person", "therapist")

    with pytest.raises(CommandError, match="did not create"):
        run("seed_demo")

    assert not User.objects.filter(created_by_demo=True).exists()


@pytest.mark.parametrize("value", [None, "0", "yes"])
def test_seed_demo_runs_only_when_asked_for_explicitly(monkeypatch, settings, value):
    """A trust's own settings module (any name but the production one) passes the settings check;
    the opt-in does not."""
    settings.SETTINGS_MODULE = "trust.settings_that_import_production"
    if value is None:
        monkeypatch.delenv("INTERPERSONAL_DEMO", raising=False)
    else:
        monkeypatch.setenv("INTERPERSONAL_DEMO", value)

    with pytest.raises(CommandError, match="INTERPERSONAL_DEMO=1"):
        run("seed_demo")

    assert not User.objects.exists()


def test_make_run_asks_for_the_demo_and_nothing_else_does():
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    makefile = (root / "Makefile").read_text(encoding="utf-8")

    assert "INTERPERSONAL_DEMO=1 $(BIN)/python manage.py seed_demo" in makefile
    assert "INTERPERSONAL_DEMO" not in (root / ".env.example").read_text(encoding="utf-8")


def test_create_admin_takes_a_demo_account_over_and_the_demo_then_leaves_it_alone():
    from interpersonal.web.accounts.actions import NotADemoAccount, ensure_superuser

    ensure_superuser(username="admin", password="interpersonal-demo", validate=False, demo=True)
    ensure_superuser(username="admin", password="the-operators-own-passphrase")

    with pytest.raises(NotADemoAccount):
        ensure_superuser(username="admin", password="interpersonal-demo", validate=False, demo=True)
    assert User.objects.get(username="admin").check_password("the-operators-own-passphrase")


def test_seed_demo_refuses_to_run_with_the_production_settings(settings):
    settings.SETTINGS_MODULE = "interpersonal.web.settings_production"

    with pytest.raises(CommandError, match="production settings"):
        run("seed_demo")

    assert not User.objects.exists()


def test_seed_demo_refuses_a_database_holding_a_patient_it_did_not_create(patient):
    User.objects.update(created_by_demo=True)  # only the patient gives this database away
    users_before = list(User.objects.values_list("pk", "password"))

    with pytest.raises(CommandError, match="1 patient record"):
        run("seed_demo")

    assert list(User.objects.values_list("pk", "password")) == users_before
    assert not User.objects.filter(username="admin").exists()


def test_seed_demo_refuses_a_real_patient_even_with_a_demo_style_local_id(patient):
    from interpersonal.web.patients.models import Patient

    Patient.objects.filter(pk=patient.pk).update(local_id="DEMO-999")

    with pytest.raises(CommandError, match="did not create"):
        run("seed_demo")


def test_seed_demo_exits_non_zero_under_the_real_production_settings_module(tmp_path):
    import os
    import secrets
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    unset = {"SECRET_KEY", "INTERPERSONAL_DEBUG", "DJANGO_SETTINGS_MODULE", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE",
             "INTERPERSONAL_REQUIRE_MFA", "DATABASE_URL"}
    env = {k: v for k, v in os.environ.items() if k not in unset} | {
        "SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": "therapy.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "INTERPERSONAL_DEMO": "1",
    }

    result = subprocess.run([sys.executable, "manage.py", "seed_demo", "--settings",
                             "interpersonal.web.settings_production"], env=env, cwd=root, capture_output=True,
                            text=True, check=False, timeout=120)

    assert result.returncode != 0
    assert "refuses to run with the production settings" in result.stderr


def test_seed_demo_adopts_an_old_demo_database_whose_accounts_were_not_marked():
    run("seed_demo")
    User.objects.update(created_by_demo=False)  # as before the mark existed
    with pytest.raises(CommandError, match="did not create"):
        run("seed_demo")

    output = run("seed_demo", "--adopt-existing-demo")

    assert "already present" in output
    assert not User.objects.filter(created_by_demo=False).exists()


def test_seed_demo_adopts_nothing_when_an_account_has_a_name_the_demo_never_uses(make_user):
    run("seed_demo")
    make_user("real.person", "therapist")
    User.objects.update(created_by_demo=False)

    with pytest.raises(CommandError, match="adopts nothing"):
        run("seed_demo", "--adopt-existing-demo")

    assert not User.objects.filter(created_by_demo=True).exists()


def test_seed_demo_adopts_nothing_when_a_patient_is_not_a_demo_one(patient):
    with pytest.raises(CommandError, match="adopts nothing"):
        run("seed_demo", "--adopt-existing-demo")

    assert not User.objects.filter(created_by_demo=True).exists()
