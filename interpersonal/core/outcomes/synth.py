"""A realistic synthetic NHS Talking Therapies dataset (issue 6), at any scale.

``generate(courses=..., seed=..., out=...)`` writes ``referrals.parquet``, ``contacts.parquet``,
``scores.parquet`` and ``courses.parquet`` to ``out`` (the layout ``dataset.read`` expects). Deterministic by seed (one numpy
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

Stepped care and ADSMs (issue 13), drawn from a second generator (seeded from ``seed`` too) so that
with ``stepped_up=0`` and ``adsm=False`` the three tables are byte for byte what they were before
(tests/core/outcomes/test_legacy_results.py): a share (:data:`STEP_UP_SHARE`) of the step-2
(``lit``) referrals that finished their guided self-help go on to a step-3 course (dit, ipt,
ipt_brief or cbt in their shares), from a week or more after the last step-2 session, their scores
starting where step 2 left them; the referral then ends with that course and is listed under its
therapy. Every referral has a problem descriptor (ICD-10, :data:`DESCRIPTORS`); where it names an
anxiety-disorder-specific measure, that measure is recorded at most sessions beside PHQ-9 and
GAD-7. The ``courses`` table lists every course (``R…-1``, and ``R…-2`` for a step up), and
treatment contacts and scores carry their ``course_id`` (assessments carry none).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
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
COURSES_SCHEMA = pl.Schema({
    "course_id": pl.String(), "referral_id": pl.String(), "therapy": pl.String(), "step": pl.Int64(),
    "start_date": pl.Date(), "end_date": pl.Date(), "end_code": pl.Int64(),
})
STEP_UP_SHARE = 0.25
"""Share of step-2 referrals that finished guided self-help (not early, 2+ sessions) and step up."""
STEP3 = ("dit", "ipt", "ipt_brief", "cbt")
DESCRIPTORS = ("F32.1", "F33.1", "F41.1", "F41.2", "F40.1", "F43.1", "F41.0", "F42", "F45.2", "F40.01")
DESCRIPTOR_SHARE = (0.30, 0.12, 0.20, 0.15, 0.06, 0.06, 0.04, 0.03, 0.02, 0.02)
ADSM_FOR = {"F40.1": "spin", "F43.1": "pcl5", "F41.0": "pdss", "F42": "ocir", "F45.2": "shai", "F40.01": "mi_alone"}
"""Which ADSM a synthetic referral with this descriptor records (rules.py maps the same codes)."""
ADSM_SCALE = {"spin": (19, 0, 68, 0), "pcl5": (32, 0, 80, 0), "pdss": (8, 0, 28, 0), "ocir": (17, 0, 72, 0),
              "shai": (18, 0, 42, 0), "mi_alone": (2.3, 1, 5, 2)}
"""(typical caseness level, lowest, highest, decimals) used to draw an ADSM's totals."""
ADSM_RECORDED = 0.85
"""Share of a referral's sessions at which its ADSM is recorded."""


