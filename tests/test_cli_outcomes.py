"""``interpersonal report`` and ``interpersonal synth`` (docs/outcomes.md; DOMAIN.md §4)."""

from __future__ import annotations

import csv
import io
import json
import sys
import types
from pathlib import Path

import polars as pl
import pytest

from interpersonal import cli
from interpersonal.core.outcomes import dataset

REFERRALS = pl.DataFrame(
    {"referral_id": ["r1", "r2"], "patient_id": ["p1", "p2"], "provider": ["P1", "P2"], "therapist_id": ["T1", "T2"],
     "therapy": ["dit", "ipt"], "referral_date": ["2026-01-05", "2026-01-06"], "end_date": ["2026-03-02", None], "end_code": [46, None]},
).with_columns(pl.col("referral_date", "end_date").str.to_date())
CONTACTS = pl.DataFrame(
    {"referral_id": ["r1", "r1", "r2"], "contact_date": ["2026-01-20", "2026-01-27", "2026-01-20"], "attendance_code": [5, 5, 3],
     "is_treatment": [True, True, True]},
).with_columns(pl.col("contact_date").str.to_date())
SCORES = pl.DataFrame(
    {"referral_id": ["r1"] * 4, "measure": ["phq9", "phq9", "gad7", "gad7"],
     "score_date": ["2026-01-20", "2026-01-27", "2026-01-20", "2026-01-27"], "score": [16.0, 6.0, 12.0, 5.0]},
).with_columns(pl.col("score_date").str.to_datetime())


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    dataset.write(dataset.Dataset.from_frames(REFERRALS, CONTACTS, SCORES), tmp_path)
    return tmp_path


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(list(argv), out=out)
    return code, out.getvalue()


def test_report_and_synth_are_core_commands() -> None:
    assert {"report", "synth"} <= set(cli.CORE_COMMANDS)


def test_report_json(data_dir: Path) -> None:
    code, out = run("report", "--data", str(data_dir), "--json")

    result = json.loads(out)
    assert code == 0
    assert {"overall", "by_therapy", "standards", "rules", "no_match"} == set(result)
    assert result["no_match"] is None
    assert (result["overall"]["referrals"], result["overall"]["finished"], result["overall"]["reliable_recovery"]) == (2, 1, 1)
    assert result["overall"]["dna_rate"] == pytest.approx(1 / 3)
    assert result["by_therapy"]["ipt"]["recovery_rate"] is None


@pytest.mark.parametrize(("by", "keys"), [("therapist", ["T1", "T2"]), ("provider", ["P1", "P2"]), ("month", ["2026-03"])])
def test_report_by(data_dir: Path, by: str, keys: list[str]) -> None:
    code, out = run("report", "--data", str(data_dir), "--json", "--by", by)

    assert code == 0
    assert list(json.loads(out)[f"by_{by}"]) == keys


def test_report_filters_and_period(data_dir: Path) -> None:
    code, out = run("report", "--data", str(data_dir), "--json", "--since", "2026-03-01", "--until", "2026-03-31", "--therapy", "dit")

    overall = json.loads(out)["overall"]
    assert code == 0
    assert (overall["referrals"], overall["finished"]) == (0, 1)


def test_report_table(data_dir: Path) -> None:
    code, out = run("report", "--data", str(data_dir))

    assert code == 0
    assert out.startswith("overall:\n  metric")
    assert "recovery_rate" in out
    assert "by_therapy:" in out
    assert "1.000" in out


def test_report_bad_data_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run("report", "--data", str(tmp_path), "--json")

    assert (code, out) == (2, "")
    assert "referrals.parquet: not found" in capsys.readouterr().err


def test_synth_calls_generate_with_a_progress_bar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[dict[str, object]] = []

    def generate(*, courses: int, seed: int, out: Path, progress: object = None) -> None:
        calls.append({"courses": courses, "seed": seed, "out": out})
        assert callable(progress)
        progress(5, 10)
        progress(10, 10)

    fake = types.ModuleType("interpersonal.core.outcomes.synth")
    fake.generate = generate  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "interpersonal.core.outcomes.synth", fake)

    code, out = run("synth", "--courses", "10", "--seed", "3", "--out", str(tmp_path / "d"))

    assert code == 0
    assert calls == [{"courses": 10, "seed": 3, "out": tmp_path / "d"}]
    err = capsys.readouterr().err
    assert "\r[" in err
    assert "10/10 courses\n" in err
    assert "wrote 10 synthetic courses" in out


