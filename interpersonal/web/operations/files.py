"""Files that hold patient data are readable by their owner only.

Commands that write backups, subject access copies, research and outcome exports or
retention lists run under :func:`private_files` (``@private_files()`` on ``handle``): every
file and directory they create — pg_dump's output included, since child processes inherit
the umask — gets mode 0600 / 0700, whatever the shell's umask (often 022: world-readable).
The umask is process-wide, so this is for commands, never for a request in the server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

PRIVATE_UMASK = 0o077


@contextmanager
def private_files() -> Iterator[None]:
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)
