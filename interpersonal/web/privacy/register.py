"""The erasure register: one line per erasure, kept outside the database (docs/privacy.md "Backups").

Restoring a backup taken before an erasure brings the erased record back, and the restored audit
trail no longer shows the erasure. So every erasure is also written here, to a file that a
restore does not replace (``INTERPERSONAL_ERASURE_REGISTER``), and ``interpersonal restore``
erases those records again (:func:`interpersonal.web.privacy.erasure.reapply`).

A line holds no one's details: the patient's database id, a fingerprint of the record (a hash of
the id and the moment the record was created, so that a backup of another installation, whose
patient 7 is someone else, is never erased by this installation's register), when it was erased,
the reason and the case reference (checked not to hold the patient's details). The file is
created owner-only; each line is written with ``O_APPEND`` and flushed to disk (fsync) once the
erasure has committed, never before (a line for an erasure that was rolled back would erase a
kept record at the next restore). An erasure is refused while the register cannot be written
(:func:`writable`; also a system check). Should the write still fail after the commit (a full
disk), the error is logged and ``restore`` recovers the line from the audit trail of the
database it replaces. A line cut short by a crash is skipped and counted by :func:`read`; the
next line starts on a line of its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings

FIELDS = ("patient_id", "fingerprint", "erased_at", "reason", "reference")


@dataclass(frozen=True)
class Entry:
    patient_id: int
    fingerprint: str  # "" when not known (an erasure recorded before fingerprints: never re-applied)
    erased_at: str  # ISO 8601, UTC
    reason: str
    reference: str


def fingerprint(patient_id: int, created_at: dt.datetime) -> str:
    """Which record this was, without saying whose: the same id in another installation (or a
    database rebuilt from scratch) has another creation moment."""
    moment = created_at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return hashlib.sha256(f"interpersonal-patient|{patient_id}|{moment}".encode()).hexdigest()[:32]


def location() -> Path:
    return Path(settings.INTERPERSONAL_ERASURE_REGISTER).expanduser()


def writable(path: Path | None = None) -> bool:
    """Whether :func:`append` can write the register: the file, or the nearest existing directory
    it would be created in, is writable by this process."""
    path = path or location()
    if path.exists():
        return path.is_file() and os.access(path, os.W_OK)
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    return parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)


def append(entry: Entry, path: Path | None = None) -> None:
    """Add one line, durably (fsync), creating the file owner-only and its directory if need be.
    After a line cut short by a crash (no newline at the end), the new line starts on its own."""
    path = path or location()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    line = (json.dumps(asdict(entry), sort_keys=True, ensure_ascii=True) + "\n").encode()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            line = b"\n" + line
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def read(path: Path | None = None) -> tuple[list[Entry], int]:
    """The register's entries in file order, and how many lines could not be read (a line cut
    short by a crash while it was written). No file: no erasures yet."""
    path = path or location()
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return [], 0
    entries, unreadable = [], 0
    for raw in lines:
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
            entries.append(Entry(patient_id=int(data["patient_id"]), fingerprint=str(data.get("fingerprint", "")),
                                 erased_at=str(data["erased_at"]), reason=str(data["reason"]),
                                 reference=str(data["reference"])))
        except (ValueError, KeyError, TypeError):
            unreadable += 1
    return entries, unreadable
