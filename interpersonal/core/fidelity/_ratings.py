"""What the ICC and drift modules share: one rating row and the checks on its parts."""

from __future__ import annotations

import math
from dataclasses import dataclass

from interpersonal.core.fidelity.errors import RatingsError

ID_MAX = 100
"""The longest target or rater id accepted (characters)."""
MAX_RATINGS = 1_000_000
"""The most rows one computation accepts: far beyond any rating exercise, well within memory."""


@dataclass(frozen=True, slots=True)
class Rating:
    """One rating: ``rater`` rated ``target`` as ``rating``."""

    target: str
    rater: str
    rating: float


def identifier(value: object, what: str, row: int) -> str:
    """``value`` trimmed, refused if blank or longer than :data:`ID_MAX`; ``row`` counts from 1."""
    if not isinstance(value, str) or not value.strip():
        raise RatingsError(f"row {row}: the {what} is blank")
    text = value.strip()
    if len(text) > ID_MAX:
        raise RatingsError(f"row {row}: the {what} {text[:20]!r}... is longer than {ID_MAX} characters")
    return text


def finite(value: object) -> float | None:
    """``value`` as a float if it is a finite int or float (not a bool, not text); else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None
