"""Rater drift: does one rater rate consistently higher or lower than the rest of the panel?

For each rater, over the targets they share with at least one other rater: the difference
between their rating and the mean of the OTHER raters' ratings of the same target; the mean of
those differences, its 95% confidence interval (Student's t on n − 1 df) and n, the number of
shared targets. The panel need not be balanced (that is the point: a real panel rates
overlapping samples). A rater is flagged when

* they share at least ``min_shared`` targets (default 5): fewer gives "not enough shared
  ratings" and never a flag, however large the difference;
* the interval excludes 0 (the difference is unlikely to be chance at the 5% level); and
* the size of the mean difference is at least the threshold: ``threshold_sd`` (default 0.5)
  standard deviations of all the panel's ratings, or, if a service sets it, ``threshold_points``
  on the scale itself.

The defaults are **service settings, not published values**. No source gives a drift threshold
for adherence ratings. 0.5 SD is Cohen's (1988) conventional "medium" standardised difference,
chosen so that a statistically detectable but trivial offset (with many shared targets the CI
excludes 0 for tiny differences) is not flagged; 5 shared targets is the fewest for which a
t interval (4 df) is not dominated by its own uncertainty. docs/fidelity.md says how to change
both, and the test suite measures the false-alarm rate and power they give.

    >>> from interpersonal.core.fidelity import drift
    >>> rows = [drift.Rating(f"T{t}", r, t + (1.5 if r == "C" else 0.0) + 0.1 * ((t * 7 + ord(r)) % 3))
    ...         for t in range(8) for r in "ABC"]
    >>> by_rater = {d.rater: d for d in drift.assess(rows)}
    >>> by_rater["C"].status, round(by_rater["C"].difference, 2)
    ('drift', 1.52)
    >>> by_rater["A"].status
    'no drift'

The ratings are each rater's total (or item mean) for a recording on one scale; never mix
scales in one call.

Reference: Cohen J (1988) Statistical power analysis for the behavioral sciences, 2nd ed.
Lawrence Erlbaum (d = 0.5, "medium").
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from scipy import stats

from interpersonal.core.fidelity._ratings import MAX_RATINGS, Rating, finite, identifier
from interpersonal.core.fidelity.errors import RatingsError

__all__ = [
    "DEFAULT_MIN_SHARED",
    "DEFAULT_THRESHOLD_SD",
    "DRIFT",
    "NOT_ENOUGH",
    "NO_DRIFT",
    "DriftSettings",
    "RaterDrift",
    "Rating",
    "assess",
]

DEFAULT_MIN_SHARED = 5
DEFAULT_THRESHOLD_SD = 0.5
DRIFT: Literal["drift"] = "drift"
NO_DRIFT: Literal["no drift"] = "no drift"
NOT_ENOUGH: Literal["not enough shared ratings"] = "not enough shared ratings"
Status = Literal["drift", "no drift", "not enough shared ratings"]


@dataclass(frozen=True, slots=True)
class DriftSettings:
    """How drift is judged: a service setting (see the module docstring for the defaults' basis)."""

    min_shared: int = DEFAULT_MIN_SHARED
    threshold_sd: float = DEFAULT_THRESHOLD_SD
    threshold_points: float | None = None
    """If set, the threshold in the scale's own points, used instead of ``threshold_sd``."""

    def __post_init__(self) -> None:
        if isinstance(self.min_shared, bool) or not isinstance(self.min_shared, int) or not 2 <= self.min_shared <= 1000:
            raise RatingsError("min_shared must be a whole number from 2 to 1000")
        if not (isinstance(self.threshold_sd, int | float) and math.isfinite(self.threshold_sd) and 0 <= self.threshold_sd <= 10):
            raise RatingsError("threshold_sd must be a number from 0 to 10")
        if self.threshold_points is not None and not (
            isinstance(self.threshold_points, int | float) and math.isfinite(self.threshold_points) and self.threshold_points >= 0
        ):
            raise RatingsError("threshold_points must be a number of at least 0")


@dataclass(frozen=True, slots=True)
class RaterDrift:
    """One rater against the rest of the panel."""

    rater: str
    n_shared: int
    """Targets this rater rated that at least one other rater rated too."""
    difference: float | None
    """Mean of (this rater's rating − the other raters' mean), in scale points; None if n_shared is 0."""
    ci95: tuple[float, float] | None
    """Student-t 95% interval of ``difference``; None with fewer than 2 shared targets."""
    threshold: float
    """The size of difference that counts as drift, in scale points (after converting from SD)."""
    panel_sd: float
    """The standard deviation of every rating in the panel (what ``threshold_sd`` is a multiple of)."""
    status: Status

    @property
    def flagged(self) -> bool:
        return self.status == DRIFT

    @property
    def difference_sd(self) -> float | None:
        """``difference`` in panel standard deviations."""
        if self.difference is None or self.panel_sd == 0:
            return None
        return self.difference / self.panel_sd


def _t_quantile(q: float, df: int) -> float:
    return float(stats.t.ppf(q, df))


def _clean(ratings: Iterable[Rating]) -> dict[str, dict[str, float]]:
    """target → rater → rating, refusing a repeated pair (it would weigh one target twice)."""
    by_target: dict[str, dict[str, float]] = {}
    for row, rating in enumerate(ratings, start=1):
        if row > MAX_RATINGS:
            raise RatingsError(f"more than {MAX_RATINGS} ratings: split the panel")
        target = identifier(rating.target, "target", row)
        rater = identifier(rating.rater, "rater", row)
        value = finite(rating.rating)
        if value is None:
            raise RatingsError(f"target {target}, rater {rater}: the rating {rating.rating!r} is not a finite number")
        cells = by_target.setdefault(target, {})
        if rater in cells:
            raise RatingsError(f"target {target} is rated more than once by rater {rater}")
        cells[rater] = value
    return by_target


def assess(ratings: Iterable[Rating], settings: DriftSettings | None = None) -> tuple[RaterDrift, ...]:
    """Each rater's drift against the others, raters in order of first appearance."""
    settings = settings or DriftSettings()
    by_target = _clean(ratings)
    values = [v for cells in by_target.values() for v in cells.values()]
    panel_sd = statistics.stdev(values) if len(values) >= 2 else 0.0
    threshold = settings.threshold_points if settings.threshold_points is not None else settings.threshold_sd * panel_sd
    differences: dict[str, list[float]] = {}
    for cells in by_target.values():
        for rater, value in cells.items():
            differences.setdefault(rater, [])
            others = [v for r, v in cells.items() if r != rater]
            if others:
                differences[rater].append(value - sum(others) / len(others))
    results = []
    for rater, diffs in differences.items():
        n = len(diffs)
        mean = sum(diffs) / n if n else None
        ci: tuple[float, float] | None = None
        if n >= 2 and mean is not None:
            sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
            half = _t_quantile(0.975, n - 1) * sd / math.sqrt(n)
            ci = (mean - half, mean + half)
        status: Status
        if n < settings.min_shared or mean is None or ci is None:
            status = NOT_ENOUGH
        elif (ci[0] > 0 or ci[1] < 0) and abs(mean) >= threshold and abs(mean) > 0:
            status = DRIFT
        else:
            status = NO_DRIFT
        results.append(RaterDrift(rater, n, mean, ci, threshold, panel_sd, status))
    return tuple(results)
