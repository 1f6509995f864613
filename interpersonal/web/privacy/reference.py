"""The case reference a records officer gives for a subject access copy or an erasure: the
information-governance case number, stored in the audit trail. One rule everywhere (the web
forms, the commands, the erasure action).

The audit trail is append-only and holds identifiers and codes only; an erasure can never remove
what a reference put there. So a reference must look like a case number and nothing else:
1–64 characters, starting with a letter or digit, only letters, digits, spaces and ``. _ / : # -``
(no commas, apostrophes or line breaks), at least one digit, no valid NHS number anywhere in it,
and — where the patient is known, which is everywhere it is used — none of the patient's names,
local ID, NHS number or date of birth. This cannot catch every name (``Ward 7`` is a case number
to a pattern); the help text says never to write one."""

from __future__ import annotations

import re
from typing import Any

from interpersonal.core.identifiers import is_valid_nhs_number

MAX_LENGTH = 64
PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/:#-]*")
HELP = ("The information-governance case number, for example SAR-2026-014: letters, digits, spaces and . _ / : # -. "
        "Never a name, an NHS number or a date of birth.")


def clean(value: Any, *, required: bool = True, patient: Any = None) -> str:
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
    if not any(ch.isdigit() for ch in value):
        raise ValueError("A case reference has a number in it (for example SAR-2026-014); "
                         "words alone could be a name, which must not go into the audit trail.")
    if _holds_nhs_number(value):
        raise ValueError("The reference holds what looks like an NHS number: give the case number only.")
    if patient is not None:
        own = _patients_own(value, patient)
        if own:
            raise ValueError(f"The reference holds the patient's {own}: give the case number only.")
    return value


def _holds_nhs_number(value: str) -> bool:
    for run in re.findall(r"\d{10,}", re.sub(r"[ -]", "", value)):
        if any(is_valid_nhs_number(run[i:i + 10]) for i in range(len(run) - 9)):
            return True
    return False


def _patients_own(value: str, patient: Any) -> str:
    """Which of the patient's identifying values ``value`` contains ("" for none)."""
    folded = value.casefold()
    dob = getattr(patient, "date_of_birth", None)
    for what, text in (("local ID", patient.local_id), ("NHS number", patient.nhs_number or ""),
                       ("date of birth", dob.isoformat() if dob else "")):
        if text and text.casefold() in folded:
            return what
    for what, name in (("name", patient.given_name), ("name", patient.family_name)):
        if len(name or "") >= 3 and re.search(rf"\b{re.escape(name.casefold())}\b", folded):
            return what
    return ""
