"""Errors raised by the fidelity library's reliability and accreditation modules.

    FidelityError
    ├── RatingsError          ratings that cannot be analysed as given (also a ValueError):
    │   │                     a blank or over-long id, a rating that is not a finite number,
    │   │                     data with no variation to analyse
    │   └── UnbalancedRatings the ICC needs a complete, balanced design: the message names every
    │                         gap (a target missing a rater, a pair rated twice, too few raters
    │                         or targets); ``gaps`` holds them one by one
    ├── AccreditationConfigError   an accreditation route file or a settings override that does
    │                              not validate (also a ValueError): file, field, problem
    └── EvidenceError         accreditation evidence that contradicts itself (also a ValueError):
                              a repeated id, a recording of an unknown case, a negative count
"""

from __future__ import annotations

from collections.abc import Sequence


class FidelityError(Exception):
    """Base class of every error the fidelity reliability and accreditation code raises."""


class RatingsError(FidelityError, ValueError):
    """Ratings that cannot be analysed as given."""


class UnbalancedRatings(RatingsError):
    """Ratings that are not a complete, balanced design (every target rated once by every rater)."""

    SHOWN = 20
    """How many gaps the message lists before it says how many more there are."""

    def __init__(self, gaps: Sequence[str]) -> None:
        self.gaps = tuple(gaps)
        shown = "; ".join(self.gaps[: self.SHOWN])
        more = len(self.gaps) - self.SHOWN
        tail = f"; and {more} more" if more > 0 else ""
        super().__init__(f"the ratings are not a complete, balanced design: {shown}{tail}")


class AccreditationConfigError(FidelityError, ValueError):
    """An accreditation route definition (or a settings override) that does not validate."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source, self.field, self.problem = source, field, problem
        super().__init__(f"{source}: {field}: {problem}")


class EvidenceError(FidelityError, ValueError):
    """Accreditation evidence that contradicts itself."""
