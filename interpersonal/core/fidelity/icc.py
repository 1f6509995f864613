"""Inter-rater reliability: the six intraclass correlations of Shrout & Fleiss (1979).

    >>> from interpersonal.core.fidelity import icc
    >>> table = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> rows = [icc.Rating(f"T{i + 1}", "ABCD"[j], x) for i, row in enumerate(table) for j, x in enumerate(row)]
    >>> result = icc.compute(rows)
    >>> [(i.type, round(i.icc, 2)) for i in result.iccs]
    [('ICC1', 0.17), ('ICC2', 0.29), ('ICC3', 0.71), ('ICC1k', 0.44), ('ICC2k', 0.62), ('ICC3k', 0.91)]
    >>> result.get("ICC2").band_text()
    'poor (95% CI: poor to good)'

(Shrout & Fleiss's own example, 1979 Table 2, and their published values, Table 4.)

Input is long rows (target, rater, rating): the targets are what is rated (recordings), the
raters who rate them. The design must be complete and balanced, every target rated exactly once
by every rater; anything else raises :class:`~interpersonal.core.fidelity.errors.UnbalancedRatings`
naming each gap ("target T3 has no rating from rater B"). Unbalanced panels are what
:mod:`interpersonal.core.fidelity.drift` is for.

The six coefficients, each with its 95% confidence interval, F test (F, df1, df2, p) and the
Koo & Li (2016) band of the estimate and of both ends of the interval:

=========  =====================  ======================  ==================  ===============
type       Shrout & Fleiss 1979   McGraw & Wong 1996      model               definition
=========  =====================  ======================  ==================  ===============
ICC1       ICC(1,1)               ICC(1)                  one-way random      absolute agreement
ICC2       ICC(2,1)               ICC(A,1)                two-way random      absolute agreement
ICC3       ICC(3,1)               ICC(C,1)                two-way mixed       consistency
ICC1k      ICC(1,k)               ICC(k)                  one-way random      absolute agreement
ICC2k      ICC(2,k)               ICC(A,k)                two-way random      absolute agreement
ICC3k      ICC(3,k)               ICC(C,k)                two-way mixed       consistency
=========  =====================  ======================  ==================  ===============

The first three are the reliability of one rater's rating, the last three of the mean of the
``k`` raters' ratings. A panel whose raters are drawn from a pool and whose single ratings are
used (a recording rated by one supervisor) reports ICC2, absolute agreement (DOMAIN.md §9).

**Computation.** From the mean squares of the two-way analysis of variance (targets × raters,
one rating a cell), with the formulas of Shrout & Fleiss (1979, Table 1 and pp. 423–425) and
McGraw & Wong (1996, Tables 4, 7 and 8): BMS (between targets), WMS (within targets), JMS
(between raters), EMS (residual); F quantiles and tail areas from :mod:`scipy.stats`. The CI of
ICC2 is Satterthwaite's approximation given by Shrout & Fleiss (p. 425); that of ICC2k is the
Spearman–Brown step-up of ICC2's bounds, which equals McGraw & Wong's Table 7 formula for
ICC(A,k) algebraically.

**Why not pingouin.** The project meant to call ``pingouin.intraclass_corr``. Its point
estimates, F, df and p follow the same formulas (the test suite checks that it agrees with this
module), but its 95% interval comes back rounded to two decimals by default
(``pingouin.options["round.column.CI95"] = 2``): a bound of 0.748 is shown as 0.75, which moves
it into another Koo & Li band. Where ICC2's lower end falls below −1/(k − 1) (few targets, poor
agreement) it steps that end up through the pole of the Spearman–Brown formula and reports an
ICC2k lower end above the upper one (e.g. [4.94, 0.95]). Undoing that means changing pingouin's process-wide options
(not safe in a threaded server) or using its private ``_no_rounding``. It also averages a
duplicated target–rater pair and drops an incomplete target silently (``pivot_table`` and
listwise deletion), and brings matplotlib, seaborn, scikit-learn and statsmodels into a core
that the command line imports; and pingouin 0.7.0 under pandas 3.1 warns (a ``Pandas4Warning``
from ``dropna(inplace=True)``), which this project's warnings-as-errors policy turns into a
failure. The formulas are short and published, so they are computed here
and pingouin is a test-only cross-check.

**Degenerate data.** When the ratings do not vary between targets (BMS = 0) or have no residual
variation (EMS = 0, e.g. every rater gave every target the same rating as the others), the F
ratios and intervals are undefined; :func:`compute` refuses with a :class:`RatingsError` that
says so rather than return infinities. ICC2k = k·ICC2 / (1 + (k − 1)·ICC2) has a pole at
ICC2 = −1/(k − 1), the floor of a single rater's ICC: ratings whose ICC2 estimate falls there
(raters disagreeing beyond chance) are refused; when only ICC2's lower bound falls below it,
ICC2k's interval is unbounded below and its lower end is −∞ (``null`` in JSON) — the published
formula would otherwise print a meaningless large positive number. Satterthwaite's interval is
an approximation: for a negative ICC2 (raters pulling in opposite directions) it may not even
contain the estimate; the intervals of the other four coefficients are exact F intervals.

References: Shrout PE, Fleiss JL (1979) Intraclass correlations: uses in assessing rater
reliability. Psychol Bull 86(2):420–428, doi:10.1037/0033-2909.86.2.420. McGraw KO, Wong SP
(1996) Forming inferences about some intraclass correlation coefficients. Psychol Methods
1(1):30–46, doi:10.1037/1082-989X.1.1.30. Koo TK, Li MY (2016) A guideline of selecting and
reporting intraclass correlation coefficients for reliability research. J Chiropr Med
15(2):155–163, doi:10.1016/j.jcm.2016.02.012.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from interpersonal.core.fidelity._ratings import ID_MAX, MAX_RATINGS, Rating, finite, identifier
from interpersonal.core.fidelity.errors import RatingsError, UnbalancedRatings

__all__ = [
    "BANDS",
    "DEFAULT_PAIR_MIN_SHARED",
    "ICC",
    "ICC_TYPES",
    "ID_MAX",
    "KINDS",
    "MAX_RATINGS",
    "Band",
    "ICCResult",
    "Kind",
    "MeanSquares",
    "PairResult",
    "Rating",
    "band_of",
    "by_rater_pair",
    "compute",
    "compute_matrix",
    "to_matrix",
]

IccType = Literal["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]
ICC_TYPES: tuple[IccType, ...] = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")
CONFIDENCE = 0.95
_DEGENERATE = 1e-12
"""A mean square at most this fraction of the ratings' total variance is treated as zero."""


