"""The baseline for bench/outcomes.py: NHS Talking Therapies metrics in straightforward pandas.

Written from the definitions alone (DOMAIN.md §4 and issue 6), independently of the engine
(``interpersonal.core.outcomes.service``), so that tests/core/outcomes/test_agreement.py checks
one against the other. Read the three Parquet files, aggregate per referral with groupby, derive
one boolean column per definition, and sum them — what an analyst would write, not golfed.

    baseline_report(directory) -> {"overall": {...}, "by_therapy": {therapy: {...}}}

Run directly (``python bench/outcomes_baseline.py DIR``) it prints the report as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

ATTENDED = (5, 6)
PHQ9_CUTOFF, GAD7_CUTOFF = 10, 8
PHQ9_RELIABLE, GAD7_RELIABLE = 6, 4
COUNTS = (
    "referrals", "finished", "finished_paired", "not_at_caseness", "recovered", "reliable_improvement",
    "reliable_deterioration", "reliable_recovery", "no_reliable_change", "waited_6_weeks", "waited_18_weeks",
)
RATES = (
    "recovery_rate", "reliable_recovery_rate", "reliable_improvement_rate", "reliable_deterioration_rate",
    "waited_6_weeks_rate", "waited_18_weeks_rate",
)


def per_referral(directory: Path | str) -> pd.DataFrame:
    """One row per referral with a boolean column per definition (and its therapy)."""
    directory = Path(directory)
    referrals = pd.read_parquet(directory / "referrals.parquet")
    contacts = pd.read_parquet(directory / "contacts.parquet")
    scores = pd.read_parquet(directory / "scores.parquet")

    courses = referrals.set_index("referral_id")
    courses["referral_date"] = pd.to_datetime(courses["referral_date"])

    # Attended treatment sessions: how many, and the first one's date.
    attended = contacts[contacts["is_treatment"] & contacts["attendance_code"].isin(ATTENDED)].copy()
    attended["contact_date"] = pd.to_datetime(attended["contact_date"])
    sessions = attended.groupby("referral_id").agg(
        sessions=("contact_date", "size"), first_session=("contact_date", "min"),
    )
    courses = courses.join(sessions)
    courses["sessions"] = courses["sessions"].fillna(0)
    courses["finished"] = courses["end_date"].notna() & (courses["sessions"] >= 2)
    waited = (courses["first_session"] - courses["referral_date"]).dt.days
    courses["waited_6_weeks"] = courses["finished"] & (waited <= 42)
    courses["waited_18_weeks"] = courses["finished"] & (waited <= 126)

    # First and last PHQ-9 and GAD-7 by score date.
    scores = scores[scores["measure"].isin(["phq9", "gad7"])].sort_values("score_date", kind="stable")
    paired = scores.groupby(["referral_id", "measure"])["score"].agg(["count", "first", "last"]).unstack("measure")
    paired.columns = [f"{measure}_{what}" for what, measure in paired.columns]
    courses = courses.join(paired)

    courses["paired"] = (courses["phq9_count"] >= 2) & (courses["gad7_count"] >= 2)
    courses["finished_paired"] = courses["finished"] & courses["paired"]
    fp = courses["finished_paired"]
    at_start_below = (courses["phq9_first"] < PHQ9_CUTOFF) & (courses["gad7_first"] < GAD7_CUTOFF)
    at_end_below = (courses["phq9_last"] < PHQ9_CUTOFF) & (courses["gad7_last"] < GAD7_CUTOFF)
    phq9_change = courses["phq9_last"] - courses["phq9_first"]
    gad7_change = courses["gad7_last"] - courses["gad7_first"]
    deteriorated = (phq9_change >= PHQ9_RELIABLE) | (gad7_change >= GAD7_RELIABLE)
    improved = ((phq9_change <= -PHQ9_RELIABLE) | (gad7_change <= -GAD7_RELIABLE)) & ~deteriorated

    courses["not_at_caseness"] = fp & at_start_below
    courses["recovered"] = fp & ~at_start_below & at_end_below
    courses["reliable_deterioration"] = fp & deteriorated
    courses["reliable_improvement"] = fp & improved
    courses["no_reliable_change"] = fp & ~deteriorated & ~improved
    courses["reliable_recovery"] = courses["recovered"] & improved
    return courses


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def summarise(courses: pd.DataFrame) -> dict[str, int | float | None]:
    """Counts and rates for a set of referrals (rows of ``per_referral``)."""
    counts: dict[str, int | float | None] = {"referrals": len(courses)}
    for name in COUNTS[1:]:
        counts[name] = int(courses[name].sum())
    at_caseness = counts["finished_paired"] - counts["not_at_caseness"]  # type: ignore[operator]
    counts["recovery_rate"] = _rate(counts["recovered"], at_caseness)  # type: ignore[arg-type]
    counts["reliable_recovery_rate"] = _rate(counts["reliable_recovery"], at_caseness)  # type: ignore[arg-type]
    counts["reliable_improvement_rate"] = _rate(counts["reliable_improvement"], counts["finished_paired"])  # type: ignore[arg-type]
    counts["reliable_deterioration_rate"] = _rate(counts["reliable_deterioration"], counts["finished_paired"])  # type: ignore[arg-type]
    counts["waited_6_weeks_rate"] = _rate(counts["waited_6_weeks"], counts["finished"])  # type: ignore[arg-type]
    counts["waited_18_weeks_rate"] = _rate(counts["waited_18_weeks"], counts["finished"])  # type: ignore[arg-type]
    return counts


def baseline_report(directory: Path | str) -> dict[str, dict]:
    """The metrics overall and by therapy, for the dataset in ``directory``."""
    courses = per_referral(directory)
    return {
        "overall": summarise(courses),
        "by_therapy": {therapy: summarise(group) for therapy, group in courses.groupby("therapy", sort=True)},
    }


if __name__ == "__main__":
    print(json.dumps(baseline_report(sys.argv[1]), indent=2))
