"""The case reference a records officer gives for a subject access copy or an erasure: the
information-governance case number, stored in the audit trail. One rule everywhere (the web
forms, the commands, the erasure action). Audit data holds identifiers and codes only, so the
pattern admits what case numbers are made of and refuses most of what free text is made of
(commas, apostrophes, line breaks); the help text says never to write a name there."""

from __future__ import annotations

import re
from typing import Any

MAX_LENGTH = 64
PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/:#-]*")
HELP = ("The information-governance case number, for example SAR-2026-014: letters, digits, spaces and . _ / : # -. "
        "Never a name.")


def clean(value: Any, *, required: bool = True) -> str:
    """``value`` stripped, or ValueError saying what is wrong ("" when not required and empty)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError("Give the reference of the case (for example the information-governance case number).")
        return ""
    if not isinstance(value, str):
        raise ValueError("The reference must be text.")
    value = value.strip()
    if len(value) > MAX_LENGTH:
        raise ValueError(f"The reference is {len(value)} characters long; at most {MAX_LENGTH} are allowed.")
    if not value.isprintable():
        raise ValueError("The reference must be on one line, without tabs or control characters.")
    if not PATTERN.fullmatch(value):
        raise ValueError("A reference starts with a letter or digit and holds only letters, digits, spaces "
                         "and . _ / : # - (a case number, never a name or a note).")
    return value
