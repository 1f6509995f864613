"""NHS numbers: normalise, validate (modulus 11) and format.

NHS Data Dictionary, "NHS Number": ten digits, the tenth a check digit. Multiply each of
the first nine digits by a weight from 10 down to 2 and sum; the check digit is
11 − (sum mod 11), where 11 becomes 0 and 10 means the number is invalid (no NHS number
is issued with that stem).

    >>> normalise_nhs_number("943 476 5919")
    '9434765919'
    >>> format_nhs_number("9434765919")
    '943 476 5919'
"""

from __future__ import annotations

__all__ = ["InvalidNHSNumber", "check_digit", "format_nhs_number", "is_valid_nhs_number", "normalise_nhs_number"]

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
_SEPARATORS = str.maketrans("", "", " -\t")


class InvalidNHSNumber(ValueError):
    """The text is not a valid NHS number; ``reason`` says why."""

    def __init__(self, text: object, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"{text!r} is not a valid NHS number: {reason}")


def check_digit(first_nine: str) -> int | None:
    """The modulus-11 check digit for nine digits; None when the remainder gives 10
    (no valid NHS number starts with these nine digits)."""
    if len(first_nine) != 9 or not (first_nine.isascii() and first_nine.isdigit()):
        raise ValueError(f"need exactly nine digits, not {first_nine!r}")
    total = sum(int(d) * w for d, w in zip(first_nine, _WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def normalise_nhs_number(text: str) -> str:
    """The ten digits of a valid NHS number, spaces and hyphens removed; raises
    :class:`InvalidNHSNumber` saying why (wrong length, non-digits, check digit wrong)."""
    if not isinstance(text, str):
        raise InvalidNHSNumber(text, f"must be text, not {type(text).__name__}")
    digits = text.strip().translate(_SEPARATORS)
    if not digits:
        raise InvalidNHSNumber(text, "it is empty")
    if not (digits.isascii() and digits.isdigit()):
        bad = next(c for c in digits if not (c.isascii() and c.isdigit()))
        raise InvalidNHSNumber(text, f"it must contain only digits, spaces and hyphens (found {bad!r})")
    if len(digits) != 10:
        raise InvalidNHSNumber(text, f"it must have 10 digits, not {len(digits)}")
    expected = check_digit(digits[:9])
    if expected is None:
        raise InvalidNHSNumber(text, "check digit wrong: the first nine digits give a remainder of 10, so no valid NHS number starts with them")
    if int(digits[9]) != expected:
        raise InvalidNHSNumber(text, f"check digit wrong: the last digit should be {expected}, not {digits[9]} (mistyped?)")
    return digits


def is_valid_nhs_number(text: str) -> bool:
    """True when :func:`normalise_nhs_number` would accept ``text``."""
    try:
        normalise_nhs_number(text)
    except InvalidNHSNumber:
        return False
    return True


def format_nhs_number(text: str) -> str:
    """A valid NHS number in the 3-3-4 form the NHS displays: ``943 476 5919``."""
    digits = normalise_nhs_number(text)
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
