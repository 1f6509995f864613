import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from interpersonal.web import env

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, extra_env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "INTERPERSONAL_DEBUG", "DATABASE_URL"}}
    clean["DJANGO_SETTINGS_MODULE"] = "interpersonal.web.settings"
    return subprocess.run(
        [sys.executable, "-c", code],
        env=clean | extra_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_settings_refuse_to_start_without_secret_key_outside_debug():
    result = run_python("import django; django.setup()", {})

    assert result.returncode != 0
    assert "SECRET_KEY: is not set" in result.stderr
    assert "Hint:" in result.stderr


def test_settings_start_in_debug_without_secret_key():
    result = run_python(
        "from django.conf import settings; print(settings.DEBUG, settings.SESSION_COOKIE_SECURE)",
        {"INTERPERSONAL_DEBUG": "1"},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]


def test_settings_production_defaults_are_secure():
    code = "from django.conf import settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.ALLOWED_HOSTS)"
    result = run_python(code, {"SECRET_KEY": "x" * 50})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False True True 31536000 ['127.0.0.1', 'localhost']"


def test_sqlite_database_runs_in_wal_mode(tmp_path):
    code = (
        "import django; django.setup(); from django.db import connection\n"
        "with connection.cursor() as c: c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])"
    )
    result = run_python(code, {"INTERPERSONAL_DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path}/sub/db.sqlite3"})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wal"
    assert (tmp_path / "sub").is_dir()


def test_argon2_is_the_first_password_hasher():
    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_time_zone_is_london_and_aware():
    assert settings.TIME_ZONE == "Europe/London"
    assert settings.USE_TZ is True


def test_postgres_url_parsed_for_psycopg():
    db = env.database("postgres://therapist:s%40cret@db.example.org:5433/clinic?sslmode=require")

    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "clinic",
        "therapist",
        "s@cret",
        "db.example.org",
        "5433",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_sqlite_url_parsed_with_wal_options(tmp_path):
    db = env.database(f"sqlite:///{tmp_path}/x.sqlite3")

    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == f"{tmp_path}/x.sqlite3"
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]


@pytest.mark.parametrize("url", ["mysql://u@h/db", "postgres://u@h/", "sqlite://", "nonsense"])
def test_unsupported_database_urls_fail_with_a_hint(url):
    with pytest.raises(env.ConfigurationError, match="Hint:"):
        env.database(url)


def test_boolean_rejects_nonsense_with_the_variable_name():
    with pytest.raises(env.ConfigurationError, match="INTERPERSONAL_DEBUG"):
        env.boolean("INTERPERSONAL_DEBUG", env={"INTERPERSONAL_DEBUG": "maybe"})


def test_string_list_splits_and_trims():
    assert env.string_list("ALLOWED_HOSTS", (), env={"ALLOWED_HOSTS": " a.example , b.example,"}) == [
        "a.example",
        "b.example",
    ]
