"""Fixtures for the measures tests (no database, no Django)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from interpersonal.core import measures


@pytest.fixture
def fresh_catalogue(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A monkeypatch for the measures environment variables, with the catalogue reloaded
    before and after the test, so that no setting leaks into another test.

    The catalogue loads lazily, so forgetting it at teardown (before monkeypatch restores
    the environment) is enough: the next test reads the restored environment.
    """
    monkeypatch.delenv("INTERPERSONAL_MEASURES_DIRS", raising=False)
    monkeypatch.delenv("INTERPERSONAL_MEASURES_SETTINGS", raising=False)
    measures.reload()
    yield monkeypatch
    measures.reload()
