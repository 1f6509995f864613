"""Small typed readers of the process environment that fail loudly with a hint.

Settings read every deployment-specific value through these, so a misconfigured
server stops at start-up with a message naming the variable, never later.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class ConfigurationError(ImproperlyConfigured):
    """A variable is missing or malformed; the message names it and how to fix it."""

    def __init__(self, name: str, problem: str, hint: str) -> None:
        super().__init__(f"{name}: {problem}. Hint: {hint}")


def string(name: str, default: str | None = None, *, hint: str, env: Mapping[str, str] | None = None) -> str:
    """The variable's value, or ``default``; with no default, a missing variable is an error."""
    value = (os.environ if env is None else env).get(name)
    if value is None or value == "":
        if default is None:
            raise ConfigurationError(name, "is not set", hint)
        return default
    return value


def boolean(name: str, default: bool = False, *, env: Mapping[str, str] | None = None) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off`` (any case); anything else is an error."""
    raw = (os.environ if env is None else env).get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(name, f"must be a boolean, got {raw!r}", "use 1 or 0")


def integer(name: str, default: int, *, env: Mapping[str, str] | None = None) -> int:
    raw = (os.environ if env is None else env).get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(name, f"must be a whole number, got {raw!r}", f"e.g. {name}={default}") from None


def string_list(name: str, default: tuple[str, ...], *, env: Mapping[str, str] | None = None) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    raw = (os.environ if env is None else env).get(name)
    if raw is None:
        return list(default)
    return [part.strip() for part in raw.split(",") if part.strip()]


SQLITE_OPTIONS: dict[str, Any] = {
    # WAL lets readers and one writer work at once; IMMEDIATE takes the write lock at BEGIN,
    # so concurrent writers wait (up to ``timeout`` seconds) instead of failing mid-transaction.
    # synchronous=FULL: a committed transaction survives a power failure or OS crash too,
    # not only a process crash (NORMAL in WAL mode may lose the last commits). One fsync per
    # commit is the price of "an acknowledged write is never lost".
    "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}

_POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "pgsql"})
_DATABASE_HINT = "use sqlite:///absolute/path.sqlite3 or postgres://user:password@host:5432/name"


def database(url: str, *, name: str = "DATABASE_URL") -> dict[str, Any]:
    """A Django ``DATABASES`` entry from a URL (no extra dependency).

    ``sqlite:///relative.sqlite3``, ``sqlite:////absolute/path.sqlite3``,
    ``postgres://user:password@host:port/name?sslmode=require`` (query → OPTIONS).
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise ConfigurationError(name, "names no SQLite file", _DATABASE_HINT)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path, "OPTIONS": dict(SQLITE_OPTIONS)}
    if parts.scheme in _POSTGRES_SCHEMES:
        db_name = unquote(parts.path.lstrip("/"))
        if not db_name:
            raise ConfigurationError(name, "names no database", _DATABASE_HINT)
        try:
            port = parts.port
        except ValueError:
            raise ConfigurationError(name, "has an invalid port", _DATABASE_HINT) from None
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": db_name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": unquote(parts.hostname or ""),
            "PORT": str(port or ""),
            "OPTIONS": dict(parse_qsl(parts.query)),
            "CONN_HEALTH_CHECKS": True,
        }
    shown = parts.scheme or url[:20]
    raise ConfigurationError(name, f"unsupported database {shown!r}", _DATABASE_HINT)