@dataclass(frozen=True, slots=True)
class Kind:
    """What one of the six coefficients is: its names in both nomenclatures and its meaning."""

    type: IccType
    shrout_fleiss: str
    mcgraw_wong: str
    model: str
    unit: str
    definition: str


KINDS: Mapping[IccType, Kind] = {
    "ICC1": Kind("ICC1", "ICC(1,1)", "ICC(1)", "one-way random", "single rater", "absolute agreement"),
    "ICC2": Kind("ICC2", "ICC(2,1)", "ICC(A,1)", "two-way random", "single rater", "absolute agreement"),
    "ICC3": Kind("ICC3", "ICC(3,1)", "ICC(C,1)", "two-way mixed", "single rater", "consistency"),
    "ICC1k": Kind("ICC1k", "ICC(1,k)", "ICC(k)", "one-way random", "average of k raters", "absolute agreement"),
    "ICC2k": Kind("ICC2k", "ICC(2,k)", "ICC(A,k)", "two-way random", "average of k raters", "absolute agreement"),
    "ICC3k": Kind("ICC3k", "ICC(3,k)", "ICC(C,k)", "two-way mixed", "average of k raters", "consistency"),
}
"""Names after Shrout & Fleiss (1979) and McGraw & Wong (1996); model and definition as tabled
by Koo & Li (2016)."""


