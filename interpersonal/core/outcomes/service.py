"""Service-level NHS Talking Therapies outcome metrics over a :class:`Dataset`.

Definitions (DOMAIN.md §4, NHS Talking Therapies Manual; docs/outcomes.md). Cut-offs and
reliable-change points are read from ``interpersonal.core.measures`` (PHQ-9 caseness 10,
GAD-7 8; reliable change 6 and 4 points), never written here.

- **finished**: the referral has an ``end_date`` and at least 2 treatment contacts
  (``is_treatment``) with attendance code 5 or 6.
- **paired**: at least 2 PHQ-9 and at least 2 GAD-7 scores; first and last by
  ``score_date``. Outcome counts are over **finished_paired** = finished and paired.
- **not_at_caseness**: first PHQ-9 below its cut-off and first GAD-7 below its cut-off.
- **recovered**: at caseness at the start, last PHQ-9 and last GAD-7 below their cut-offs.
- **reliable_deterioration**: PHQ-9 rose by ≥ 6 or GAD-7 rose by ≥ 4.
- **reliable_improvement**: PHQ-9 fell by ≥ 6 or GAD-7 fell by ≥ 4, and not reliable
  deterioration. **no_reliable_change**: neither. **reliable_recovery**: recovered and
  reliable improvement.
- **waited_6_weeks / waited_18_weeks**: the first attended treatment contact is within
  42 / 126 days (inclusive) of the referral date; over finished.
- Rates are fractions in [0, 1], None when the denominator is 0: ``recovery_rate`` and
  ``reliable_recovery_rate`` over finished_paired − not_at_caseness;
  ``reliable_improvement_rate``, ``reliable_deterioration_rate`` and
  ``no_reliable_change_rate`` over finished_paired; ``waited_*_rate`` and
  ``unplanned_ending_rate`` (end codes 47, 48) over finished; ``attendance_rate`` (codes
  5/6) and ``dna_rate`` (code 3) over treatment contacts with codes 2–7;
  ``mean_sessions`` = mean attended treatment contacts per finished course.
- **Pre–post effect size** (PHQ-9, GAD-7) over finished_paired: d = mean(first − last) /
  SD(first) (sample SDs throughout), the standardised mean change with the pre-treatment SD as
  standardiser, not bias-adjusted. 95% CI d ± 1.96·SE with the delta-method standard error of
  Bonett (2008, Psychological Methods 13(2):99–109) for a single-measurement standardiser, which
  does not assume equal pre and post variances: SE = sqrt(d²/(2(n − 1)) + SD(first − last)² /
  ((n − 1)·SD(first)²)) (as in Bonett's statpsych ``ci.stdmean.ps``, "Measurement 1
  standardizer"). Becker's (1988) SE, used before, assumes equal variances and undercovered
  (86%) when the post SD was 1.6 × the pre SD, as in services whose caseness cut-off narrows
  the baseline spread. Not given below :data:`MIN_PAIRED_FOR_EFFECT_SIZE` finished, paired courses: the reason is
  given instead (``*_effect_size_withheld``; :func:`effect_size`).

Period: ``since``/``until`` (inclusive) select referrals *received* in the period for the
``referrals`` count, referrals *ended* in the period (by ``end_date``) for every finished
metric, and treatment contacts *dated* in the period for attendance and DNA rates.
Grouping by ``month`` uses the month of ``end_date`` ("YYYY-MM"): open referrals have no
month and appear only in ``overall``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from interpersonal.core import measures

from .course import ANXIETY_MEASURE, DEPRESSION_MEASURE
from .dataset import Dataset

__all__ = ["ATTENDED_CODES", "COUNTS", "DNA_CODE", "GROUPINGS", "MIN_PAIRED_FOR_EFFECT_SIZE", "RATES",
           "UNPLANNED_END_CODES", "EffectSize", "effect_size", "funnel", "report"]

ATTENDED_CODES = (5, 6)
DNA_CODE = 3
CONTACT_CODES = (2, 7)  # attendance codes counted in attendance and DNA rates, inclusive
UNPLANNED_END_CODES = (47, 48)
SIX_WEEKS_DAYS = 42
EIGHTEEN_WEEKS_DAYS = 126
MIN_TREATMENT_SESSIONS = 2
MIN_SCORES = 2
Z_95 = 1.96
MIN_PAIRED_FOR_EFFECT_SIZE = 20
"""The fewest finished, paired courses for which a pre–post d and its 95% CI are shown.

