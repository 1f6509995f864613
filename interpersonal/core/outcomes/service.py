"""Service-level NHS Talking Therapies outcome metrics over a :class:`Dataset`, per referral.

NHS Talking Therapies counts by **referral**: one referral is one pathway, possibly several
courses (steps: guided self-help at step 2 stepped up to CBT, IPT or DIT at step 3), and every
metric here is per referral over all its courses and contacts (DOMAIN.md §4, §6). The outcome
definitions — caseness, paired, reliable change, recovery, and which anxiety measure counts —
are :mod:`.rules`' (the one rule, shared with :func:`.course.course_outcome`), vectorised.

- **finished**: the referral has an ``end_date`` and at least 2 treatment contacts
  (``is_treatment``) with attendance code 5 or 6, over all its courses.
- **paired**: PHQ-9 and the anxiety measure each have a first and a last score (by
  ``score_date``) taken at different times. The anxiety measure is GAD-7 or, where the referral's
  ``problem_descriptor`` names an ADSM that is paired, that ADSM (rules.py; ``use_adsm=False``
  turns ADSMs off). Outcome counts are over **finished_paired** = finished and paired.
- **not_at_caseness**: neither first score at caseness. **recovered**: at caseness at the start,
  neither last score at caseness. **reliable_deterioration**: a reliable deterioration on either
  measure. **reliable_improvement**: a reliable improvement on one and no reliable deterioration.
  **no_reliable_change**: neither. **reliable_recovery**: recovered and reliable improvement.
  All direction-aware, with the cut-offs and reliable-change points of rules.py.
- **adsm_paired**: finished_paired referrals whose anxiety measure was an ADSM.
- **stepped_up**: finished referrals with a step-2 course followed by a step-3 course.
- **by_therapy**: a referral is placed under the therapy of its **last course with at least 2
  attended treatment contacts** (the step that treated it), else of its last course; courses are
  ordered by ``start_date`` (undated last), then ``step``, then ``course_id``. Contacts carry the
  course by ``course_id``; a contact without one counts for its referral but not for any one
  course. Without a courses table a referral is one course of its ``therapy``. The ``therapy``
  filter selects referrals by the same placement, so ``report(therapy=t)["overall"]`` equals
  ``report()["by_therapy"][t]``.
- **waited_6_weeks / waited_18_weeks**: the first attended treatment contact is within
  42 / 126 days (inclusive) of the referral date; over finished.
- Rates are fractions in [0, 1], None when the denominator is 0: ``recovery_rate`` and
  ``reliable_recovery_rate`` over finished_paired − not_at_caseness;
  ``reliable_improvement_rate``, ``reliable_deterioration_rate`` and
  ``no_reliable_change_rate`` over finished_paired; ``waited_*_rate`` and
  ``unplanned_ending_rate`` (end codes 47, 48) over finished; ``attendance_rate`` (codes
  5/6) and ``dna_rate`` (code 3) over treatment contacts with codes 2–7;
  ``mean_sessions`` = mean attended treatment contacts per finished referral.
- **Standards**: each rate with a national standard (standards.py) gets ``<rate>_target`` and
  ``<rate>_met`` (True/False, None without a rate), judged against the standard in force on the
  report's reference date (``until``, else the last ``end_date`` reported; for a month group,
  that month's last day). The standards used are listed under ``"standards"``.
- **Pre–post effect size** (PHQ-9 over finished_paired; GAD-7 over the finished_paired referrals
  whose GAD-7 is paired) : d = mean(first − last) /
  SD(first) (sample SDs throughout), the standardised mean change with the pre-treatment SD as
  standardiser, not bias-adjusted. 95% CI d ± 1.96·SE with the delta-method standard error of
  Bonett (2008, Psychological Methods 13(2):99–109) for a single-measurement standardiser, which
  does not assume equal pre and post variances: SE = sqrt(d²/(2(n − 1)) + SD(first − last)² /
  ((n − 1)·SD(first)²)) (as in Bonett's statpsych ``ci.stdmean.ps``, "Measurement 1
  standardizer"). Becker's (1988) SE, used before, assumes equal variances and undercovered
  (86%) when the post SD was 1.6 × the pre SD, as in services whose caseness cut-off narrows
  the baseline spread. Not given below :data:`MIN_PAIRED_FOR_EFFECT_SIZE` finished, paired courses: the reason is
  given instead (``*_effect_size_withheld``; :func:`effect_size`).
- **no_match** (in the report): when no referral passes the filters (provider, therapy,
  therapist) with any activity in the period (received, ended, or a treatment contact), a
  sentence saying so, rather than a page of zeros; else None.

Period: ``since``/``until`` (inclusive) select referrals *received* in the period for the
``referrals`` count, referrals *ended* in the period (by ``end_date``) for every finished
metric, and treatment contacts *dated* in the period for attendance and DNA rates.
Grouping by ``month`` uses the month of ``end_date`` ("YYYY-MM"): open referrals have no
month and appear only in ``overall``.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from . import rules as outcome_rules
from . import standards as outcome_standards
from .dataset import Dataset
from .rules import ANXIETY_MEASURE, DEPRESSION_MEASURE, MIN_TREATMENT_SESSIONS, OutcomeRules
from .standards import Standards

__all__ = ["ATTENDED_CODES", "COUNTS", "DNA_CODE", "GROUPINGS", "MIN_PAIRED_FOR_EFFECT_SIZE", "RATES",
           "UNPLANNED_END_CODES", "EffectSize", "courses", "effect_size", "funnel", "notes", "report", "stepped_up"]

ATTENDED_CODES = (5, 6)
DNA_CODE = 3
CONTACT_CODES = (2, 7)  # attendance codes counted in attendance and DNA rates, inclusive
UNPLANNED_END_CODES = (47, 48)
SIX_WEEKS_DAYS = 42
EIGHTEEN_WEEKS_DAYS = 126
LOW_INTENSITY_STEP, HIGH_INTENSITY_STEP = 2, 3
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
    "unplanned_endings", "treatment_contacts", "attended_contacts", "dna_contacts", "adsm_paired", "stepped_up",
)
RATES = (
    "recovery_rate", "reliable_recovery_rate", "reliable_improvement_rate", "reliable_deterioration_rate",
    "no_reliable_change_rate", "waited_6_weeks_rate", "waited_18_weeks_rate", "unplanned_ending_rate",
    "attendance_rate", "dna_rate",
)
_MEASURES = {"phq9": DEPRESSION_MEASURE, "gad7": ANXIETY_MEASURE}
_FLAGS = ("finished", "finished_paired", "not_at_caseness", "recovered", "reliable_improvement",
          "reliable_deterioration", "reliable_recovery", "no_reliable_change", "waited_6_weeks", "waited_18_weeks",
          "adsm_paired", "stepped_up")


def _in_period(column: str, since: date | None, until: date | None) -> pl.Expr:
    expr = pl.lit(True)
    if since is not None:
        expr = expr & (pl.col(column) >= since)
    if until is not None:
        expr = expr & (pl.col(column) <= until)
    return expr


def _scores_of(scores: pl.LazyFrame, measure: str, prefix: str) -> pl.LazyFrame:
    """Per referral: the first and last total of ``measure`` by score_date (ties: file order), and
    whether they pair (rules.first_and_last: the last taken later than the first).

    Without a sort: each score gets a key ordering it by (score_date, position in the file) — an
    Int128, the timestamp's microseconds shifted past the row number — and the first and last are
    the totals at the smallest and largest key (``min_by``/``max_by``), which the streaming engine
    aggregates in bounded memory (bench/outcomes.py: 0.5 GB rather than 1.1 GB for the PHQ-9 of
    1.2 M referrals)."""
    when = pl.col("score_date")
    key = when.dt.epoch("us").cast(pl.Int128) * (1 << 32) + pl.col("_row").cast(pl.Int128)
    return (
        scores.select("referral_id", "measure", "score", "score_date")
        .filter((pl.col("measure") == measure) & pl.col("score").is_not_null() & when.is_not_null())
        .with_row_index("_row")  # the order of this measure's scores in the file: all a tie needs
        .with_columns(key.alias("_order"))
        .group_by("referral_id")
        .agg(
            pl.col("score").min_by("_order").alias(f"{prefix}_first"),
            pl.col("score").max_by("_order").alias(f"{prefix}_last"),
            (when.max() > when.min()).alias(f"{prefix}_paired"),
        )
    )


def _course_placement(data: Dataset) -> pl.LazyFrame | None:
    """Per referral with courses: the therapy it is reported under and whether it stepped up."""
    if data.courses is None:
        return None
    attended = pl.col("is_treatment").fill_null(False) & pl.col("attendance_code").is_in(ATTENDED_CODES)
    per_course = (
        data.contacts.filter(attended & pl.col("course_id").is_not_null())
        .group_by("course_id").agg(pl.len().alias("_attended"))
        if data.has("contacts", "course_id") else None
    )
    courses = data.courses
    for column in ("step", "start_date"):
        if column not in courses.collect_schema():
            courses = courses.with_columns(pl.lit(None, dtype=pl.Int64 if column == "step" else pl.Date).alias(column))
    if per_course is not None:
        courses = courses.join(_one_at_a_time(per_course), on="course_id", how="left")
    else:
        courses = courses.with_columns(pl.lit(None, dtype=pl.UInt32).alias("_attended"))
    # Sorted once, then read in order within each referral (a group keeps its rows' order): a
    # sort_by inside the aggregation sorted 1.2 M tiny groups one by one.
    courses = courses.sort(["referral_id", "start_date", "step", "course_id"], nulls_last=[False, True, False, False])
    position = pl.int_range(pl.len())
    therapy, step = pl.col("therapy"), pl.col("step")
    return courses.group_by("referral_id").agg(
        pl.coalesce(therapy.filter(pl.col("_attended").fill_null(0) >= MIN_TREATMENT_SESSIONS).last(),
                    therapy.last()).alias("_course_therapy"),
        (position.filter(step == LOW_INTENSITY_STEP).min()
         < position.filter(step == HIGH_INTENSITY_STEP).max()).fill_null(False).alias("_stepped"),
    )


def stepped_up(steps: list[int | None]) -> bool:
    """Whether a referral's courses, in order (:func:`_course_placement`'s), stepped up: a step-2
    course followed by a step-3 course (the ``_stepped`` expression there, for one referral)."""
    low = [i for i, step in enumerate(steps) if step == LOW_INTENSITY_STEP]
    high = [i for i, step in enumerate(steps) if step == HIGH_INTENSITY_STEP]
    return bool(low and high) and min(low) < max(high)


def _one_at_a_time(frame: pl.LazyFrame, *, streaming: bool = True) -> pl.LazyFrame:
    """``frame`` worked out now, so that the big scans (contacts, each measure's scores, the
    courses' placement) run one after another rather than all at once; only their per-referral
    results are held for the joins. ``streaming``: by the streaming engine, for aggregations that
    do not depend on the order of rows within a group (the placement does: it is not)."""
    return frame.collect(engine="streaming" if streaming else "in-memory").lazy()


def _anxiety_choice(rules: OutcomeRules) -> pl.Expr:
    """The anxiety measure per referral (rules.anxiety_measure, vectorised): the first paired ADSM
    named for the longest matching problem-descriptor prefix, else GAD-7."""
    gad = pl.lit(rules.anxiety.id)
    code = pl.col("problem_descriptor").str.replace_all(r"\s", "").str.to_uppercase()
    chain: Any = None
    for prefix, ids in rules.descriptors:
        choice: pl.Expr = gad
        for mid in reversed(ids):
            choice = pl.when(pl.col(f"{mid}_paired")).then(pl.lit(mid)).otherwise(choice)
        chain = (pl.when if chain is None else chain.when)(code.str.starts_with(prefix)).then(choice)
    return gad if chain is None else chain.otherwise(gad)


def courses(
    data: Dataset,
    *,
    since: date | None = None,
    until: date | None = None,
    provider: str | None = None,
    therapy: str | None = None,
    therapist: str | None = None,
    rules: OutcomeRules | None = None,
    use_adsm: bool | None = None,
) -> pl.LazyFrame:
    """One row per referral (after the filters) with its outcome flags, as a lazy query.

    Columns: the referral's fields (``therapy`` as placed: module docstring), ``month``,
    ``received`` (referral_date in the period), ``in_period`` (received, ended in the period or a
    treatment contact in it), ``finished``, ``finished_paired``, ``not_at_caseness``,
    ``recovered``, ``reliable_improvement``, ``reliable_deterioration``, ``no_reliable_change``,
    ``reliable_recovery``, ``adsm_paired``, ``stepped_up``, ``waited_6_weeks``,
    ``waited_18_weeks``, ``unplanned_ending``, ``sessions``, the contact counts in the period, the
    first/last PHQ-9 and GAD-7, and ``anxiety_measure`` with its ``anxiety_first`` / ``anxiety_last``.
    """
    rules = rules or outcome_rules.current()
    if use_adsm is not None:
        rules = rules.with_adsm(use_adsm)
    adsm = rules.use_adsm and data.has("referrals", "problem_descriptor") and bool(rules.descriptors)
    referrals = data.referrals
    for column, value in (("provider", provider), ("therapist_id", therapist)):
        if value is not None:
            referrals = referrals.filter(pl.col(column) == value)
    placement = _course_placement(data)
    if placement is not None:
        placement = _one_at_a_time(placement, streaming=False)
        referrals = referrals.join(placement, on="referral_id", how="left").with_columns(
            pl.coalesce("_course_therapy", "therapy").alias("therapy"),
            pl.col("_stepped").fill_null(False),
        ).drop("_course_therapy")
    else:
        referrals = referrals.with_columns(pl.lit(False).alias("_stepped"))
    if therapy is not None:
        referrals = referrals.filter(pl.col("therapy") == therapy)

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
    measure_ids = list(rules.measure_ids if adsm else (DEPRESSION_MEASURE, ANXIETY_MEASURE))
    # Each per-referral aggregate is collected on its own, one after another, and only the small
    # results are joined: run as one plan, polars scans contacts and every measure's scores at
    # once, and at 1.2 M referrals with ADSMs the peak was 2.5 GB (bench/outcomes.py).
    frame = referrals.join(_one_at_a_time(contacts), on="referral_id", how="left")
    for mid in measure_ids:
        frame = frame.join(_one_at_a_time(_scores_of(data.scores, mid, mid)), on="referral_id", how="left")
    frame = frame.with_columns(
        pl.col("sessions", "treatment_contacts", "attended_contacts", "dna_contacts").fill_null(0),
        *(pl.col(f"{mid}_paired").fill_null(False) for mid in measure_ids),
    )

    gad = rules.anxiety
    if adsm:
        anx = pl.col("anxiety_measure")
        table = outcome_rules.rule_columns(rules)
        lookup = {c: dict(zip(table["measure"], table[c], strict=True)) for c in ("sign", "cutoff", "inclusive", "points")}
        frame = frame.with_columns(_anxiety_choice(rules).alias("anxiety_measure"))
        pick_first: Any = pl.when(anx == gad.id).then(pl.col(f"{gad.id}_first"))
        pick_last: Any = pl.when(anx == gad.id).then(pl.col(f"{gad.id}_last"))
        for mid in rules.adsms:
            pick_first = pick_first.when(anx == mid).then(pl.col(f"{mid}_first"))
            pick_last = pick_last.when(anx == mid).then(pl.col(f"{mid}_last"))
        frame = frame.with_columns(
            pick_first.alias("anxiety_first"), pick_last.alias("anxiety_last"),
            anx.replace_strict(lookup["sign"], return_dtype=pl.Float64).alias("_anx_sign"),
            anx.replace_strict(lookup["cutoff"], return_dtype=pl.Float64).alias("_anx_cutoff"),
            anx.replace_strict(lookup["inclusive"], return_dtype=pl.Boolean).alias("_anx_inclusive"),
            anx.replace_strict(lookup["points"], return_dtype=pl.Float64).alias("_anx_points"),
        )
        anx_paired = pl.when(anx == gad.id).then(pl.col(f"{gad.id}_paired")).otherwise(pl.lit(True))
        flags = outcome_rules.outcome_exprs(
            rules, pl.col("phq9_first"), pl.col("phq9_last"), pl.col("anxiety_first"), pl.col("anxiety_last"),
            pl.col("_anx_sign"), pl.col("_anx_cutoff"), pl.col("_anx_inclusive"), pl.col("_anx_points"))
    else:
        frame = frame.with_columns(
            pl.lit(gad.id).alias("anxiety_measure"),
            pl.col(f"{gad.id}_first").alias("anxiety_first"), pl.col(f"{gad.id}_last").alias("anxiety_last"),
        )
        anx_paired = pl.col(f"{gad.id}_paired")
        flags = outcome_rules.outcome_exprs(
            rules, pl.col("phq9_first"), pl.col("phq9_last"), pl.col("anxiety_first"), pl.col("anxiety_last"),
            pl.lit(float(gad.sign)), pl.lit(outcome_rules._cutoff(gad)), pl.lit(gad.inclusive),
            pl.lit(outcome_rules._points(gad)))

    finished = (
        pl.col("end_date").is_not_null()
        & _in_period("end_date", since, until)
        & (pl.col("sessions") >= MIN_TREATMENT_SESSIONS)
    )
    paired = pl.col(f"{DEPRESSION_MEASURE}_paired") & anx_paired
    wait = (pl.col("first_attended") - pl.col("referral_date")).dt.total_days()
    ended = pl.col("end_date").is_not_null() & _in_period("end_date", since, until)

    fp = pl.col("finished_paired")
    return (
        frame.with_columns(
            finished.fill_null(False).alias("finished"),
            (finished & paired).fill_null(False).alias("finished_paired"),
            _in_period("referral_date", since, until).fill_null(False).alias("received"),
            pl.col("end_date").dt.strftime("%Y-%m").alias("month"),
        )
        .with_columns(
            (fp & ~flags.caseness).alias("not_at_caseness"),
            (fp & flags.recovered).alias("recovered"),
            (fp & flags.reliable_improvement).alias("reliable_improvement"),
            (fp & flags.reliable_deterioration).alias("reliable_deterioration"),
            (fp & flags.no_reliable_change).alias("no_reliable_change"),
            (fp & flags.reliable_recovery).alias("reliable_recovery"),
            (fp & (pl.col("anxiety_measure") != gad.id)).alias("adsm_paired"),
            (pl.col("finished") & pl.col("_stepped")).alias("stepped_up"),
            (pl.col("finished") & (wait <= SIX_WEEKS_DAYS)).fill_null(False).alias("waited_6_weeks"),
            (pl.col("finished") & (wait <= EIGHTEEN_WEEKS_DAYS)).fill_null(False).alias("waited_18_weeks"),
            (pl.col("finished") & pl.col("end_code").is_in(UNPLANNED_END_CODES)).fill_null(False).alias("unplanned_ending"),
            (pl.col("received") | ended.fill_null(False) | (pl.col("treatment_contacts") > 0)).alias("in_period"),
            (fp & pl.col(f"{ANXIETY_MEASURE}_paired")).alias("_gad7_fp"),
        )
    )


def _aggregations() -> list[pl.Expr]:
    fin, fp = pl.col("finished"), pl.col("finished_paired")
    exprs = [
        pl.col("received").sum().alias("referrals"),
        *(pl.col(c).sum().alias(c) for c in (*_FLAGS, "treatment_contacts", "attended_contacts", "dna_contacts")),
        pl.col("unplanned_ending").sum().alias("unplanned_endings"),
        pl.col("sessions").filter(fin).mean().alias("mean_sessions"),
        pl.col("in_period").sum().alias("_in_period"),
        pl.col("end_date").filter(fin).max().alias("_last_end"),
        pl.col("_gad7_fp").sum().alias("_gad7_n"),
    ]
    for m in _MEASURES:
        among = fp if m == DEPRESSION_MEASURE else pl.col("_gad7_fp")
        first, last = pl.col(f"{m}_first").filter(among), pl.col(f"{m}_last").filter(among)
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


def _finish(row: dict[str, Any], in_force: dict[str, outcome_standards.Standard]) -> dict[str, Any]:
    """Counts as ints, rates, extras, standards and effect sizes from one aggregated row."""
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
        n = out["finished_paired"] if m == DEPRESSION_MEASURE else int(row["_gad7_n"] or 0)
        es = effect_size(n, row[f"_{m}_mean_change"], row[f"_{m}_sd_first"], row[f"_{m}_sd_change"])
        out[f"{m}_effect_size"] = es.d
        out[f"{m}_effect_size_ci_low"] = es.ci_low
        out[f"{m}_effect_size_ci_high"] = es.ci_high
        out[f"{m}_effect_size_withheld"] = es.withheld
    for rate, standard in in_force.items():
        out[f"{rate}_target"] = standard.target
        out[f"{rate}_met"] = standard.met(out[rate])
    return out


def _month_end(month: str) -> date:
    year, mon = (int(x) for x in month.split("-"))
    return date(year, mon, calendar.monthrange(year, mon)[1])


def _grouped(table: pl.DataFrame, column: str, standards: Standards, as_of: date) -> dict[str, dict[str, Any]]:
    rows = table.filter(pl.col(column).is_not_null()) if column == "month" else table.with_columns(pl.col(column).fill_null(UNKNOWN))
    agg = rows.group_by(column).agg(_aggregations()).sort(column)
    in_force = standards.in_force(as_of)
    return {
        str(r[column]): _finish(r, standards.in_force(_month_end(r[column])) if column == "month" else in_force)
        for r in agg.iter_rows(named=True)
    }


def _no_match(matched: int, filters: dict[str, Any]) -> str | None:
    if matched:
        return None
    given = {k: v for k, v in filters.items() if v is not None}
    if not given:
        return "The data set has no referrals."
    described = ", ".join(f"{k} {v.isoformat() if isinstance(v, date) else v}" for k, v in given.items())
    return f"No referral matches the filters ({described}): every count would be 0."


def report(
    data: Dataset,
    *,
    by: str | None = None,
    since: date | None = None,
    until: date | None = None,
    provider: str | None = None,
    therapy: str | None = None,
    therapist: str | None = None,
    rules: OutcomeRules | None = None,
    use_adsm: bool | None = None,
    standards: Standards | None = None,
) -> dict[str, Any]:
    """The service's outcome metrics (module docstring; DOMAIN.md §4).

    Returns ``{"overall": {...}, "by_therapy": {"dit": {...}, ...}}`` and, with ``by`` one
    of ``"therapist"``, ``"provider"``, ``"month"``, also ``"by_therapist"`` (etc.). Each
    object holds the counts :data:`COUNTS`, the rates :data:`RATES`, ``mean_sessions``,
    ``phq9_effect_size`` / ``gad7_effect_size`` with ``_ci_low`` / ``_ci_high`` and ``_withheld``
    (why there is none, or None), and ``<rate>_target`` / ``<rate>_met`` for each rate with a
    national standard. Group keys are sorted; a missing therapist, provider or therapy is grouped
    as ``"unknown"``. Also: ``"standards"`` (``as_of`` and the standards in force then),
    ``"rules"`` (whether ADSMs were used, and which settings are unconfirmed) and ``"no_match"``
    (None, or why every count is 0). ``rules``, ``use_adsm`` and ``standards`` override the rules
    and standards in force (rules.current(), standards.current()).
    """
    if by is not None and by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}; got {by!r}")
    rules = rules or outcome_rules.current()
    if use_adsm is not None:
        rules = rules.with_adsm(use_adsm)
    standards = standards or outcome_standards.current()
    keep = ["received", "in_period", *_FLAGS, "unplanned_ending", "sessions", "treatment_contacts", "attended_contacts",
            "dna_contacts", "phq9_first", "phq9_last", "gad7_first", "gad7_last", "_gad7_fp", "end_date",
            "therapy", "therapist_id", "provider", "month"]
    table = courses(data, since=since, until=until, provider=provider, therapy=therapy, therapist=therapist,
                    rules=rules).select(keep).collect()
    overall_row = table.select(_aggregations()).row(0, named=True)
    as_of = until or overall_row["_last_end"] or datetime.now(UTC).date()
    result: dict[str, Any] = {"overall": _finish(overall_row, standards.in_force(as_of))}
    for grouping in dict.fromkeys(("therapy", by)):
        if grouping is not None:
            result[f"by_{grouping}"] = _grouped(table, GROUPINGS[grouping], standards, as_of)
    result.update(notes(rules, standards, as_of, int(overall_row["_in_period"] or 0), {
        "provider": provider, "therapy": therapy, "therapist": therapist, "since": since, "until": until}))
    return result


def notes(rules: OutcomeRules, standards: Standards, as_of: date, matched: int,
          filters: dict[str, Any]) -> dict[str, Any]:
    """A report's ``"standards"``, ``"rules"`` and ``"no_match"`` (:func:`report`), from the rules
    and standards used, the reference date, and how many referrals had activity in the period."""
    return {
        "standards": {"as_of": as_of.isoformat(), "in_force": [s.to_dict() for s in standards.in_force(as_of).values()]},
        "rules": {
            "use_adsm": rules.use_adsm,
            "unconfirmed": [f"{r.id}.{name}" for r in (rules.depression, rules.anxiety,
                                                         *(rules.adsms.values() if rules.use_adsm else ()))
                            for name in r.unconfirmed()],
        },
        "no_match": _no_match(matched, filters),
    }


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
