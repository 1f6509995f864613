"""The baseline for bench/outcomes.py: NHS Talking Therapies metrics as one straightforward DuckDB query.

Written from the definitions (DOMAIN.md §4, §6; docs/outcomes.md), independently of the engine
(``interpersonal.core.outcomes``): its own constants, its own SQL, no import from the package.
tests/core/outcomes/test_agreement.py checks one against the other, and bench/outcomes.py times
both on the same files. What an analyst would write: read the Parquet files, aggregate contacts and
scores per referral, pick each referral's course and anxiety measure with CASE, derive one boolean
per definition, and sum.

    baseline_report(directory) -> {"overall": {...}, "by_therapy": {therapy: {...}}}

Run directly (``python bench/support/outcomes_duckdb.py DIR``) it prints the report as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

PHQ9_CUTOFF, PHQ9_RELIABLE = 10, 6
# measure: (caseness cut-off, strictly above?, reliable change points). Every one is higher-is-worse.
ANXIETY = {
    "gad7": (8, False, 4), "spin": (19, False, 10), "pdss": (8, False, 5), "mi_alone": (2.3, True, 0.73),
    "ocir": (17, False, 13), "pcl5": (32, False, 10), "iesr": (33, False, 9), "shai": (18, False, 4),
}
# ICD-10 prefix (longest first) → ADSMs in order of preference; GAD-7 when none of them is paired.
DESCRIPTORS = [("F40.0", ["mi_alone"]), ("F40.1", ["spin"]), ("F41.0", ["pdss"]), ("F43.1", ["pcl5", "iesr"]),
               ("F45.2", ["shai"]), ("F42", ["ocir"])]
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


def _columns(con: duckdb.DuckDBPyConnection, path: Path) -> set[str]:
    return {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()}


def _sql(directory: Path, con: duckdb.DuckDBPyConnection) -> str:
    referrals, contacts, scores, courses = (directory / f"{t}.parquet" for t in ("referrals", "contacts", "scores", "courses"))
    has_courses = courses.exists()
    has_descriptor = "problem_descriptor" in _columns(con, referrals)
    measures = ["phq9", *ANXIETY]
    wide = ",\n".join(
        f"  any_value(first) FILTER (WHERE measure = '{m}') AS {m}_first, "
        f"any_value(last) FILTER (WHERE measure = '{m}') AS {m}_last, "
        f"coalesce(bool_or(paired) FILTER (WHERE measure = '{m}'), false) AS {m}_paired"
        for m in measures
    )
    if has_descriptor:
        code = "upper(replace(r.problem_descriptor, ' ', ''))"
        branches = []
        for prefix, ids in DESCRIPTORS:
            inner = " ".join(f"WHEN s.{m}_paired THEN '{m}'" for m in ids)
            branches.append(f"WHEN starts_with({code}, '{prefix}') THEN CASE {inner} ELSE 'gad7' END")
        anxiety = f"CASE {' '.join(branches)} ELSE 'gad7' END"
    else:
        anxiety = "'gad7'"
    pick = lambda what: "CASE anxiety " + " ".join(f"WHEN '{m}' THEN {m}_{what}" for m in ANXIETY) + " END"  # noqa: E731
    constant = lambda i: "CASE anxiety " + " ".join(f"WHEN '{m}' THEN {v[i]}" for m, v in ANXIETY.items()) + " END"  # noqa: E731
    placement = f"""
