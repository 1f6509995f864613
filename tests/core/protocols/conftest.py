"""Fixtures for the protocols tests (no database, no Django)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from interpersonal.core import protocols


@pytest.fixture
def fresh_protocols(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A monkeypatch for the protocol environment variables, with the catalogue reloaded
    before and after the test so that no setting leaks into another test."""
    monkeypatch.delenv("INTERPERSONAL_PROTOCOLS_DIRS", raising=False)
    monkeypatch.delenv("INTERPERSONAL_PROTOCOLS_SETTINGS", raising=False)
    protocols.reload()
    yield monkeypatch
    protocols.reload()


MINIMAL = """\
schema = 1
id = "demo"
name = "Demo therapy"
therapy = "ipt"
step = 3
description = "A protocol for tests."
source = "Tests."
session_measures = ["phq9", "gad7"]
baseline_measures = ["phq9"]

[snomed]
code = "443730003"
source = "Tests."
confirmed = true

[sessions]
cadence = "weekly"
default = 10
min = 8
max = 12
source = "Tests."
confirmed = true

[[phases]]
id = "start"
name = "Start"
length = 2
source = "Tests."
confirmed = true
tasks = [{ id = "a", label = "A" }]

[[phases]]
id = "work"
name = "Work"
length = "rest"
source = "Tests."
confirmed = true
tasks = [{ id = "b", label = "B" }]

[[phases]]
id = "end"
name = "End"
length = 2
source = "Tests."
confirmed = true
tasks = [{ id = "c", label = "C" }]
"""


@pytest.fixture
def minimal() -> str:
    """A minimal valid definition: 8–12 sessions (default 10), phases 2 / rest / 2."""
    return MINIMAL


@pytest.fixture
def write_protocol(tmp_path: Path) -> Callable[..., Path]:
    """Write a definition (by default the minimal valid one) and return its path."""

    def write(text: str = MINIMAL, name: str = "demo.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
