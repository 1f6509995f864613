"""Shared fixtures: personas and signed-in clients.

pytest-django loads the settings before this file is imported; the settings give a
test run its own throwaway SECRET_KEY, so no .env file is needed.
"""

from __future__ import annotations

import pytest
from django.test import Client

from interpersonal.web.accounts.actions import ensure_superuser

ADMIN_USERNAME = "ada.admin"
ADMIN_PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def administrator_credentials() -> dict[str, str]:
    return {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}


@pytest.fixture
def administrator(db):
    """A superuser with a known password (synthetic persona)."""
    return ensure_superuser(username=ADMIN_USERNAME, password=ADMIN_PASSWORD, email="ada@example.org").user


@pytest.fixture
def signed_in_client(administrator) -> Client:
    client = Client()
    client.force_login(administrator)
    return client
