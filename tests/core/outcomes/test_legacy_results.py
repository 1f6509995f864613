"""Data sets without a courses table (or with one course per referral) keep their results exactly.

golden/legacy_reports.json holds the reports and funnels of the engine before issue 13 (commit
0811301) on that commit's synth.generate(3000, seed 7) and (800, seed 3), with a sha256 of each
table. synth.generate(..., stepped_up=0, adsm=False) still draws the same tables (checked here by
the digests), so the old data set can be rebuilt and read both as it was (no courses table, no
course_id) and with a courses table of one course per referral.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from interpersonal.core.outcomes import dataset, service, synth

GOLDEN = json.loads((Path(__file__).parent / "golden" / "legacy_reports.json").read_text())
CASES: dict[str, dict[str, Any]] = {
    "overall": {},
    "by_therapist": {"by": "therapist"},
    "by_provider": {"by": "provider"},
    "by_month": {"by": "month"},
    "therapy_cbt": {"therapy": "cbt"},
    "provider_prov01": {"provider": "prov-01"},
    "period_2025": {"since": date(2025, 1, 1), "until": date(2025, 12, 31), "by": "month"},
}


def _same(new: Any, old: Any, where: str = "") -> None:
    """``new`` holds every key of ``old`` (new keys are additions) with the same value: counts,
    rates and means exactly; effect sizes (means and SDs of float differences) to 1e-12, since
    their sums depend on the order polars' threads deliver the rows — the old engine's did too
    (run it ten times: its last digit moves)."""
    if isinstance(old, dict):
        assert isinstance(new, dict), where
        missing = set(old) - set(new)
        assert not missing, f"{where}: {missing}"
        for k, v in old.items():
            _same(new[k], v, f"{where}.{k}")
    elif isinstance(old, float) and "effect_size" in where:
        assert new == pytest.approx(old, rel=1e-12, abs=1e-12), where
    else:
        assert new == old, where


@pytest.fixture(scope="module", params=["synth-3000-seed7", "synth-800-seed3"])
def legacy(request, tmp_path_factory):
    key = request.param
    courses, seed = int(key.split("-")[1]), int(key.split("seed")[1])
    root = tmp_path_factory.mktemp(key)
    synth.generate(courses=courses, seed=seed, out=root, stepped_up=0, adsm=False)
    old_style = root / "old"
    old_style.mkdir()
    for name in ("referrals", "contacts", "scores"):
        table = pl.read_parquet(root / f"{name}.parquet").drop("course_id", strict=False)
        assert hashlib.sha256(table.write_csv().encode()).hexdigest() == GOLDEN[key]["tables"][name], name
        table.write_parquet(old_style / f"{name}.parquet")
    return GOLDEN[key], dataset.read(old_style), dataset.read(root)


def test_the_rebuilt_data_set_is_the_old_one(legacy):
    golden, old_style, with_courses = legacy
    assert old_style.courses is None
    assert with_courses.courses is not None
    assert old_style.referrals.select(pl.len()).collect().item() == golden["rows"]["referrals"]


def test_a_data_set_without_courses_reports_exactly_as_before(legacy):
    golden, old_style, _ = legacy
    assert set(golden["reports"]) >= set(CASES) - {"by_therapist"}  # by therapist was recorded on the small one only
    for case, expected in golden["reports"].items():
        _same(service.report(old_style, **CASES[case]), expected, case)


@pytest.mark.parametrize("case", ["overall", "by_month", "therapy_cbt", "period_2025"])
def test_one_course_per_referral_reports_exactly_as_before(legacy, case):
    golden, _, with_courses = legacy
    _same(service.report(with_courses, **CASES[case]), golden["reports"][case], case)


def test_the_funnel_is_as_before(legacy):
    golden, old_style, with_courses = legacy
    _same({"rows": service.funnel(old_style)}, {"rows": golden["funnel"]})
    _same({"rows": service.funnel(with_courses)}, {"rows": golden["funnel"]})
