"""The ``interpersonal`` command: measures, score (one set and JSON lines) and change."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire

from interpersonal import cli
from interpersonal.core import measures


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(list(argv), out=out)
    return code, out.getvalue()


def console_script() -> str:
    found = shutil.which("interpersonal", path=str(Path(sys.executable).parent))
    assert found, "the console script is installed with the project (pip install -e .)"
    return found


def test_measures_list_names_every_instrument():
    code, text = run("measures", "list")
    assert code == 0
    for inst in measures.catalogue():
        assert inst.id in text
        assert inst.abbreviation in text


def test_measures_list_json():
    code, text = run("measures", "list", "--json")
    rows = json.loads(text)
    assert code == 0
    assert {r["id"] for r in rows} == {i.id for i in measures.catalogue()}
    assert next(r for r in rows if r["id"] == "phq9")["range"] == [0, 27]


def test_measures_show_prints_rules_and_unconfirmed_settings():
    code, text = run("measures", "show", "phq9")
    assert code == 0
    assert "Kroenke" in text
    assert "Caseness: at or above 10" in text
    assert "Risk: item 9 at or above 1" in text
    assert "Service settings (source unconfirmed)" in text


def test_measures_show_of_a_licensed_instrument_prints_no_item_text():
    code, text = run("measures", "show", "bdi2", "--json")
    data = json.loads(text)
    assert code == 0
    assert all(item["text"] is None for item in data["items"])
    assert all(o["label"] is None for item in data["items"] for o in item["options"])


def test_measures_fhir_prints_a_valid_questionnaire():
    code, text = run("measures", "fhir", "gad7")
    assert code == 0
    assert Questionnaire.model_validate(json.loads(text)).id == "gad7"


def test_score_one_answer_set_as_json():
    # Kroenke et al. 2001: sum of items 1-9; 10-14 is moderate.
    code, text = run("score", "phq9", "--answers", "1=2,2=2,3=1,4=2,5=1,6=1,7=1,8=0,9=1", "--json")
    data = json.loads(text)
    assert code == 0
    assert (data["total"], data["severity"], data["caseness"], data["risk"]) == (11, "Moderate", True, ["9"])


def test_score_with_an_empty_value_treats_the_item_as_missing_and_prorates():
    code, text = run("score", "phq9", "--answers", "1=2,2=1,3=1,4=2,5=0,6=1,7=1,8=,9=1", "--json")
    data = json.loads(text)
    assert code == 0
    assert data["total"] == 10  # 9 x 9/8 = 10.125, rounded half up (docs/measures.md)
    assert data["prorated"] is True
    assert data["missing"] == ["8"]


def test_score_text_with_item_9_unanswered_says_the_risk_item_was_not_answered():
    code, text = run("score", "phq9", "--answers", "1=1,2=1,3=1,4=1,5=1,6=1,7=1,8=1,9=")
    assert code == 0
    assert "prorated for missing item(s) 9" in text
    assert "RISK ITEM NOT ANSWERED: item 9 (Thoughts of being better off dead or of self-harm): ask about it" in text


def test_score_text_says_the_risk_item_was_not_answered_even_when_no_total_can_be_given():
    code, text = run("score", "phq9", "--answers", "1=,2=,3=,4=1,5=1,6=1,7=1,8=1")
    assert code == 0
    assert "not scored" in text
    assert "RISK ITEM NOT ANSWERED: item 9" in text


def test_score_text_with_every_risk_item_answered_has_no_unanswered_line():
    code, text = run("score", "phq9", "--answers", "1=1,2=1,3=1,4=1,5=1,6=1,7=1,8=1,9=0")
    assert code == 0
    assert "NOT ANSWERED" not in text


def test_score_json_with_item_9_unanswered_names_it_and_keeps_the_other_keys():
    code, text = run("score", "phq9", "--answers", "1=1,2=1,3=1,4=1,5=1,6=1,7=1,8=1", "--json")
    data = json.loads(text)
    assert code == 0
    assert data["risk_unanswered"] == ["9"]
    assert (data["total"], data["prorated"], data["missing"], data["risk"]) == (9, True, ["9"], [])


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ("1=4", "phq9 item 1: value 4 is not allowed; allowed: 0, 1, 2, 3"),
        ("1=two", "phq9 item 1: value must be a whole number"),
        ("11=1", "phq9 item 11: is not an item of phq9"),
        ("1", "is not ITEM=VALUE"),
        ("1=1,1=2", "given twice"),
    ],
)
def test_score_bad_answers_exit_2_with_the_reason(answers, message, capsys):
    code, text = run("score", "phq9", "--answers", answers)
    assert code == 2
    assert text == ""
    assert message in capsys.readouterr().err


def test_score_unknown_instrument_exits_2(capsys):
    code, _ = run("score", "phq99", "--answers", "1=1")
    assert code == 2
    assert "unknown instrument 'phq99'" in capsys.readouterr().err


def test_score_jsonl_scores_good_lines_and_reports_bad_ones_on_their_own_line(tmp_path):
    lines = [
        {"instrument": "phq9", "answers": {"1": 2, "2": 0}},  # too many missing: scored as not scorable
        {"instrument": "gad7", "answers": {str(i): 1 for i in range(1, 8)}},
        "not json",
        {"instrument": "gad7", "answers": {"1": 9}},
        {"instrument": "nope", "answers": {}},
        {"answers": {}},
        {"instrument": "core10", "answers": {str(i): 0 for i in range(1, 11)}},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")

    code, text = run("score", "--jsonl", "--input", str(source))
    out = [json.loads(line) for line in text.splitlines()]

    assert code == 1
    assert len(out) == len(lines)
    assert out[0]["total"] is None
    assert out[0]["complete"] is False
    assert out[1]["total"] == 7
    assert out[1]["severity"] == "Mild"
    assert "error" in out[2]
    assert "not valid JSON" in out[2]["error"]
    assert "value 9 is not allowed" in out[3]["error"]
    assert "unknown instrument" in out[4]["error"]
    assert "'instrument'" in out[5]["error"]
    assert out[6]["total"] == 8  # CORE-10 items 2 and 3 are reverse-keyed (Barkham et al. 2013)


def test_score_jsonl_exit_0_when_every_line_scores(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"instrument": "wsas", "answers": {str(i): 4 for i in range(1, 6)}}) + "\n\n")
    code, text = run("score", "--jsonl", "--input", str(source))
    assert code == 0
    assert json.loads(text)["total"] == 20


def test_change_reports_reliable_change_jacobson_truax_response_and_remission():
    code, text = run(
        "change", "phq9", "--json",
        "--before", "1=3,2=3,3=2,4=2,5=2,6=2,7=2,8=1,9=1",
        "--after", "1=1,2=1,3=0,4=1,5=0,6=0,7=0,8=0,9=0",
    )
    data = json.loads(text)
    assert code == 0
    assert (data["before"]["total"], data["after"]["total"], data["difference"]) == (18, 3, -15)
    assert data["reliable_change"] == "improved"
    assert data["jacobson_truax"] == "recovered"
    assert data["response"] is True
    assert data["remission"] is True


def test_console_script_reads_jsonl_from_stdin_and_exits_1_on_a_bad_line():
    stdin = json.dumps({"instrument": "phq9", "answers": {str(i): 0 for i in range(1, 10)}}) + "\n{oops\n"
    result = subprocess.run([console_script(), "score", "--jsonl"], input=stdin, capture_output=True, text=True, check=False)
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert result.returncode == 1
    assert lines[0]["total"] == 0
    assert "error" in lines[1]


def test_console_script_passes_other_commands_to_django():
    result = subprocess.run([console_script(), "help", "--commands"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "migrate" in result.stdout