@dataclass(frozen=True, slots=True)
class Band:
    """A Koo & Li (2016) reliability band: values from ``lower`` (inclusive) up to ``upper``."""

    label: str
    lower: float
    upper: float
    upper_inclusive: bool


BANDS: tuple[Band, ...] = (
    Band("poor", -math.inf, 0.5, False),
    Band("moderate", 0.5, 0.75, False),
    Band("good", 0.75, 0.9, True),
    Band("excellent", 0.9, math.inf, False),
)
"""Koo & Li (2016, abstract and discussion): "values less than 0.5 are indicative of poor reliability, values
between 0.5 and 0.75 indicate moderate reliability, values between 0.75 and 0.9 indicate good
reliability, and values greater than 0.90 indicate excellent reliability". The paper leaves the
shared edges open: here 0.5 is moderate and 0.75 good (each band includes its lower edge), and
0.9 is good (excellent is "greater than 0.90"); some implementations (easystats
``interpret_icc``) put 0.9 in excellent instead."""


def band_of(value: float) -> str:
    """The Koo & Li band ``value`` falls in (a negative ICC, or a lower bound below 0, is poor)."""
    for band in BANDS:
        if value < band.upper or (band.upper_inclusive and value == band.upper):
            return band.label
    return BANDS[-1].label