, course_attended AS (
  SELECT course_id, count(*) AS n FROM read_parquet('{contacts}')
  WHERE is_treatment AND attendance_code IN (5, 6) AND course_id IS NOT NULL GROUP BY course_id
), ordered AS (
  SELECT c.referral_id, c.therapy, c.step, coalesce(a.n, 0) AS n,
         row_number() OVER (PARTITION BY c.referral_id ORDER BY c.start_date NULLS LAST, c.step NULLS FIRST, c.course_id) AS pos
  FROM read_parquet('{courses}') c LEFT JOIN course_attended a USING (course_id)
), placed AS (
  SELECT referral_id,
         coalesce(arg_max(therapy, pos) FILTER (WHERE n >= 2), arg_max(therapy, pos)) AS therapy,
         coalesce(min(pos) FILTER (WHERE step = 2) < max(pos) FILTER (WHERE step = 3), false) AS stepped
  FROM ordered GROUP BY referral_id
)""" if has_courses else ""
    therapy = "coalesce(p.therapy, r.therapy)" if has_courses else "r.therapy"
    stepped = "coalesce(p.stepped, false)" if has_courses else "false"
    join_placed = "LEFT JOIN placed p USING (referral_id)" if has_courses else ""
    return f"""
WITH c AS (
  SELECT referral_id,
         count(*) FILTER (WHERE is_treatment AND attendance_code IN (5, 6)) AS sessions,
         min(contact_date) FILTER (WHERE is_treatment AND attendance_code IN (5, 6)) AS first_attended,
         count(*) FILTER (WHERE is_treatment AND attendance_code BETWEEN 2 AND 7) AS treatment_contacts,
         count(*) FILTER (WHERE is_treatment AND attendance_code = 3) AS dna_contacts
  FROM read_parquet('{contacts}') GROUP BY referral_id
), long AS (
  SELECT referral_id, measure, arg_min(score, score_date) AS first, arg_max(score, score_date) AS last,
         max(score_date) > min(score_date) AS paired
  FROM read_parquet('{scores}')
  WHERE score IS NOT NULL AND score_date IS NOT NULL AND measure IN ({", ".join(f"'{m}'" for m in measures)})
  GROUP BY referral_id, measure
), s AS (
  SELECT referral_id,
{wide}
  FROM long GROUP BY referral_id
){placement}
, joined AS (
  SELECT r.referral_id, {therapy} AS therapy, r.end_date IS NOT NULL AND coalesce(c.sessions, 0) >= 2 AS finished,
         {stepped} AS stepped, r.end_code, c.first_attended - r.referral_date AS wait,
         coalesce(c.sessions, 0) AS sessions, coalesce(c.treatment_contacts, 0) AS treatment_contacts,
         coalesce(c.dna_contacts, 0) AS dna_contacts, {anxiety} AS anxiety, s.*
  FROM read_parquet('{referrals}') r
  LEFT JOIN c USING (referral_id) LEFT JOIN s USING (referral_id) {join_placed}
), chosen AS (
  SELECT *, {pick("first")} AS a_first, {pick("last")} AS a_last, {pick("paired")} AS a_paired,
         {constant(0)} AS a_cut, {constant(1)} AS a_strict, {constant(2)} AS a_points
  FROM joined
), flags AS (
  SELECT therapy, finished, stepped, end_code, wait, sessions, treatment_contacts, dna_contacts, anxiety,
         finished AND coalesce(phq9_paired AND a_paired, false) AS fp,
         phq9_first >= {PHQ9_CUTOFF} OR (CASE WHEN a_strict THEN a_first > a_cut ELSE a_first >= a_cut END) AS case_start,
         phq9_last >= {PHQ9_CUTOFF} OR (CASE WHEN a_strict THEN a_last > a_cut ELSE a_last >= a_cut END) AS case_end,
         phq9_last - phq9_first >= {PHQ9_RELIABLE} OR round(a_last - a_first, 6) >= a_points AS worse,
         phq9_first - phq9_last >= {PHQ9_RELIABLE} OR round(a_first - a_last, 6) >= a_points AS better
  FROM chosen
), per_referral AS (
  SELECT therapy, sessions, treatment_contacts, dna_contacts, finished,
         fp, fp AND NOT case_start AS not_at_caseness,
         fp AND case_start AND NOT case_end AS recovered,
         fp AND worse AS reliable_deterioration,
         fp AND better AND NOT worse AS reliable_improvement,
         fp AND NOT (better AND NOT worse) AND NOT worse AS no_reliable_change,
         fp AND case_start AND NOT case_end AND better AND NOT worse AS reliable_recovery,
         finished AND coalesce(wait <= 42, false) AS waited_6_weeks,
         finished AND coalesce(wait <= 126, false) AS waited_18_weeks,
         finished AND coalesce(end_code IN (47, 48), false) AS unplanned,
         fp AND anxiety <> 'gad7' AS adsm_paired, finished AND stepped AS stepped_up
  FROM flags
)
SELECT coalesce(therapy, 'unknown') AS therapy, grouping(therapy) AS is_total,
       count(*) AS referrals, count(*) FILTER (WHERE finished) AS finished, count(*) FILTER (WHERE fp) AS finished_paired,
       count(*) FILTER (WHERE not_at_caseness) AS not_at_caseness, count(*) FILTER (WHERE recovered) AS recovered,
       count(*) FILTER (WHERE reliable_improvement) AS reliable_improvement,
       count(*) FILTER (WHERE reliable_deterioration) AS reliable_deterioration,
       count(*) FILTER (WHERE reliable_recovery) AS reliable_recovery,
       count(*) FILTER (WHERE no_reliable_change) AS no_reliable_change,
       count(*) FILTER (WHERE waited_6_weeks) AS waited_6_weeks, count(*) FILTER (WHERE waited_18_weeks) AS waited_18_weeks,
       count(*) FILTER (WHERE unplanned) AS unplanned_endings, sum(treatment_contacts) AS treatment_contacts,
       sum(sessions) AS attended_contacts, sum(dna_contacts) AS dna_contacts,
       count(*) FILTER (WHERE adsm_paired) AS adsm_paired, count(*) FILTER (WHERE stepped_up) AS stepped_up
