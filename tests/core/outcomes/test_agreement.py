"""The engine (service.report) agrees with an independent DuckDB baseline on synthetic data.

bench/support/outcomes_duckdb.py is written from the definitions alone (DOMAIN.md §4, §6; issues 6
and 13) as one SQL query with its own constants; it is imported by path, since bench/ is not a
package. The synthetic data have stepped-up referrals (a courses table, course_id on contacts and
scores) and problem descriptors with ADSM scores, so both new paths are compared too.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from interpersonal.core.outcomes import dataset, service, synth

ROOT = Path(__file__).resolve().parents[3]
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


def _baseline():
    spec = importlib.util.spec_from_file_location("outcomes_duckdb", ROOT / "bench" / "support" / "outcomes_duckdb.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    directory = tmp_path_factory.mktemp("outcomes-3000")
    synth.generate(courses=3000, seed=7, out=directory)
    return _baseline().baseline_report(directory), service.report(dataset.read(directory))


def _agree(expected: dict, actual: dict, where: str) -> None:
    for name in COUNTS:
        assert actual[name] == expected[name], f"{where} {name}"
    for name in RATES:
        if expected[name] is None:
            assert actual[name] is None, f"{where} {name}"
        else:
            assert actual[name] == pytest.approx(expected[name], abs=1e-12, rel=0), f"{where} {name}"


def test_the_synthetic_data_exercises_every_metric(reports):
    expected, _ = reports
    overall = expected["overall"]
    assert set(expected["by_therapy"]) == set(synth.THERAPIES)
    assert 0 < overall["finished_paired"] < overall["finished"] < overall["referrals"]
    for name in COUNTS:
        assert overall[name] > 0, name
    # and the new paths: stepped-up referrals placed under step 3 or, with < 2 step-3 sessions, lit
    assert overall["stepped_up"] > 0
    assert overall["adsm_paired"] > 0


def test_without_courses_or_descriptors_they_agree_too(tmp_path):
    synth.generate(courses=1500, seed=11, out=tmp_path, stepped_up=0, adsm=False)
    (tmp_path / "courses.parquet").unlink()
    expected, actual = _baseline().baseline_report(tmp_path), service.report(dataset.read(tmp_path))
    _agree(expected["overall"], actual["overall"], "overall")
    assert (actual["overall"]["stepped_up"], actual["overall"]["adsm_paired"]) == (0, 0)


def test_overall_counts_and_rates_agree(reports):
    expected, actual = reports
    _agree(expected["overall"], actual["overall"], "overall")


@pytest.mark.parametrize("therapy", synth.THERAPIES)
def test_counts_and_rates_by_therapy_agree(reports, therapy):
    expected, actual = reports
    assert set(actual["by_therapy"]) == set(expected["by_therapy"])
    _agree(expected["by_therapy"][therapy], actual["by_therapy"][therapy], therapy)
