"""The risk assessment and safety plan forms as data (interpersonal.core.risk): the built-in
definitions, a service's settings over them, and every way a setting is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from interpersonal.core import risk


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "risk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_assessment_has_the_nice_headings_and_a_low_medium_high_level():
    forms = risk.load()

    ids = [f.id for f in forms.assessment.fields]
    assert ids[:9] == ["suicidal_ideation", "intent", "plans", "means", "previous_attempts", "self_harm",
                       "risk_to_others", "risk_from_others", "protective_factors"]
    assert [(c.id, c.label) for c in forms.assessment.level.choices] == [("low", "Low"), ("medium", "Medium"),
                                                                         ("high", "High")]
    assert forms.assessment.level.required
    assert "NG225" in forms.assessment.citation


def test_builtin_safety_plan_follows_stanley_and_brown_2012():
    plan = risk.load().safety_plan

    assert [f.label for f in plan.fields] == [
        "Warning signs", "Internal coping strategies", "People and social settings that provide distraction",
        "People I can ask for help", "Professionals or agencies I can contact in a crisis",
        "Making the environment safe", "Reasons for living"]
    assert "Cognitive and Behavioral Practice. 2012;19(2):256-264" in plan.citation


def test_a_service_replaces_the_safety_plan_fields_and_keeps_the_assessment(tmp_path):
    path = write(tmp_path, '''
[safety_plan]
name = "Staying safe plan"
fields = [
  { id = "warning_signs", label = "My warning signs" },
  { id = "crisis_line", label = "Crisis line", max_length = 200, required = true },
]
''')

    forms = risk.load(path)

    assert forms.safety_plan.name == "Staying safe plan"
    assert [(f.id, f.label, f.max_length, f.required) for f in forms.safety_plan.fields] == [
        ("warning_signs", "My warning signs", risk.DEFAULT_TEXT_MAX, False), ("crisis_line", "Crisis line", 200, True)]
    assert forms.assessment == risk.load().assessment


def test_a_service_may_change_the_level_choices(tmp_path):
    path = write(tmp_path, '''
[risk_assessment]
level_field = "rag"

[[risk_assessment.fields]]
id = "rag"
label = "RAG rating"
kind = "choice"
required = true
choices = [{ id = "green", label = "Green" }, { id = "amber", label = "Amber" }, { id = "red", label = "Red" }]
''')

    assert [c.label for c in risk.load(path).assessment.level.choices] == ["Green", "Amber", "Red"]


@pytest.mark.parametrize(("text", "field", "problem"), [
    ('[other_form]\nname = "x"', "other_form", "is not a risk form"),
    ('[safety_plan]\nid = "mine"', "safety_plan.id", "may not be changed"),
    ('[safety_plan]\nfields = []', "fields", "must list at least one field"),
    ('[safety_plan]\nfields = [{ id = "a", label = "A" }, { id = "a", label = "B" }]', "fields", "repeat the id 'a'"),
    ('[safety_plan]\nfields = [{ id = "Bad Id", label = "A" }]', "fields[0].id", "lower-case"),
    ('[safety_plan]\nfields = [{ id = "a", label = "" }]', "fields[0].label", "non-empty"),
    ('[safety_plan]\nfields = [{ id = "a", label = "A", kind = "date" }]', "fields[0].kind", "must be one of"),
    ('[safety_plan]\nfields = [{ id = "a", label = "A", max_length = 5001 }]', "fields[0].max_length", "from 1 to 5000"),
    ('[safety_plan]\nfields = [{ id = "a", label = "A", colour = "red" }]', "fields[0].colour", "not a field setting"),
    ('[safety_plan]\nfields = [{ id = "a", label = "A", kind = "choice", choices = [{ id = "x", label = "X" }] }]',
     "fields[0].choices", "at least two"),
    ('[safety_plan]\nfields = [{ id = "a", label = "A", choices = [{ id = "x", label = "X" }] }]',
     "fields[0].choices", "only for a choice field"),
    ('[safety_plan]\nlevel_field = "a"', "level_field", "only for the risk assessment"),
    ('[risk_assessment]\nlevel_field = "formulation"', "level_field", "required choice field"),
    ('[risk_assessment]\nlevel_field = "nothing"', "level_field", "required choice field"),
    ("[safety_plan\n", "(file)", "not valid TOML"),
])
def test_a_setting_that_does_not_validate_is_refused_naming_the_field(tmp_path, text, field, problem):
    with pytest.raises(risk.RiskConfigError) as caught:
        risk.load(write(tmp_path, text))

    assert caught.value.field == field
    assert problem in caught.value.problem


def test_current_reads_the_settings_variable_once_until_reloaded(tmp_path, monkeypatch):
    path = write(tmp_path, '[safety_plan]\nname = "Keeping safe"')
    monkeypatch.setenv(risk.SETTINGS_VARIABLE, str(path))
    risk.reload()
    try:
        assert risk.current().safety_plan.name == "Keeping safe"
        path.write_text('[safety_plan]\nname = "Changed"', encoding="utf-8")
        assert risk.current().safety_plan.name == "Keeping safe"
        risk.reload()
        assert risk.current().safety_plan.name == "Changed"
    finally:
        monkeypatch.delenv(risk.SETTINGS_VARIABLE)
        risk.reload()


def test_a_record_is_read_with_the_fields_it_was_recorded_with_not_todays():
    snapshot = risk.load().assessment.snapshot()
    answers = {"overall_level": "medium", "intent": "None stated", "unknown_later_field": "ignored"}

    read = dict(risk.answered(snapshot, answers))

    assert read["Overall risk level"] == "Medium"
    assert read["Intent"] == "None stated"
    assert read["Plans"] == ""
    assert "unknown_later_field" not in read
