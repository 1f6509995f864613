"""``interpersonal fidelity icc|drift|routes``: the ratings file, the table, the exact JSON contract."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from interpersonal import cli
from interpersonal.core.fidelity import icc

# Shrout & Fleiss (1979), Table 2: six targets rated by four judges; published ICCs in Table 4.
TABLE_2 = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
PUBLISHED = {"ICC1": 0.17, "ICC2": 0.29, "ICC3": 0.71, "ICC1k": 0.44, "ICC2k": 0.62, "ICC3k": 0.91}


def csv_text(table=TABLE_2, header="target,rater,rating", skip=()) -> str:
    lines = [header]
    lines += [f"T{i + 1},{'ABCD'[j]},{v}" for i, row in enumerate(table) for j, v in enumerate(row)
              if (f"T{i + 1}", "ABCD"[j]) not in skip]
    return "\n".join(lines) + "\n"


@pytest.fixture
def ratings(tmp_path):
    def write(text: str, name: str = "ratings.csv") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(list(argv), out=out)
    return code, out.getvalue()


def console_script() -> str:
    found = shutil.which("interpersonal", path=str(Path(sys.executable).parent))
    assert found, "the console script is installed with the project (pip install -e .)"
    return found


def test_icc_json_is_exactly_the_contract(ratings):
    code, text = run("fidelity", "icc", "--ratings", ratings(csv_text()), "--json")
    data = json.loads(text)

    assert code == 0
    assert list(data) == ["icc", "n_targets", "n_raters"]
    assert (data["n_targets"], data["n_raters"]) == (6, 4)
    assert [row["type"] for row in data["icc"]] == ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]
    for row in data["icc"]:
        assert list(row) == ["type", "icc", "ci95", "f", "df1", "df2", "p"]
        assert len(row["ci95"]) == 2
        assert isinstance(row["df1"], int)
        assert isinstance(row["df2"], int)
    assert {row["type"]: round(row["icc"], 2) for row in data["icc"]} == PUBLISHED


def test_icc_json_matches_the_core(ratings):
    rows = [icc.Rating(f"T{i + 1}", "ABCD"[j], v) for i, r in enumerate(TABLE_2) for j, v in enumerate(r)]

    _, text = run("fidelity", "icc", "--ratings", ratings(csv_text()), "--json")

    assert json.loads(text) == json.loads(json.dumps(icc.compute(rows).to_dict()))


def test_icc_table_names_model_definition_ci_f_df_p_and_bands(ratings):
    code, text = run("fidelity", "icc", "--ratings", ratings(csv_text()))

    assert code == 0
    assert "6 targets, 4 raters" in text
    line = next(x for x in text.splitlines() if x.startswith("ICC2 "))
    for part in ("ICC(2,1)", "ICC(A,1)", "two-way random", "single rater", "absolute agreement", "0.290",
                 "0.019 to 0.761", "11.027", "<0.001", "poor (95% CI: poor to good)"):
        assert part in line
    assert "ICC(C,k)" in text
    assert "two-way mixed" in text
    assert "consistency" in text


def test_header_whitespace_and_a_byte_order_mark_are_tolerated(ratings):
    code, text = run("fidelity", "icc", "--ratings", ratings("\ufeff" + csv_text(header=" target , rater,rating ")), "--json")

    assert code == 0
    assert json.loads(text)["n_targets"] == 6


def test_columns_in_another_order_are_read_by_name(ratings):
    lines = ["rating,target,rater"] + [f"{v},T{i + 1},{'ABCD'[j]}" for i, r in enumerate(TABLE_2) for j, v in enumerate(r)]

    _, text = run("fidelity", "icc", "--ratings", ratings("\n".join(lines) + "\n"), "--json")

    assert round(json.loads(text)["icc"][1]["icc"], 2) == 0.29


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("target,rater,rating,notes", "unexpected notes"),
        ("target,rater", "missing rating"),
        ("target,judge,rating", "missing rater; unexpected judge"),
        ("target,rater,rating,rating", "repeated rating"),
        ("Target,Rater,Rating", "missing target, rater, rating"),
    ],
)
def test_other_columns_are_refused_with_a_clear_error(ratings, capsys, header, message):
    code, out = run("fidelity", "icc", "--ratings", ratings(header + "\nT1,A,1,x\n"))

    err = capsys.readouterr().err
    assert code == 2
    assert out == ""
    assert "the columns must be exactly target, rater, rating" in err
    assert message in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("target,rater,rating\nT1,A,high\n", "line 2: target T1, rater A: the rating 'high' is not a number"),
        ("target,rater,rating\nT1,A\n", "line 2: 2 fields, expected 3"),
        ("target,rater,rating\nT1,A,\n", "line 2: target T1, rater A: the rating '' is not a number"),
        ("target,rater,rating\nT1,A,nan\nT1,B,2\nT2,A,1\nT2,B,3\n", "target T1, rater A: the rating nan is not a finite number"),
    ],
)
def test_malformed_rows_are_refused_naming_the_line(ratings, capsys, text, message):
    code, _ = run("fidelity", "icc", "--ratings", ratings(text))

    assert code == 2
    assert message in capsys.readouterr().err


def test_an_unbalanced_file_exits_non_zero_naming_the_gaps_without_a_traceback(ratings):
    path = ratings(csv_text(skip={("T3", "B"), ("T5", "D")}) + "T1,A,4\n")

    result = subprocess.run([console_script(), "fidelity", "icc", "--ratings", path, "--json"],
                            capture_output=True, text=True, check=False)

    assert result.returncode != 0
    assert result.stdout == ""
    assert "target T3 has no rating from rater B" in result.stderr
    assert "target T5 has no rating from rater D" in result.stderr
    assert "target T1 is rated more than once by rater A" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_file_is_an_error_not_a_traceback(tmp_path, capsys):
    code, _ = run("fidelity", "icc", "--ratings", str(tmp_path / "absent.csv"))

    assert code == 2
    assert "No such file" in capsys.readouterr().err


def test_blank_lines_are_skipped(ratings):
    code, text = run("fidelity", "icc", "--ratings", ratings(csv_text().replace("\nT2,A", "\n\n  ,  , \nT2,A")), "--json")

    assert code == 0
    assert json.loads(text)["n_targets"] == 6


# --- drift -------------------------------------------------------------------------------------


def drifting_panel() -> str:
    # Rater C rates two points above A and B on eight recordings.
    lines = ["target,rater,rating"]
    for t in range(8):
        base = 10 + 3 * (t % 4)
        lines += [f"R{t},A,{base + (t % 2)}", f"R{t},B,{base}", f"R{t},C,{base + 2 + (t % 3) * 0.5}"]
    return "\n".join(lines) + "\n"


def test_drift_json_flags_the_drifting_rater(ratings):
    code, text = run("fidelity", "drift", "--ratings", ratings(drifting_panel()), "--json")
    data = json.loads(text)

    assert code == 0
    by_rater = {d["rater"]: d for d in data["drift"]}
    assert by_rater["C"]["status"] == "drift"
    assert by_rater["C"]["n_shared"] == 8
    assert by_rater["C"]["difference"] > 2
    assert by_rater["A"]["status"] == "no drift"
    assert data["min_shared"] == 5


def test_drift_table_and_the_minimum_shared_setting(ratings):
    code, text = run("fidelity", "drift", "--ratings", ratings(drifting_panel()), "--min-shared", "9")

    assert code == 0
    assert text.count("not enough shared ratings") == 3
    assert "at least 9 shared targets" in text


def test_drift_threshold_in_points(ratings):
    _, text = run("fidelity", "drift", "--ratings", ratings(drifting_panel()), "--threshold-points", "5", "--json")

    assert {d["status"] for d in json.loads(text)["drift"]} == {"no drift"}
    assert json.loads(text)["threshold"] == 5


def test_drift_setting_out_of_bounds_is_an_error(ratings, capsys):
    code, _ = run("fidelity", "drift", "--ratings", ratings(drifting_panel()), "--min-shared", "1")

    assert code == 2
    assert "min_shared must be a whole number from 2 to 1000" in capsys.readouterr().err


# --- routes ------------------------------------------------------------------------------------


def test_routes_lists_each_rule_with_its_status(monkeypatch):
    from interpersonal.core.fidelity import accreditation

    monkeypatch.delenv(accreditation.SETTINGS_VARIABLE, raising=False)
    accreditation.reload()
    code, text = run("fidelity", "routes", "--json")
    routes = {r["id"]: r for r in json.loads(text)}

    assert code == 0
    assert set(routes) == {"ipt_uk_practitioner", "dit_practitioner"}
    ipt_rules = {x["key"]: x for x in routes["ipt_uk_practitioner"]["rules"]}
    assert ipt_rules["supervised_cases"]["confirmed"] is True
    assert ipt_rules["recordings_per_case"]["confirmed"] is False
    _, table = run("fidelity", "routes")
    assert "4 IPT cases completed under supervision [confirmed]" in table
    assert "[service setting (unconfirmed)]" in table
