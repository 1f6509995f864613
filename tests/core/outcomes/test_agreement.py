"""The engine (service.report) agrees with an independent pandas baseline on synthetic data.

bench/support/outcomes_baseline.py is written from the definitions alone (DOMAIN.md §4, issue 6); it is
imported by path, since bench/ is not a package.
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
)
RATES = (
    "recovery_rate", "reliable_recovery_rate", "reliable_improvement_rate", "reliable_deterioration_rate",
    "waited_6_weeks_rate", "waited_18_weeks_rate",
)


def _baseline():
    spec = importlib.util.spec_from_file_location("outcomes_baseline", ROOT / "bench" / "support" / "outcomes_baseline.py")
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


def test_overall_counts_and_rates_agree(reports):
    expected, actual = reports
    _agree(expected["overall"], actual["overall"], "overall")


@pytest.mark.parametrize("therapy", synth.THERAPIES)
def test_counts_and_rates_by_therapy_agree(reports, therapy):
    expected, actual = reports
    assert set(actual["by_therapy"]) == set(expected["by_therapy"])
    _agree(expected["by_therapy"][therapy], actual["by_therapy"][therapy], therapy)