def test_synth_then_report_end_to_end(tmp_path: Path) -> None:
    code, _ = run("synth", "--courses", "200", "--seed", "1", "--out", str(tmp_path))
    assert code == 0

    code, out = run("report", "--data", str(tmp_path), "--json", "--by", "month")

    overall = json.loads(out)["overall"]
    assert code == 0
    assert overall["referrals"] == 200
    assert 0 <= overall["recovery_rate"] <= 1


def test_report_refuses_an_unknown_therapy_and_lists_the_known(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run("report", "--data", str(data_dir), "--therapy", "psychoanalysis")

    err = capsys.readouterr().err
    assert (code, out) == (2, "")
    assert "unknown --therapy 'psychoanalysis'" in err
    assert "known therapies: cbt, dit, ipt, ipt_brief, ipt_maintenance, lit" in err


def test_report_accepts_a_therapy_found_only_in_the_data(tmp_path: Path) -> None:
    dataset.write(dataset.Dataset.from_frames(REFERRALS.with_columns(pl.lit("counselling").alias("therapy")), CONTACTS, SCORES), tmp_path)

    code, out = run("report", "--data", str(tmp_path), "--json", "--therapy", "counselling")

    assert code == 0
    assert json.loads(out)["overall"]["referrals"] == 2


def test_a_filter_matching_nothing_says_so_in_text_and_json(data_dir: Path) -> None:
    code, text = run("report", "--data", str(data_dir), "--therapist", "T9")
    _, js = run("report", "--data", str(data_dir), "--therapist", "T9", "--json")

    assert code == 0
    assert text == "No referral matches the filters (therapist T9): every count would be 0.\n"
    assert json.loads(js)["no_match"] == "No referral matches the filters (therapist T9): every count would be 0."


def test_report_by_therapist_as_csv(data_dir: Path) -> None:
    code, out = run("report", "--data", str(data_dir), "--by", "therapist", "--csv")

    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert [(r["section"], r["group"]) for r in rows] == [("overall", ""), ("by_therapist", "T1"), ("by_therapist", "T2")]
    assert rows[1]["reliable_recovery"] == "1"
    assert rows[2]["recovery_rate"] == ""  # None: no denominator
    assert rows[0]["recovery_rate_met"] == "true"


def test_csv_cells_that_a_spreadsheet_would_run_are_defused(tmp_path: Path) -> None:
    referrals = REFERRALS.with_columns(pl.Series("therapist_id", ["=HYPERLINK(1)", "T2"]))
    dataset.write(dataset.Dataset.from_frames(referrals, CONTACTS, SCORES), tmp_path)

    _, out = run("report", "--data", str(tmp_path), "--by", "therapist", "--csv")

    assert "'=HYPERLINK(1)" in out


def test_json_and_csv_together_is_a_usage_error(data_dir: Path) -> None:
    assert run("report", "--data", str(data_dir), "--json", "--csv")[0] == 2


def test_text_report_shows_met_and_the_standards(data_dir: Path) -> None:
    _, out = run("report", "--data", str(data_dir))

    assert "recovery_rate_met" in out
    assert " met" in out
    assert "standards in force on 2026-03-02:" in out
    assert "[unconfirmed: a service setting]" in out


def test_a_standards_file_and_no_adsm(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "standards.toml"
    path.write_text('[[standards]]\nrate = "recovery_rate"\ntarget = 0.9\nlabel = "Local"\nsource = "Board"\nconfirmed = true\n')

    code, out = run("report", "--data", str(data_dir), "--json", "--standards", str(path), "--no-adsm")

    result = json.loads(out)
    assert code == 0
    assert result["rules"]["use_adsm"] is False
    assert [s["rate"] for s in result["standards"]["in_force"]] == ["recovery_rate"]
    assert result["overall"]["recovery_rate_target"] == 0.9
