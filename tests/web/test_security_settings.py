"""Issue 7 security settings: lockout, idle expiry, Content Security Policy, production checks."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def test_argon2_hashes_new_passwords():
    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


# --- Lockout (django-axes) ------------------------------------------------------------------

@pytest.mark.django_db
def test_five_wrong_passwords_lock_out_even_the_right_one(administrator, administrator_credentials):
    client = Client()
    wrong = administrator_credentials | {"password": "not-the-password"}
    for _ in range(4):
        assert client.post("/accounts/login/", wrong).status_code == 200
    client.post("/accounts/login/", wrong)  # the fifth failure reaches the limit

    response = client.post("/accounts/login/", administrator_credentials)

    assert response.status_code == 403
    assert "too many failed attempts" in response.content.decode()
    assert "15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_lockout_of_one_user_leaves_another_user_able_to_sign_in(administrator, administrator_credentials, make_user):
    other = make_user("otto.other", role="therapist")
    other.set_password("another-long-passphrase")
    other.save()
    client = Client()
    for _ in range(5):
        client.post("/accounts/login/", administrator_credentials | {"password": "not-the-password"})

    response = client.post("/accounts/login/", {"username": "otto.other", "password": "another-long-passphrase"})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(other.pk)


@pytest.mark.django_db
def test_four_wrong_passwords_do_not_lock_out(administrator, administrator_credentials):
    client = Client()
    for _ in range(4):
        client.post("/accounts/login/", administrator_credentials | {"password": "not-the-password"})

    assert client.post("/accounts/login/", administrator_credentials).status_code == 302


# --- Session idle expiry ---------------------------------------------------------------------

def test_session_expires_after_fifteen_idle_minutes_by_default():
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_signed_in_session_expiry_is_fifteen_minutes(signed_in_client):
    signed_in_client.get("/accounts/me/")

    assert 14 * 60 < signed_in_client.session.get_expiry_age() <= 15 * 60


# --- Content Security Policy -----------------------------------------------------------------

def test_pages_carry_a_strict_content_security_policy(signed_in_client):
    policy = signed_in_client.get("/accounts/me/")["Content-Security-Policy"]

    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


@pytest.mark.django_db
def test_login_page_carries_the_policy_too():
    assert "script-src 'self'" in Client().get("/accounts/login/")["Content-Security-Policy"]


# --- Production settings -----------------------------------------------------------------------

def run_manage(*args: str, extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The e2e tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never has it.
    unset = {"SECRET_KEY", "INTERPERSONAL_DEBUG", "DJANGO_SETTINGS_MODULE", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run([sys.executable, "manage.py", *args], env=clean | extra_env, cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=120)


def test_check_deploy_is_clean_with_the_production_settings():
    result = run_manage(
        "check", "--deploy", "--settings", "interpersonal.web.settings_production", "--fail-level", "WARNING",
        extra_env={"SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": "therapy.example.org"},
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = run_manage("check", "--settings", "interpersonal.web.settings_production",
                        extra_env={"ALLOWED_HOSTS": "therapy.example.org"})

    assert result.returncode != 0
    assert "SECRET_KEY: is not set" in result.stderr


def test_production_settings_refuse_debug():
    result = run_manage("check", "--settings", "interpersonal.web.settings_production",
                        extra_env={"SECRET_KEY": secrets.token_urlsafe(60), "INTERPERSONAL_DEBUG": "1"})

    assert result.returncode != 0
    assert "INTERPERSONAL_DEBUG: must not be set" in result.stderr


def test_production_settings_refuse_mfa_off():
    result = run_manage("check", "--settings", "interpersonal.web.settings_production",
                        extra_env={"SECRET_KEY": secrets.token_urlsafe(60), "INTERPERSONAL_REQUIRE_MFA": "0"})

    assert result.returncode != 0
    assert "INTERPERSONAL_REQUIRE_MFA: must not be off" in result.stderr


def test_production_settings_keep_no_test_fallback_even_with_pytest_imported():
    """The base settings' throwaway secrets and relaxed MFA follow ``"pytest" in sys.modules``;
    a production process that happened to import pytest must still get none of them."""
    script = ("import pytest, django.conf, importlib; "
              "s = importlib.import_module('interpersonal.web.settings_production'); "
              "print(s.SECRET_KEY == 'from-the-environment-' + 'x' * 40, s.INTERPERSONAL_REQUIRE_MFA, "
              "repr(s.INTERPERSONAL_PSEUDONYM_KEY))")
    unset = {"SECRET_KEY", "INTERPERSONAL_DEBUG", "INTERPERSONAL_REQUIRE_MFA", "INTERPERSONAL_PSEUDONYM_KEY",
             "DJANGO_SETTINGS_MODULE"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}

    with_key = subprocess.run([sys.executable, "-c", script], env=clean | {"SECRET_KEY": "from-the-environment-" + "x" * 40},
                              cwd=ROOT, capture_output=True, text=True, check=False, timeout=60)
    without_key = subprocess.run([sys.executable, "-c", script], env=clean, cwd=ROOT, capture_output=True, text=True,
                                 check=False, timeout=60)

    assert with_key.stdout.split() == ["True", "True", "''"], with_key.stderr
    assert without_key.returncode != 0
    assert "SECRET_KEY: is not set" in without_key.stderr