def generate(
    *, courses: int, seed: int, out: Path, progress: Callable[[int, int], None] | None = None,
    stepped_up: float = STEP_UP_SHARE, adsm: bool = True,
) -> None:
    """Write ``courses`` synthetic referrals (and their courses, contacts and scores) to ``out``.

    ``stepped_up``: the share of finished step-2 referrals that step up (0: none); ``adsm``:
    whether referrals get problem descriptors and ADSM scores. With ``stepped_up=0`` and
    ``adsm=False`` the referrals, contacts and scores are those of the generator before issue 13
    plus the ``course_id`` columns (and the courses table)."""
    if courses < 0:
        raise ValueError("courses must be ≥ 0")
    if not 0 <= stepped_up <= 1:
        raise ValueError("stepped_up must be a share from 0 to 1")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    extra = np.random.default_rng([seed, 13])  # stepped care and ADSMs: the first stream stays as it was
    n_therapists = max(N_PROVIDERS, -(-courses // COURSES_PER_THERAPIST))
    provider_share = rng.dirichlet(np.full(N_PROVIDERS, 4.0))
    names = (*FILES, "courses")
    parts: dict[str, list[Path]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix=".synth-", dir=out) as tmp:
        for first in range(0, courses, CHUNK):
            n = min(CHUNK, courses - first)
            frames = _chunk(rng, first, n, n_therapists, provider_share, extra=extra, stepped_up=stepped_up, adsm=adsm)
            for name, frame in zip(names, frames, strict=True):
                path = Path(tmp) / f"{name}-{first:010d}.parquet"
                frame.write_parquet(path, statistics=False)
                parts[name].append(path)
            if progress is not None:
                progress(first + n, courses)
        schemas = (
            _with(REFERRALS_SCHEMA, problem_descriptor=pl.String()) if adsm else REFERRALS_SCHEMA,
            _with(CONTACTS_SCHEMA, course_id=pl.String()), _with(SCORES_SCHEMA, course_id=pl.String()), COURSES_SCHEMA,
        )
        for name, schema in zip(names, schemas, strict=True):
            target = out / f"{name}.parquet"
            if parts[name]:
                pl.scan_parquet(parts[name]).sink_parquet(target)
            else:
                pl.DataFrame(schema=schema).write_parquet(target)
        shutil.rmtree(tmp, ignore_errors=True)
    if progress is not None and courses == 0:
        progress(0, 0)


def _with(schema: pl.Schema, **more: pl.DataType) -> pl.Schema:
    return pl.Schema({**schema, **more})


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    return pl.select(pl.format(prefix + "{}", pl.lit(pl.Series(numbers)).cast(pl.String).str.zfill(width))).to_series()


def _chunk(
    rng: np.random.Generator, first: int, n: int, n_therapists: int, provider_share: np.ndarray,
    *, extra: np.random.Generator, stepped_up: float, adsm: bool,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
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

    # --- stepped care and ADSMs: from the second generator only -----------------------------------
    step = _step_up(extra, n, stepped=lit & ~assessment_only & ~dropout & (attended >= 2) & (extra.random(n) < stepped_up),
                    last_day=last_day, phq_end=phq0 * (1 - effect), gad_end=gad0 * (1 - effect), extract_day=extract_day)
    lit_end_day = end_day
    if step is not None:
        end_day = np.where(step.stepped, step.end_day, end_day)
        is_open = end_day > extract_day
        end_code = np.where(step.stepped, step.end_code, end_code)
    therapy_name = np.asarray(THERAPIES)[therapy]
    if step is not None:
        therapy_name = np.where(step.stepped, step.therapy_name, therapy_name)

    # --- frames -----------------------------------------------------------------------------------
    start = np.datetime64(START.isoformat(), "D")
    rid = _ids("R", idx, 8)
    referrals = pl.DataFrame({
        "referral_id": rid,
        "patient_id": _ids("P", patient, 8),
        "provider": _ids("prov-", provider + 1, 2),
        "therapist_id": _ids("T", therapist + 1, 6),
        "therapy": pl.Series(therapy_name),
        "referral_date": pl.Series(start + referral_day),
        "end_date": pl.Series(start + end_day).set(pl.Series(is_open), None),
        "end_code": pl.Series(end_code).set(pl.Series(is_open), None),
    }).cast(REFERRALS_SCHEMA)
    course1 = pl.select(pl.concat_str(rid, pl.lit("-1"))).to_series()
    contacts = pl.DataFrame({
        "referral_id": rid.gather(course[happened]),
        "contact_date": pl.Series(start + day[happened]),
        "attendance_code": code[happened],
        "is_treatment": is_treatment[happened],
        "course_id": course1.gather(course[happened]).set(pl.Series(~is_treatment[happened]), None),
    }).cast(_with(CONTACTS_SCHEMA, course_id=pl.String()))
    # ~3% of questionnaires at a session are not returned (so some finished courses are unpaired).
    kept = rng.random(2 * m) >= 0.03
    stamps = np.repeat(stamp, 2)[kept]
    scores = pl.DataFrame({
        "referral_id": rid.gather(np.repeat(sc, 2)[kept]),
        "measure": pl.Series(np.tile(np.asarray(["phq9", "gad7"]), m)[kept]),
        "score_date": pl.Series(np.datetime64(START.isoformat(), "us") + stamps.astype("timedelta64[us]")),
        "score": np.column_stack((phq, gad)).ravel()[kept],
        "course_id": course1.gather(np.repeat(sc, 2)[kept]),
    }).cast(_with(SCORES_SCHEMA, course_id=pl.String()))
    stepped = step.stepped if step is not None else np.zeros(n, dtype=bool)
    first_day = np.asarray(treat_day, dtype=np.int64)
    lit_open = np.where(stepped, lit_end_day > extract_day, is_open)
    courses = pl.DataFrame({
        "course_id": course1,
        "referral_id": rid,
        "therapy": pl.Series(np.asarray(THERAPIES)[therapy]),
        "step": np.where(lit, 2, 3),
        "start_date": pl.Series(start + first_day).set(pl.Series((first_day > extract_day) | (appointments == 0)), None),
        "end_date": pl.Series(start + np.where(stepped, last_day, end_day)).set(pl.Series(lit_open), None),
        "end_code": pl.Series(end_code).set(pl.Series(lit_open | stepped), None),
    }).cast(COURSES_SCHEMA)
    if step is not None:
        contacts, scores, courses = _add_step_three(step, rid, start, extract_day, contacts, scores, courses)
    if adsm:
        referrals, scores = _add_adsm(extra, referrals, scores, phq0=phq0, gad0=gad0)
    return referrals, contacts, scores, courses


@dataclass(frozen=True, slots=True)
class _StepUp:
    stepped: np.ndarray  # bool per referral
    therapy_name: np.ndarray  # str per referral (meaningful where stepped)
    end_day: np.ndarray
    end_code: np.ndarray
    start_day: np.ndarray
    contact_of: np.ndarray  # referral index per step-3 appointment
    contact_day: np.ndarray
    contact_code: np.ndarray
    score_of: np.ndarray  # referral index per step-3 attended session
    score_day: np.ndarray
    phq: np.ndarray
    gad: np.ndarray


def _step_up(
    rng: np.random.Generator, n: int, *, stepped: np.ndarray, last_day: np.ndarray, phq_end: np.ndarray,
    gad_end: np.ndarray, extract_day: int,
) -> _StepUp | None:
    """A step-3 course for each ``stepped`` referral, after its step-2 course."""
    if not stepped.any():
        return None
    shares = np.asarray([THERAPY_SHARE[THERAPIES.index(t)] for t in STEP3])
    pick = rng.choice(len(STEP3), size=n, p=shares / shares.sum())
    t_index = np.asarray([THERAPIES.index(t) for t in STEP3])[pick]
    start_day = last_day + 7 + np.rint(rng.gamma(2.0, 10.0, size=n)).astype(np.int64)
    planned = rng.integers(12, 21, size=n)
    dropout = rng.random(n) < np.asarray(THERAPY_DROPOUT)[t_index]
    attended = np.where(dropout, rng.integers(0, np.maximum(planned // 2, 2)), planned)
    missed = rng.binomial(np.maximum(attended, 1), 0.1)
    appointments = np.where(stepped, attended + missed, 0)
    of = np.repeat(np.arange(n), appointments)
    starts = np.cumsum(appointments) - appointments
    k = np.arange(of.size) - np.repeat(starts, appointments)
    gap = np.where(k == 0, 0, rng.integers(5, 10, size=of.size))
    offset = np.cumsum(gap)
    offset = offset - np.repeat(offset[np.minimum(starts, max(of.size - 1, 0))], appointments) if of.size else offset
    cday = start_day[of] + offset
    is_missed = rng.random(of.size) < missed[of] / np.maximum(appointments[of], 1)
    ccode = np.where(is_missed, rng.choice(MISSED_CODES, size=of.size, p=MISSED_SHARE),
                     np.where(rng.random(of.size) < 0.9, 5, 6))
    end_day = start_day.copy()
    if of.size:
        np.maximum.at(end_day, of, cday)
    end_day = end_day + rng.integers(0, 15, size=n)
    end_code = np.where(dropout, np.where(rng.random(n) < 0.5, 47, 48), 46)
    att = ~is_missed
    session = np.cumsum(att)
    before = np.concatenate(([0], session))[starts]
    session = session - np.repeat(before, appointments)
    sof = of[att]
    effect = np.clip(rng.normal(np.asarray(THERAPY_EFFECT)[t_index], 0.35), -0.6, 0.95)
    rate = rng.uniform(0.15, 0.35, size=n)
    frac = (1 - np.exp(-rate[sof] * (session[att] - 1))) / (1 - np.exp(-rate[sof] * (planned[sof] - 1)))
    drift = effect[sof] * frac
    phq = np.clip(np.rint(phq_end[sof] * (1 - drift) + rng.normal(0, 2.0, size=sof.size)), 0, 27)
    gad = np.clip(np.rint(gad_end[sof] * (1 - drift) + rng.normal(0, 1.8, size=sof.size)), 0, 21)
    return _StepUp(stepped=stepped, therapy_name=np.asarray(STEP3)[pick], end_day=end_day, end_code=end_code,
                   start_day=start_day, contact_of=of, contact_day=cday, contact_code=ccode, score_of=sof,
                   score_day=cday[att], phq=phq, gad=gad)


def _add_step_three(
    step: _StepUp, rid: pl.Series, start: np.datetime64, extract_day: int,
    contacts: pl.DataFrame, scores: pl.DataFrame, courses: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    course2 = pl.select(pl.concat_str(rid, pl.lit("-2"))).to_series()
    happened = step.contact_day <= extract_day
    of = step.contact_of[happened]
    more_contacts = pl.DataFrame({
        "referral_id": rid.gather(of), "contact_date": pl.Series(start + step.contact_day[happened]),
        "attendance_code": step.contact_code[happened], "is_treatment": np.ones(of.size, dtype=bool),
        "course_id": course2.gather(of),
    }).cast(contacts.schema)
    scored = step.score_day <= extract_day
    sof = step.score_of[scored]
    stamp = (step.score_day[scored] * 1440 + 9 * 60) * 60_000_000
    when = pl.Series(np.datetime64(START.isoformat(), "us") + stamp.astype("timedelta64[us]"))
    more_scores = pl.concat([
        pl.DataFrame({"referral_id": rid.gather(sof), "measure": "phq9", "score_date": when,
                      "score": step.phq[scored], "course_id": course2.gather(sof)}),
        pl.DataFrame({"referral_id": rid.gather(sof), "measure": "gad7", "score_date": when,
                      "score": step.gad[scored], "course_id": course2.gather(sof)}),
    ]).cast(scores.schema)
    who = np.flatnonzero(step.stepped)
    is_open = step.end_day[who] > extract_day
    not_started = step.start_day[who] > extract_day
    more_courses = pl.DataFrame({
        "course_id": course2.gather(who), "referral_id": rid.gather(who), "therapy": pl.Series(step.therapy_name[who]),
        "step": np.full(who.size, 3), "start_date": pl.Series(start + step.start_day[who]).set(pl.Series(not_started), None),
        "end_date": pl.Series(start + step.end_day[who]).set(pl.Series(is_open), None),
        "end_code": pl.Series(step.end_code[who]).set(pl.Series(is_open), None),
    }).cast(courses.schema)
    return pl.concat([contacts, more_contacts]), pl.concat([scores, more_scores]), pl.concat([courses, more_courses])


def _add_adsm(
    rng: np.random.Generator, referrals: pl.DataFrame, scores: pl.DataFrame, *, phq0: np.ndarray, gad0: np.ndarray,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A problem descriptor per referral and, where it names an ADSM, that ADSM beside GAD-7."""
    n = referrals.height
    descriptor = np.asarray(DESCRIPTORS)[rng.choice(len(DESCRIPTORS), size=n, p=DESCRIPTOR_SHARE)]
    referrals = referrals.with_columns(pl.Series("problem_descriptor", descriptor, dtype=pl.String))
    # The ADSM's course follows GAD-7's, relative to each referral's baseline GAD-7.
    z = rng.standard_normal(n)
    rows = (
        scores.filter(pl.col("measure") == "gad7")
        .with_columns(pl.col("referral_id").str.slice(1).cast(pl.Int64).alias("_i"))
    )
    if rows.height == 0:
        return referrals, scores
    offset = int(referrals["referral_id"][0][1:])
    i = rows["_i"].to_numpy() - offset
    rows = rows.with_columns(pl.Series("_d", descriptor[i]))
    parts = []
    for code, mid in ADSM_FOR.items():
        level, lo, hi, decimals = ADSM_SCALE[mid]
        sel = rows.filter(pl.col("_d") == code)
        if sel.height == 0:
            continue
        j = sel["_i"].to_numpy() - offset
        keep = rng.random(sel.height) < ADSM_RECORDED
        ratio = sel["score"].to_numpy() / np.maximum(gad0[j], 1.0)
        base = level * np.clip(1.25 + 0.35 * z[j], 0.3, 3.0)
        value = base * ratio + rng.normal(0, 0.08 * level, size=sel.height)
        value = np.clip(np.round(value, decimals), lo, hi)
        parts.append(sel.with_columns(pl.lit(mid).alias("measure"), pl.Series("score", value))
                     .filter(pl.Series(keep)).select(scores.columns))
    return referrals, pl.concat([scores, *parts]) if parts else scores