FROM per_referral
GROUP BY GROUPING SETS ((), (therapy))
"""


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def summarise(counts: dict[str, int]) -> dict[str, int | float | None]:
    out: dict[str, int | float | None] = {k: int(counts[k] or 0) for k in COUNTS}
    c = {k: int(counts[k] or 0) for k in COUNTS}
    eligible = c["finished_paired"] - c["not_at_caseness"]
    out.update(
        recovery_rate=_rate(c["recovered"], eligible),
        reliable_recovery_rate=_rate(c["reliable_recovery"], eligible),
        reliable_improvement_rate=_rate(c["reliable_improvement"], c["finished_paired"]),
        reliable_deterioration_rate=_rate(c["reliable_deterioration"], c["finished_paired"]),
        no_reliable_change_rate=_rate(c["no_reliable_change"], c["finished_paired"]),
        waited_6_weeks_rate=_rate(c["waited_6_weeks"], c["finished"]),
        waited_18_weeks_rate=_rate(c["waited_18_weeks"], c["finished"]),
        unplanned_ending_rate=_rate(c["unplanned_endings"], c["finished"]),
        attendance_rate=_rate(c["attended_contacts"], c["treatment_contacts"]),
        dna_rate=_rate(c["dna_contacts"], c["treatment_contacts"]),
    )
    return out


def baseline_report(directory: Path | str) -> dict[str, dict]:
    """The metrics overall and by therapy (no period), for the Parquet data set in ``directory``."""
    directory = Path(directory)
    con = duckdb.connect()
    try:
        cursor = con.execute(_sql(directory, con))
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
    result: dict[str, dict] = {"overall": {}, "by_therapy": {}}
    for row in rows:
        if row["is_total"]:
            result["overall"] = summarise(row)
        else:
            result["by_therapy"][row["therapy"]] = summarise(row)
    result["by_therapy"] = dict(sorted(result["by_therapy"].items()))
    return result


if __name__ == "__main__":
    print(json.dumps(baseline_report(sys.argv[1]), indent=2))
