"""Checks on files that commands write (interpersonal.web.operations.files)."""

from __future__ import annotations

import stat
from pathlib import Path


def owner_only(directory: Path) -> bool:
    """The directory is 0700 and every file under it 0600: nobody but the owner can read them."""
    modes = [(path, stat.S_IMODE(path.stat().st_mode)) for path in [directory, *directory.rglob("*")]]
    wrong = [(str(path), oct(mode)) for path, mode in modes if mode != (0o700 if path.is_dir() else 0o600)]
    assert not wrong, wrong
    return True
