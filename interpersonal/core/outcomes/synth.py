"""A realistic synthetic NHS Talking Therapies dataset (issue 6), at any scale.

``generate(courses=..., seed=..., out=...)`` writes ``referrals.parquet``, ``contacts.parquet`` and
``scores.parquet`` to ``out`` (the layout ``dataset.read`` expects). Deterministic by seed (one numpy
``Generator``), vectorised, and written in chunks of ``CHUNK`` courses, so 1.2 million courses
(~20 million scores) take well under a minute and memory stays near one chunk's worth.

The shape follows DOMAIN.md §4: baseline PHQ-9 ~ N(16, 5) and GAD-7 ~ N(13, 5) correlated
(~10% below caseness); a therapy mix of dit, ipt, ipt_brief, cbt, lit; ~20 providers with a
therapist per ~40 courses; referrals over two years; waits gamma-distributed (median ~3–4 weeks)
with a long tail past 18 weeks; an assessment (``is_treatment`` false) before treatment;
12–20 planned sessions (lit 6–8); ~12% of appointments cancelled or not attended (codes 2, 3, 4,
7); dropouts ended early (47/48); courses whose end falls after the extract date still open; and a
PHQ-9 and GAD-7 per attended treatment session, moving toward a therapy-specific effect with noise
(some deteriorate). Scores are floats holding whole numbers, as the questionnaires score.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

CHUNK = 100_000
"""Courses generated and written per step; fixed, so the output depends on ``seed`` alone."""

THERAPIES = ("dit", "ipt", "ipt_brief", "cbt", "lit")
THERAPY_SHARE = (0.12, 0.14, 0.08, 0.46, 0.20)
THERAPY_EFFECT = (0.55, 0.55, 0.50, 0.57, 0.48)
"""Mean fraction of the baseline score lost by the planned end of treatment, per therapy."""
THERAPY_DROPOUT = (0.22, 0.22, 0.18, 0.25, 0.20)
N_PROVIDERS = 20
COURSES_PER_THERAPIST = 40
START = dt.date(2024, 4, 1)
REFERRAL_DAYS = 730
EXTRACT = START + dt.timedelta(days=REFERRAL_DAYS + 45)
"""The extract date: contacts after it have not happened, and courses not ended by it are open."""
MISSED_CODES = np.array([2, 3, 4, 7])
MISSED_SHARE = np.array([0.35, 0.40, 0.20, 0.05])
ASSESSMENT_ONLY = 0.15
"""Share of referrals ended after assessment (referred on, code 13, or declined, code 12)."""

REFERRALS_SCHEMA = pl.Schema({
    "referral_id": pl.String, "patient_id": pl.String, "provider": pl.String, "therapist_id": pl.String,
    "therapy": pl.String, "referral_date": pl.Date, "end_date": pl.Date, "end_code": pl.Int64,
})
CONTACTS_SCHEMA = pl.Schema({
    "referral_id": pl.String, "contact_date": pl.Date, "attendance_code": pl.Int64, "is_treatment": pl.Boolean,
})
SCORES_SCHEMA = pl.Schema({
    "referral_id": pl.String(), "measure": pl.String(), "score_date": pl.Datetime(time_unit="us"), "score": pl.Float64(),
})
FILES = ("referrals", "contacts", "scores")


def generate(*, courses: int, seed: int, out: Path, progress: Callable[[int, int], None] | None = None) -> None:
    """Write ``courses`` synthetic referrals (and their contacts and scores) to ``out``."""
    if courses < 0:
        raise ValueError("courses must be ≥ 0")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_therapists = max(N_PROVIDERS, -(-courses // COURSES_PER_THERAPIST))
    provider_share = rng.dirichlet(np.full(N_PROVIDERS, 4.0))
    parts: dict[str, list[Path]] = {name: [] for name in FILES}
    with tempfile.TemporaryDirectory(prefix=".synth-", dir=out) as tmp:
        for first in range(0, courses, CHUNK):
            n = min(CHUNK, courses - first)
            frames = _chunk(rng, first, n, n_therapists, provider_share)
            for name, frame in zip(FILES, frames, strict=True):
                path = Path(tmp) / f"{name}-{first:010d}.parquet"
                frame.write_parquet(path, statistics=False)
                parts[name].append(path)
            if progress is not None:
                progress(first + n, courses)
        schemas = (REFERRALS_SCHEMA, CONTACTS_SCHEMA, SCORES_SCHEMA)
        for name, schema in zip(FILES, schemas, strict=True):
            target = out / f"{name}.parquet"
            if parts[name]:
                pl.scan_parquet(parts[name]).sink_parquet(target)
            else:
                pl.DataFrame(schema=schema).write_parquet(target)
        shutil.rmtree(tmp, ignore_errors=True)
    if progress is not None and courses == 0:
        progress(0, 0)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    return pl.select(pl.format(prefix + "{}", pl.lit(pl.Series(numbers)).cast(pl.String).str.zfill(width))).to_series()


def _chunk(
    rng: np.random.Generator, first: int, n: int, n_therapists: int, provider_share: np.ndarray,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    idx = np.arange(first, first + n, dtype=np.int64)

    # --- referrals: who, where, which therapy, when ----------------------------------------------
    therapy = rng.choice(len(THERAPIES), size=n, p=THERAPY_SHARE)
    # ~8% of referrals are a returning patient's (an earlier patient number).
    returning = rng.random(n) < 0.08
    patient = np.where(returning, rng.integers(0, max(first + n, 1), size=n), idx)
    therapist = rng.integers(0, n_therapists, size=n)
    provider = np.searchsorted(np.cumsum(provider_share), (therapist * 0.618034) % 1.0, side="right")
    provider = np.minimum(provider, N_PROVIDERS - 1)
    referral_day = rng.integers(0, REFERRAL_DAYS, size=n)

    # --- waits: assessment, then treatment; gamma with a long tail ------------------------------
    wait = rng.gamma(2.0, 13.0, size=n)  # median ~22 days to the first treatment session
    long_tail = rng.random(n) < 0.08
    wait = np.where(long_tail, 60 + rng.gamma(2.0, 40.0, size=n), wait)
    wait = np.maximum(np.rint(wait), 2).astype(np.int64)
    assess_day = referral_day + np.maximum(1, (wait * rng.uniform(0.2, 0.7, size=n)).astype(np.int64))
    assess_day = np.minimum(assess_day, referral_day + wait - 1)
    treat_day = referral_day + wait

    # --- sessions: planned by therapy, dropouts, missed appointments ------------------------------
    lit = therapy == THERAPIES.index("lit")
    planned = np.where(lit, rng.integers(6, 9, size=n), rng.integers(12, 21, size=n))
    assessment_only = rng.random(n) < ASSESSMENT_ONLY
    dropout = ~assessment_only & (rng.random(n) < np.asarray(THERAPY_DROPOUT)[therapy])
    attended = np.where(dropout, rng.integers(0, np.maximum(planned // 2, 2)), planned)
    attended = np.where(assessment_only, 0, attended)
    missed = np.where(attended > 0, rng.negative_binomial(np.maximum(attended, 1), 0.88), 0)
    missed = missed + (dropout & (rng.random(n) < 0.6))  # a dropout's last appointment is often missed
    appointments = attended + missed

    # --- baseline severity and the course's trajectory -------------------------------------------
    z1, z2 = rng.standard_normal(n), rng.standard_normal(n)
    phq0 = np.clip(16 + 5 * z1, 0, 27)
    gad0 = np.clip(13 + 5 * (0.7 * z1 + 0.714 * z2), 0, 21)
    effect = rng.normal(np.asarray(THERAPY_EFFECT)[therapy], 0.35)
    effect = np.clip(effect, -0.6, 0.95)  # below 0: the course deteriorates
    rate = rng.uniform(0.15, 0.35, size=n)

    # --- contacts: one assessment, then the treatment appointments ------------------------------
    rows = 1 + appointments
    course = np.repeat(np.arange(n), rows)
    starts = np.cumsum(rows) - rows
    k = np.arange(course.size) - np.repeat(starts, rows)  # 0 = the assessment, 1.. = appointments
    is_treatment = k > 0
    # Which appointments were missed: the ``missed`` lowest random keys within each course, except
    # that a completer's last appointment is attended (the course ends on a session).
    key = rng.random(course.size)
    last = k == np.repeat(rows - 1, rows)
    key = np.where(~is_treatment, -1.0, np.where(last & ~np.repeat(dropout, rows), 2.0, key))
    order = np.lexsort((key, course))
    rank = np.empty(course.size, dtype=np.int64)
    rank[order] = np.arange(course.size) - np.repeat(starts, rows)  # rank 0 is the assessment
    missed_here = is_treatment & (rank <= np.repeat(missed, rows))
    gap = np.where(is_treatment, rng.integers(5, 10, size=course.size), 0)  # weekly-ish, never same day
    gap = np.where(k == 1, 0, gap)
    offset = np.cumsum(gap)
    offset = offset - np.repeat(offset[starts], rows)
    day = np.where(is_treatment, np.repeat(treat_day, rows) + offset, np.repeat(assess_day, rows))
    code = np.where(
        missed_here, rng.choice(MISSED_CODES, size=course.size, p=MISSED_SHARE),
        np.where(rng.random(course.size) < 0.9, 5, 6),
    )
    extract_day = (EXTRACT - START).days
    happened = day <= extract_day

    # --- the end of each course -------------------------------------------------------------------
    last_day = np.maximum.reduceat(day, starts) if n else np.zeros(0, dtype=np.int64)
    end_day = last_day + rng.integers(0, 15, size=n)
    is_open = end_day > extract_day
    end_code = np.where(
        assessment_only, np.where(rng.random(n) < 0.7, 13, 12),
        np.where(dropout, np.where(rng.random(n) < 0.5, 47, 48), 46),
    )

    # --- scores: PHQ-9 and GAD-7 at every attended treatment session -----------------------------
    att = is_treatment & ~missed_here & happened
    # the attended session's number (1..attended) within its course
    session = np.cumsum(att)
    session = session - np.repeat(np.concatenate(([0], session[starts[1:] - 1])) if n else session[:0], rows)
    sc = course[att]
    progress_frac = (1 - np.exp(-rate[sc] * (session[att] - 1))) / (1 - np.exp(-rate[sc] * (planned[sc] - 1)))
    drift = effect[sc] * progress_frac
    m = sc.size
    phq = np.clip(np.rint(phq0[sc] * (1 - drift) + rng.normal(0, 2.0, size=m)), 0, 27)
    gad = np.clip(np.rint(gad0[sc] * (1 - drift) + rng.normal(0, 1.8, size=m)), 0, 21)
    minute = rng.integers(8 * 60, 18 * 60, size=m)
    stamp = (day[att] * 1440 + minute) * 60_000_000  # microseconds since START

    # --- frames -----------------------------------------------------------------------------------
    start = np.datetime64(START.isoformat(), "D")
    rid = _ids("R", idx, 8)
    referrals = pl.DataFrame({
        "referral_id": rid,
        "patient_id": _ids("P", patient, 8),
        "provider": _ids("prov-", provider + 1, 2),
        "therapist_id": _ids("T", therapist + 1, 6),
        "therapy": pl.Series(np.asarray(THERAPIES)[therapy]),
        "referral_date": pl.Series(start + referral_day),
        "end_date": pl.Series(start + end_day).set(pl.Series(is_open), None),
        "end_code": pl.Series(end_code).set(pl.Series(is_open), None),
    }).cast(REFERRALS_SCHEMA)
    contacts = pl.DataFrame({
        "referral_id": rid.gather(course[happened]),
        "contact_date": pl.Series(start + day[happened]),
        "attendance_code": code[happened],
        "is_treatment": is_treatment[happened],
    }).cast(CONTACTS_SCHEMA)
    # ~3% of questionnaires at a session are not returned (so some finished courses are unpaired).
    kept = rng.random(2 * m) >= 0.03
    stamps = np.repeat(stamp, 2)[kept]
    scores = pl.DataFrame({
        "referral_id": rid.gather(np.repeat(sc, 2)[kept]),
        "measure": pl.Series(np.tile(np.asarray(["phq9", "gad7"]), m)[kept]),
        "score_date": pl.Series(np.datetime64(START.isoformat(), "us") + stamps.astype("timedelta64[us]")),
        "score": np.column_stack((phq, gad)).ravel()[kept],
    }).cast(SCORES_SCHEMA)
    return referrals, contacts, scores