@dataclass(frozen=True, slots=True)
class ICC:
    """One coefficient: its estimate, 95% CI, the F test against ICC = 0, and its bands."""

    type: IccType
    icc: float
    ci95: tuple[float, float]
    f: float
    df1: int
    df2: int
    p: float

    @property
    def kind(self) -> Kind:
        return KINDS[self.type]

    @property
    def band(self) -> str:
        """The Koo & Li band of the point estimate."""
        return band_of(self.icc)

    @property
    def ci_bands(self) -> tuple[str, str]:
        """The Koo & Li bands of the interval's lower and upper ends (they may differ)."""
        return band_of(self.ci95[0]), band_of(self.ci95[1])

    def band_text(self) -> str:
        """The reporting sentence's band part, e.g. "good (95% CI: moderate to excellent)"."""
        low, high = self.ci_bands
        span = low if low == high else f"{low} to {high}"
        return f"{self.band} (95% CI: {span})"

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``interpersonal fidelity icc --json`` for this coefficient; an
        unbounded end of the interval (ICC2k's lower end, see :func:`compute_matrix`) is null."""
        ends = [end if math.isfinite(end) else None for end in self.ci95]
        return {"type": self.type, "icc": self.icc, "ci95": ends,
                "f": self.f, "df1": self.df1, "df2": self.df2, "p": self.p}


@dataclass(frozen=True, slots=True)
class MeanSquares:
    """The two-way ANOVA of an n targets × k raters table (Shrout & Fleiss 1979, Table 1)."""

    n: int
    k: int
    between_targets: float
    """BMS, df n − 1."""
    within_targets: float
    """WMS, df n(k − 1): raters and residual pooled, as the one-way model sees them."""
    between_raters: float
    """JMS, df k − 1."""
    residual: float
    """EMS, df (n − 1)(k − 1)."""


@dataclass(frozen=True, slots=True)
class ICCResult:
    targets: tuple[str, ...]
    raters: tuple[str, ...]
    mean_squares: MeanSquares
    iccs: tuple[ICC, ...]

    @property
    def n_targets(self) -> int:
        return len(self.targets)

    @property
    def n_raters(self) -> int:
        return len(self.raters)

    def get(self, icc_type: IccType) -> ICC:
        return next(i for i in self.iccs if i.type == icc_type)

    def to_dict(self) -> dict[str, Any]:
        """``{"icc": [...six in order...], "n_targets": n, "n_raters": k}``: the CLI's JSON."""
        return {"icc": [i.to_dict() for i in self.iccs], "n_targets": self.n_targets, "n_raters": self.n_raters}


def to_matrix(ratings: Iterable[Rating]) -> tuple[NDArray[np.float64], tuple[str, ...], tuple[str, ...]]:
    """The n × k table of a complete, balanced design, with its targets and raters in order of
    first appearance; :class:`UnbalancedRatings` names every gap otherwise."""
    cells: dict[tuple[str, str], float] = {}
    targets: dict[str, None] = {}
    raters: dict[str, None] = {}
    gaps: list[str] = []
    for row, rating in enumerate(ratings, start=1):
        if row > MAX_RATINGS:
            raise RatingsError(f"more than {MAX_RATINGS} ratings: split the exercise")
        target = identifier(rating.target, "target", row)
        rater = identifier(rating.rater, "rater", row)
        value = finite(rating.rating)
        if value is None:
            raise RatingsError(f"target {target}, rater {rater}: the rating {rating.rating!r} is not a finite number")
        targets.setdefault(target)
        raters.setdefault(rater)
        if (target, rater) in cells:
            gaps.append(f"target {target} is rated more than once by rater {rater}")
            continue
        cells[(target, rater)] = value
    if len(targets) < 2:
        gaps.append(f"{len(targets)} target{'' if len(targets) == 1 else 's'}: at least 2 are needed")
    if len(raters) < 2:
        gaps.append(f"{len(raters)} rater{'' if len(raters) == 1 else 's'}: at least 2 are needed")
    for target in targets:
        gaps.extend(f"target {target} has no rating from rater {rater}"
                    for rater in raters if (target, rater) not in cells)
    if gaps:
        raise UnbalancedRatings(list(dict.fromkeys(gaps)))
    matrix = np.array([[cells[(t, r)] for r in raters] for t in targets], dtype=np.float64)
    return matrix, tuple(targets), tuple(raters)


def _mean_squares(x: NDArray[np.float64]) -> MeanSquares:
    n, k = x.shape
    grand = float(x.mean())
    row_means = x.mean(axis=1)
    col_means = x.mean(axis=0)
    ss_rows = k * float(((row_means - grand) ** 2).sum())
    ss_cols = n * float(((col_means - grand) ** 2).sum())
    residuals = x - row_means[:, None] - col_means[None, :] + grand
    ss_error = float((residuals**2).sum())
    total_variance = float(((x - grand) ** 2).sum()) / (n * k - 1)
    if total_variance == 0.0:
        raise RatingsError(f"every rating is {x.flat[0]:g}: with no variation there is no reliability to estimate")
    ms = MeanSquares(
        n=n, k=k,
        between_targets=ss_rows / (n - 1),
        within_targets=(ss_cols + ss_error) / (n * (k - 1)),
        between_raters=ss_cols / (k - 1),
        residual=ss_error / ((n - 1) * (k - 1)),
    )
    if ms.between_targets <= _DEGENERATE * total_variance:
        raise RatingsError("the targets' mean ratings do not differ: the ICCs and their F tests are undefined")
    if ms.residual <= _DEGENERATE * total_variance:
        raise RatingsError(
            "the ratings have no residual variation (each rater's ratings are the others' shifted by a constant, "
            "or identical): the F tests and confidence intervals are undefined"
        )
    return ms


def _f_ppf(q: float, dfn: float, dfd: float) -> float:
    return float(stats.f.ppf(q, dfn, dfd))


def _f_sf(x: float, dfn: float, dfd: float) -> float:
    return float(stats.f.sf(x, dfn, dfd))


def compute_matrix(x: NDArray[np.float64], targets: Sequence[str] = (), raters: Sequence[str] = ()) -> ICCResult:
    """The six ICCs of an n targets × k raters table (no missing cells, finite values)."""
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise RatingsError("the table must have at least 2 targets (rows) and 2 raters (columns)")
    if not np.isfinite(x).all():
        raise RatingsError("every rating must be a finite number")
    n, k = x.shape
    ms = _mean_squares(x)
    bms, wms, jms, ems = ms.between_targets, ms.within_targets, ms.between_raters, ms.residual
    alpha = 1 - CONFIDENCE
    q = 1 - alpha / 2

    df_rows, df_within, df_error = n - 1, n * (k - 1), (n - 1) * (k - 1)
    icc1 = (bms - wms) / (bms + (k - 1) * wms)
    icc2 = (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n)
    if bms + (jms - ems) / n <= _DEGENERATE * (bms + jms + ems):
        raise RatingsError(
            f"the raters disagree more than chance allows (ICC(2,1) = {icc2:.3f}, at or below its floor "
            f"-1/(k-1) = {-1 / (k - 1):.3f}): ICC(2,k) is undefined; check that targets and raters are not swapped"
        )
    icc3 = (bms - ems) / (bms + (k - 1) * ems)
    icc1k = (bms - wms) / bms
    icc2k = (bms - ems) / (bms + (jms - ems) / n)
    icc3k = (bms - ems) / bms

    # One-way: F = BMS/WMS on (n − 1, n(k − 1)) (Shrout & Fleiss p. 424; McGraw & Wong Table 7, Case 1).
    f1 = bms / wms
    p1 = _f_sf(f1, df_rows, df_within)
    f1_low = f1 / _f_ppf(q, df_rows, df_within)
    f1_high = f1 * _f_ppf(q, df_within, df_rows)
    ci1 = ((f1_low - 1) / (f1_low + k - 1), (f1_high - 1) / (f1_high + k - 1))
    ci1k = (1 - 1 / f1_low, 1 - 1 / f1_high)

    # Two-way: F = BMS/EMS on (n − 1, (n − 1)(k − 1)) tests both ICC2 and ICC3 against 0.
    f3 = bms / ems
    p3 = _f_sf(f3, df_rows, df_error)
    f3_low = f3 / _f_ppf(q, df_rows, df_error)
    f3_high = f3 * _f_ppf(q, df_error, df_rows)
    ci3 = ((f3_low - 1) / (f3_low + k - 1), (f3_high - 1) / (f3_high + k - 1))
    ci3k = (1 - 1 / f3_low, 1 - 1 / f3_high)

    # ICC2's interval: Satterthwaite's degrees of freedom v (Shrout & Fleiss p. 425; F_J = JMS/EMS).
    fj = jms / ems
    shared = n * (1 + (k - 1) * icc2) - k * icc2
    v = df_error * (k * icc2 * fj + shared) ** 2 / (df_rows * (k * icc2 * fj) ** 2 + shared**2)
    f2_star_low = _f_ppf(q, df_rows, v)
    f2_star_high = _f_ppf(q, v, df_rows)
    denominator = k * jms + (k * n - k - n) * ems
    low2 = n * (bms - f2_star_low * ems) / (f2_star_low * denominator + n * bms)
    high2 = n * (f2_star_high * bms - ems) / (denominator + n * f2_star_high * bms)
    ci2 = (low2, high2)
    # ICC2k = k ICC2 / (1 + (k − 1) ICC2) rises to +∞ as ICC2 falls to −1/(k − 1) and is not a
    # reliability below it. An interval of ICC2 reaching below that pole gives ICC2k an interval
    # unbounded below (−∞), not the wrapped-round value the formula would print.
    pole = -1 / (k - 1)
    low2k = -math.inf if low2 <= pole else k * low2 / (1 + (k - 1) * low2)
    ci2k = (low2k, k * high2 / (1 + (k - 1) * high2))

    values: dict[IccType, tuple[float, tuple[float, float], float, int, int, float]] = {
        "ICC1": (icc1, ci1, f1, df_rows, df_within, p1),
        "ICC2": (icc2, ci2, f3, df_rows, df_error, p3),
        "ICC3": (icc3, ci3, f3, df_rows, df_error, p3),
        "ICC1k": (icc1k, ci1k, f1, df_rows, df_within, p1),
        "ICC2k": (icc2k, ci2k, f3, df_rows, df_error, p3),
        "ICC3k": (icc3k, ci3k, f3, df_rows, df_error, p3),
    }
    iccs = tuple(
        ICC(t, float(est), (float(ci[0]), float(ci[1])), float(f), d1, d2, float(p))
        for t, (est, ci, f, d1, d2, p) in values.items()
    )
    return ICCResult(tuple(targets) or tuple(f"row {i + 1}" for i in range(n)),
                     tuple(raters) or tuple(f"column {j + 1}" for j in range(k)), ms, iccs)


@dataclass(frozen=True, slots=True)
class PairResult:
    """Two raters' agreement on the targets both rated: an :class:`ICCResult`, or why not."""

    raters: tuple[str, str]
    n_shared: int
    result: ICCResult | None
    reason: str = ""
    """Why there is no result: too few shared targets, or data the ICC cannot use."""


DEFAULT_PAIR_MIN_SHARED = 5
"""The fewest targets two raters must share before their ICC is computed: a service setting
(not a published value). With fewer, the 95% interval of ICC2 is wide enough to span most of
the Koo & Li bands whatever the agreement."""


def by_rater_pair(ratings: Iterable[Rating], *, min_shared: int = DEFAULT_PAIR_MIN_SHARED) -> tuple[PairResult, ...]:
    """The six ICCs of every pair of raters, each on the targets both rated (a panel need not be
    balanced for this). Pairs in order of the raters' first appearance; a target rated twice by
    one rater is refused, as in :func:`compute`."""
    if isinstance(min_shared, bool) or not isinstance(min_shared, int) or not 2 <= min_shared <= 1000:
        raise RatingsError("min_shared must be a whole number from 2 to 1000")
    cells: dict[tuple[str, str], float] = {}
    raters: dict[str, None] = {}
    targets: dict[str, None] = {}
    for row, rating in enumerate(ratings, start=1):
        if row > MAX_RATINGS:
            raise RatingsError(f"more than {MAX_RATINGS} ratings: split the exercise")
        target, rater = identifier(rating.target, "target", row), identifier(rating.rater, "rater", row)
        value = finite(rating.rating)
        if value is None:
            raise RatingsError(f"target {target}, rater {rater}: the rating {rating.rating!r} is not a finite number")
        if (target, rater) in cells:
            raise UnbalancedRatings([f"target {target} is rated more than once by rater {rater}"])
        cells[(target, rater)] = value
        raters.setdefault(rater)
        targets.setdefault(target)
    order = list(raters)
    out = []
    for i, first in enumerate(order):
        for second in order[i + 1:]:
            shared = [t for t in targets if (t, first) in cells and (t, second) in cells]
            if len(shared) < min_shared:
                out.append(PairResult((first, second), len(shared), None,
                                      f"not enough shared ratings ({len(shared)} of {min_shared} targets)"))
                continue
            table = np.array([[cells[(t, first)], cells[(t, second)]] for t in shared], dtype=np.float64)
            try:
                out.append(PairResult((first, second), len(shared), compute_matrix(table, shared, (first, second))))
            except RatingsError as exc:
                out.append(PairResult((first, second), len(shared), None, str(exc)))
    return tuple(out)


def compute(ratings: Iterable[Rating]) -> ICCResult:
    """The six ICCs of long ratings (target, rater, rating) forming a complete, balanced design."""
    matrix, targets, raters = to_matrix(ratings)
    return compute_matrix(matrix, targets, raters)