Bonett's (2008) standard error is a large-sample (delta-method) approximation, and d is biased
upwards in small samples (Morris 2000, Br J Math Stat Psychol 53:17–29; about 3/(4n − 5)·d). On
simulated bivariate-normal data with known truth (tests/core/outcomes/test_effect_size.py: pre SD
1, post SD 0.6, 1 or 1.6, correlation 0.3–0.8, true d 0.5–1.2; 4 000 samples each) the nominal 95%
interval covered the true d in 94–96% of samples already at n = 5, 95% at n = 10 and 20, and
94–96% at n = 50; but d overstated the true change by 21–29% at n = 5, 8–11% at n = 10, 4–5% at
n = 20 and 1–2% at n = 50. 20 stays the minimum, now for the bias rather than the coverage:
below it the figure shown overstates the service's change by more than 5% and a single course
moves it a long way, so neither d nor its interval is shown; the reason is."""
Z_998 = 3.09

GROUPINGS = {"therapy": "therapy", "therapist": "therapist_id", "provider": "provider", "month": "month"}
UNKNOWN = "unknown"

COUNTS = (
    "referrals", "finished", "finished_paired", "not_at_caseness", "recovered", "reliable_improvement",
    "reliable_deterioration", "reliable_recovery", "no_reliable_change", "waited_6_weeks", "waited_18_weeks",
    "unplanned_endings", "treatment_contacts", "attended_contacts", "dna_contacts",
)
RATES = (
    "recovery_rate", "reliable_recovery_rate", "reliable_improvement_rate", "reliable_deterioration_rate",
    "no_reliable_change_rate", "waited_6_weeks_rate", "waited_18_weeks_rate", "unplanned_ending_rate",
    "attendance_rate", "dna_rate",
)
_MEASURES = {"phq9": DEPRESSION_MEASURE, "gad7": ANXIETY_MEASURE}


def _threshold(measure: str) -> measures.Threshold:
    caseness = measures.get(measure).caseness
    if caseness is None:  # pragma: no cover - the shipped PHQ-9 and GAD-7 define one
        raise measures.DefinitionError(measure, "caseness", "is needed for NHS Talking Therapies outcomes")
    return caseness


def _points(measure: str) -> float:
    rc = measures.get(measure).reliable_change
    if rc is None:  # pragma: no cover - the shipped PHQ-9 and GAD-7 define one
        raise measures.DefinitionError(measure, "reliable_change", "is needed for NHS Talking Therapies outcomes")
    return rc.points


def _meets(expr: pl.Expr, measure: str) -> pl.Expr:
    t = _threshold(measure)
    return expr >= t.value if t.comparison == "at_or_above" else expr <= t.value


def _in_period(column: str, since: date | None, until: date | None) -> pl.Expr:
    expr = pl.lit(True)
    if since is not None:
        expr = expr & (pl.col(column) >= since)
    if until is not None:
        expr = expr & (pl.col(column) <= until)
    return expr


def _scores_of(scores: pl.LazyFrame, measure: str, prefix: str) -> pl.LazyFrame:
    """Per referral: the count, first and last total of ``measure`` by score_date."""
    by_date = pl.col("score").sort_by("score_date")
    return (
        scores.filter((pl.col("measure") == measure) & pl.col("score").is_not_null() & pl.col("score_date").is_not_null())
        .group_by("referral_id")
        .agg(pl.len().alias(f"{prefix}_n"), by_date.first().alias(f"{prefix}_first"), by_date.last().alias(f"{prefix}_last"))
    )


def courses(
    data: Dataset,
    *,
    since: date | None = None,
    until: date | None = None,
    provider: str | None = None,
    therapy: str | None = None,
    therapist: str | None = None,
) -> pl.LazyFrame:
    """One row per referral (after the filters) with its outcome flags, as a lazy query.

    Columns: the referral's fields, ``month``, ``received`` (referral_date in the period),
    ``finished``, ``finished_paired``, ``not_at_caseness``, ``recovered``,
    ``reliable_improvement``, ``reliable_deterioration``, ``no_reliable_change``,
    ``reliable_recovery``, ``waited_6_weeks``, ``waited_18_weeks``, ``unplanned_ending``,
    ``sessions``, the contact counts in the period, and the first/last PHQ-9 and GAD-7.
    """
    referrals = data.referrals
    for column, value in (("provider", provider), ("therapy", therapy), ("therapist_id", therapist)):
        if value is not None:
            referrals = referrals.filter(pl.col(column) == value)

    code, treatment = pl.col("attendance_code"), pl.col("is_treatment").fill_null(False)
    attended = treatment & code.is_in(ATTENDED_CODES)
    counted = treatment & code.is_between(*CONTACT_CODES) & _in_period("contact_date", since, until)
    contacts = data.contacts.group_by("referral_id").agg(
        attended.sum().cast(pl.Int64).alias("sessions"),
        pl.col("contact_date").filter(attended).min().alias("first_attended"),
        counted.sum().cast(pl.Int64).alias("treatment_contacts"),
        (counted & code.is_in(ATTENDED_CODES)).sum().cast(pl.Int64).alias("attended_contacts"),
        (counted & (code == DNA_CODE)).sum().cast(pl.Int64).alias("dna_contacts"),
    )
    frame = (
        referrals.join(contacts, on="referral_id", how="left")
        .join(_scores_of(data.scores, DEPRESSION_MEASURE, "phq9"), on="referral_id", how="left")
        .join(_scores_of(data.scores, ANXIETY_MEASURE, "gad7"), on="referral_id", how="left")
        .with_columns(pl.col("sessions", "treatment_contacts", "attended_contacts", "dna_contacts", "phq9_n", "gad7_n").fill_null(0))
    )

    phq_first, phq_last, gad_first, gad_last = (pl.col(f"{m}_{w}") for m in _MEASURES for w in ("first", "last"))
    phq_pts, gad_pts = _points(DEPRESSION_MEASURE), _points(ANXIETY_MEASURE)
    finished = (
        pl.col("end_date").is_not_null()
        & _in_period("end_date", since, until)
        & (pl.col("sessions") >= MIN_TREATMENT_SESSIONS)
    )
    paired = (pl.col("phq9_n") >= MIN_SCORES) & (pl.col("gad7_n") >= MIN_SCORES)
    caseness = _meets(phq_first, DEPRESSION_MEASURE) | _meets(gad_first, ANXIETY_MEASURE)
    below_at_end = ~_meets(phq_last, DEPRESSION_MEASURE) & ~_meets(gad_last, ANXIETY_MEASURE)
    deteriorated = (phq_last - phq_first >= phq_pts) | (gad_last - gad_first >= gad_pts)
    improved = ((phq_first - phq_last >= phq_pts) | (gad_first - gad_last >= gad_pts)) & ~deteriorated
    wait = (pl.col("first_attended") - pl.col("referral_date")).dt.total_days()

    fp = pl.col("finished_paired")
    return (
        frame.with_columns(
            finished.fill_null(False).alias("finished"),
            (finished & paired).fill_null(False).alias("finished_paired"),
            _in_period("referral_date", since, until).fill_null(False).alias("received"),
            pl.col("end_date").dt.strftime("%Y-%m").alias("month"),
        )
        .with_columns(
            (fp & ~caseness).alias("not_at_caseness"),
            (fp & caseness & below_at_end).alias("recovered"),
            (fp & improved).alias("reliable_improvement"),
            (fp & deteriorated).alias("reliable_deterioration"),
            (fp & ~improved & ~deteriorated).alias("no_reliable_change"),
            (pl.col("finished") & (wait <= SIX_WEEKS_DAYS)).fill_null(False).alias("waited_6_weeks"),
            (pl.col("finished") & (wait <= EIGHTEEN_WEEKS_DAYS)).fill_null(False).alias("waited_18_weeks"),
            (pl.col("finished") & pl.col("end_code").is_in(UNPLANNED_END_CODES)).fill_null(False).alias("unplanned_ending"),
        )
        .with_columns((pl.col("recovered") & pl.col("reliable_improvement")).alias("reliable_recovery"))
    )


def _aggregations() -> list[pl.Expr]:
    fin, fp = pl.col("finished"), pl.col("finished_paired")
    exprs = [
        pl.col("received").sum().alias("referrals"),
        *(pl.col(c).sum().alias(c) for c in (
            "finished", "finished_paired", "not_at_caseness", "recovered", "reliable_improvement",
            "reliable_deterioration", "reliable_recovery", "no_reliable_change", "waited_6_weeks", "waited_18_weeks",
            "treatment_contacts", "attended_contacts", "dna_contacts",
        )),
        pl.col("unplanned_ending").sum().alias("unplanned_endings"),
        pl.col("sessions").filter(fin).mean().alias("mean_sessions"),
    ]
    for m in _MEASURES:
        first, last = pl.col(f"{m}_first").filter(fp), pl.col(f"{m}_last").filter(fp)
        exprs += [
            (first - last).mean().alias(f"_{m}_mean_change"),
            first.std().alias(f"_{m}_sd_first"),
            (first - last).std().alias(f"_{m}_sd_change"),
        ]
    return exprs


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True, slots=True)
class EffectSize:
    """A pre–post d with its 95% CI, or None and ``withheld``: why there is none."""

    d: float | None
    ci_low: float | None
    ci_high: float | None
    withheld: str | None


def effect_size(n: int, mean_change: float | None, sd_first: float | None, sd_change: float | None) -> EffectSize:
    """d = mean(first − last) / SD(first) over ``n`` paired courses, with Bonett's (2008) 95% CI
    from the SD of the paired changes ``sd_change`` (module docstring); none below
    :data:`MIN_PAIRED_FOR_EFFECT_SIZE` courses, or when the first scores do not vary (SD 0: d is
    undefined)."""
    if n < MIN_PAIRED_FOR_EFFECT_SIZE:
        return EffectSize(None, None, None, (
            f"Too few finished, paired courses ({n}) for an effect size: at least "
            f"{MIN_PAIRED_FOR_EFFECT_SIZE} are needed for its confidence interval to be trusted."))
    if mean_change is None or not sd_first or math.isnan(sd_first):
        return EffectSize(None, None, None, "The first scores do not vary, so an effect size cannot be worked out.")
    d = mean_change / sd_first
    if sd_change is None or math.isnan(sd_change):
        return EffectSize(d, None, None, None)
    se = math.sqrt(d * d / (2 * (n - 1)) + sd_change * sd_change / ((n - 1) * sd_first * sd_first))
    return EffectSize(d, d - Z_95 * se, d + Z_95 * se, None)


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    """Counts as ints, rates, extras and effect sizes from one aggregated row."""
    out: dict[str, Any] = {c: int(row[c] or 0) for c in COUNTS}
    eligible = out["finished_paired"] - out["not_at_caseness"]
    out["recovery_rate"] = _rate(out["recovered"], eligible)
    out["reliable_recovery_rate"] = _rate(out["reliable_recovery"], eligible)
    out["reliable_improvement_rate"] = _rate(out["reliable_improvement"], out["finished_paired"])
    out["reliable_deterioration_rate"] = _rate(out["reliable_deterioration"], out["finished_paired"])
    out["no_reliable_change_rate"] = _rate(out["no_reliable_change"], out["finished_paired"])
    out["waited_6_weeks_rate"] = _rate(out["waited_6_weeks"], out["finished"])
    out["waited_18_weeks_rate"] = _rate(out["waited_18_weeks"], out["finished"])
    out["unplanned_ending_rate"] = _rate(out["unplanned_endings"], out["finished"])
    out["attendance_rate"] = _rate(out["attended_contacts"], out["treatment_contacts"])
    out["dna_rate"] = _rate(out["dna_contacts"], out["treatment_contacts"])
    out["mean_sessions"] = row["mean_sessions"] if out["finished"] else None
    for m in _MEASURES:
        es = effect_size(out["finished_paired"], row[f"_{m}_mean_change"], row[f"_{m}_sd_first"],
                         row[f"_{m}_sd_change"])
        out[f"{m}_effect_size"] = es.d
        out[f"{m}_effect_size_ci_low"] = es.ci_low
        out[f"{m}_effect_size_ci_high"] = es.ci_high
        out[f"{m}_effect_size_withheld"] = es.withheld
    return out


def _grouped(table: pl.DataFrame, column: str) -> dict[str, dict[str, Any]]:
    rows = table.filter(pl.col(column).is_not_null()) if column == "month" else table.with_columns(pl.col(column).fill_null(UNKNOWN))
    agg = rows.group_by(column).agg(_aggregations()).sort(column)
    return {str(r[column]): _finish(r) for r in agg.iter_rows(named=True)}


def report(
    data: Dataset,
    *,
    by: str | None = None,
    since: date | None = None,
    until: date | None = None,
    provider: str | None = None,
    therapy: str | None = None,
    therapist: str | None = None,
) -> dict[str, Any]:
    """The service's outcome metrics (module docstring; DOMAIN.md §4).

    Returns ``{"overall": {...}, "by_therapy": {"dit": {...}, ...}}`` and, with ``by`` one
    of ``"therapist"``, ``"provider"``, ``"month"``, also ``"by_therapist"`` (etc.). Each
    object holds the counts :data:`COUNTS`, the rates :data:`RATES`, ``mean_sessions`` and
    ``phq9_effect_size`` / ``gad7_effect_size`` with ``_ci_low`` / ``_ci_high`` and ``_withheld``
    (why there is none, or None). Group keys
    are sorted; a missing therapist, provider or therapy is grouped as ``"unknown"``.
    """
    if by is not None and by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}; got {by!r}")
    keep = ["received", "finished", "finished_paired", "not_at_caseness", "recovered", "reliable_improvement",
            "reliable_deterioration", "reliable_recovery", "no_reliable_change", "waited_6_weeks", "waited_18_weeks",
            "unplanned_ending", "sessions", "treatment_contacts", "attended_contacts", "dna_contacts",
            "phq9_first", "phq9_last", "gad7_first", "gad7_last", "therapy", "therapist_id", "provider", "month"]
    table = courses(data, since=since, until=until, provider=provider, therapy=therapy, therapist=therapist).select(keep).collect()
    result: dict[str, Any] = {"overall": _finish(table.select(_aggregations()).row(0, named=True))}
    for grouping in dict.fromkeys(("therapy", by)):
        if grouping is not None:
            result[f"by_{grouping}"] = _grouped(table, GROUPINGS[grouping])
    return result


def control_limits(p: float, n: int, z: float) -> tuple[float, float]:
    """Binomial control limits p ± z·sqrt(p(1 − p)/n) (normal approximation), clipped to [0, 1]."""
    half = z * math.sqrt(p * (1 - p) / n)
    return max(0.0, p - half), min(1.0, p + half)


def funnel(data: Dataset, **filters: Any) -> list[dict[str, Any]]:
    """Funnel-plot rows for the recovery rate, one per therapist (sorted by therapist_id).

    Each row: ``therapist_id``, ``finished_eligible`` (finished_paired − not_at_caseness,
    the recovery denominator), ``recovered``, ``rate`` (None at 0), ``mean`` (the service's
    recovery rate over all therapists), and control limits at that therapist's n:
    ``lower_95``/``upper_95`` (z = 1.96) and ``lower_998``/``upper_998`` (z = 3.09), from
    :func:`control_limits`; limits are None when n is 0 or the service has no eligible
    course. ``filters`` are those of :func:`report` (``since``, ``until``, ``provider``,
    ``therapy``, ``therapist``).
    """
    table = (
        courses(data, **filters)
        .with_columns(pl.col("therapist_id").fill_null(UNKNOWN))
        .group_by("therapist_id")
        .agg(
            (pl.col("finished_paired") & ~pl.col("not_at_caseness")).sum().cast(pl.Int64).alias("finished_eligible"),
            pl.col("recovered").sum().cast(pl.Int64).alias("recovered"),
        )
        .sort("therapist_id")
        .collect()
    )
    total_n, total_r = int(table["finished_eligible"].sum()), int(table["recovered"].sum())
    mean = _rate(total_r, total_n)
    rows: list[dict[str, Any]] = []
    for tid, n, r in table.iter_rows():
        row: dict[str, Any] = {"therapist_id": tid, "finished_eligible": n, "recovered": r, "rate": _rate(r, n), "mean": mean}
        for label, z in (("95", Z_95), ("998", Z_998)):
            lo, hi = control_limits(mean, n, z) if mean is not None and n else (None, None)
            row[f"lower_{label}"], row[f"upper_{label}"] = lo, hi
        rows.append(row)
    return rows
