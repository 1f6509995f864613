"""Definition files the loader must refuse, each with an error naming the file and the field;
and the service hooks (extra directories, settings overrides)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from interpersonal.core import protocols

Writer = Callable[..., Path]


def _load_error(write_protocol: Writer, text: str) -> protocols.DefinitionError:
    with pytest.raises(protocols.DefinitionError) as err:
        protocols.load_file(write_protocol(text))
    assert isinstance(err.value, protocols.ProtocolError)
    assert str(err.value).startswith("demo.toml: ")
    return err.value


def test_minimal_definition_loads(write_protocol: Writer) -> None:
    p = protocols.load_file(write_protocol())

    assert [(ph.id, a, b) for ph, a, b in p.phase_ranges(10)] == [("start", 1, 2), ("work", 3, 8), ("end", 9, 10)]
    assert p.source_file == "demo.toml"
    assert p.unconfirmed() == ()


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        ('schema = 1', 'schema = 2', "schema", "reads schema 1"),
        ('id = "demo"', 'id = "Demo"', "id", "lower-case"),
        ('therapy = "ipt"', 'therapy = "ipt-a"', "therapy", "must be one of dit, ipt, cbt, lit"),
        ("step = 3", "step = 4", "step", "must be one of 2, 3"),
        ("step = 3", "step = true", "step", "must be one of 2, 3"),
        ('session_measures = ["phq9", "gad7"]', 'session_measures = ["phq9", "phq10"]', "session_measures", "unknown measure 'phq10'"),
        ('session_measures = ["phq9", "gad7"]', "session_measures = []", "session_measures", "at least one"),
        ('baseline_measures = ["phq9"]', 'baseline_measures = ["phq9", "phq9"]', "baseline_measures", "twice"),
        ('code = "443730003"', 'code = "SCT-443730003"', "snomed.code", "digits only"),
        ('cadence = "weekly"', 'cadence = "fortnightly"', "sessions.cadence", "weekly, monthly"),
        ("default = 10", "default = 14", "sessions.default", "within min..max (8..12)"),
        ("min = 8", "min = 0", "sessions.min", "1 or more"),
        ("min = 8", "min = 4", "sessions.min", "fixed-length phases take 4 sessions"),
        ("length = 2", "length = 0", "phases[0].length", '"rest"'),
        ("length = 2", 'length = "remaining"', "phases[0].length", '"rest"'),
        ('length = "rest"', "length = 4", "phases", "exactly one phase"),
        ("length = 2", 'length = "rest"', "phases", "found 2"),
        ('{ id = "c", label = "C" }', '{ id = "a", label = "C" }', "phases[2].tasks[0].id", "already defined in phases[0].tasks[0]"),
        ('{ id = "c", label = "C" }', '{ id = "c", lable = "C" }', "phases[2].tasks[0].label", "is required"),
        ('tasks = [{ id = "b", label = "B" }]', "tasks = []", "phases[1].tasks", "non-empty array"),
        ('id = "work"', 'id = "start"', "phases[1].id", "defined twice"),
        ("confirmed = true\n\n[sessions]", 'confirmed = "yes"\n\n[sessions]', "snomed.confirmed", "true or false"),
        ('cadence = "weekly"', 'cadence = "weekly"\nsauce = "x"', "sessions.sauce", "is not a known field"),
        ('source = "Tests."\nconfirmed = true\n\n[[phases]]\nid = "start"', 'sauce = "Tests."\nconfirmed = true\n\n[[phases]]\nid = "start"', "sessions.source", "is required"),
    ],
)
def test_invalid_definition_names_file_and_field(minimal: str, write_protocol: Writer, old: str, new: str, field: str, problem: str) -> None:
    assert old in minimal
    error = _load_error(write_protocol, minimal.replace(old, new, 1))

    assert error.field == field
    assert problem in error.problem


def test_unknown_top_level_field_is_refused(minimal: str, write_protocol: Writer) -> None:
    error = _load_error(write_protocol, 'sesions = 3\n' + minimal)

    assert (error.field, error.problem) == ("sesions", "is not a known field")


def test_open_ended_protocol_may_not_give_default_or_max(minimal: str, write_protocol: Writer) -> None:
    text = minimal.replace('cadence = "weekly"', 'cadence = "monthly"\nopen_ended = true').replace("default = 10\n", "")

    error = _load_error(write_protocol, text)

    assert error.field == "sessions.max"
    assert "open-ended" in error.problem


def test_open_ended_rest_phase_must_be_last(minimal: str, write_protocol: Writer) -> None:
    text = minimal.replace('cadence = "weekly"', 'cadence = "monthly"\nopen_ended = true').replace("default = 10\n", "").replace("max = 12\n", "")

    error = _load_error(write_protocol, text)

    assert error.field == "phases[1].length"
    assert "last phase" in error.problem


def test_invalid_toml_names_the_file(minimal: str, write_protocol: Writer) -> None:
    error = _load_error(write_protocol, minimal + "\n[[phases]\n")

    assert error.field == "(file)"
    assert "not valid TOML" in error.problem


def test_a_fixed_course_needs_default_and_max(minimal: str, write_protocol: Writer) -> None:
    error = _load_error(write_protocol, minimal.replace("max = 12\n", ""))

    assert (error.field, error.problem) == ("sessions.max", "is required")


def test_task_confirmed_defaults_to_its_phase(minimal: str, write_protocol: Writer) -> None:
    text = minimal.replace('id = "work"\nname = "Work"\nlength = "rest"\nsource = "Tests."\nconfirmed = true', 'id = "work"\nname = "Work"\nlength = "rest"\nsource = "Tests."\nconfirmed = false')
    text = text.replace('{ id = "c", label = "C" }', '{ id = "c", label = "C", confirmed = false, source = "A manual." }')

    p = protocols.load_file(write_protocol(text))

    assert p.task("b").confirmed is False
    assert p.task("c").source == "A manual."
    assert p.unconfirmed() == ("phases.work", "phases.end.tasks.c")


def test_extra_directory_adds_a_protocol(minimal: str, fresh_protocols: pytest.MonkeyPatch, write_protocol: Writer) -> None:
    path = write_protocol()
    fresh_protocols.setenv("INTERPERSONAL_PROTOCOLS_DIRS", str(path.parent))

    assert protocols.get("demo").name == "Demo therapy"
    assert "dit" in [p.id for p in protocols.catalogue()]


def test_extra_directory_may_not_redefine_a_shipped_id(minimal: str, fresh_protocols: pytest.MonkeyPatch, write_protocol: Writer) -> None:
    path = write_protocol(minimal.replace('id = "demo"', 'id = "dit"'), name="my_dit.toml")
    fresh_protocols.setenv("INTERPERSONAL_PROTOCOLS_DIRS", str(path.parent))

    with pytest.raises(protocols.DefinitionError, match=r"my_dit\.toml: id: 'dit' is already defined in dit\.toml"):
        protocols.catalogue()


def test_settings_change_an_unconfirmed_value(minimal: str, fresh_protocols: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = tmp_path / "service.toml"
    settings.write_text('[cbt.sessions]\ndefault = 12\nsource = "Our service: 12 sessions."\nconfirmed = true\n', encoding="utf-8")
    fresh_protocols.setenv("INTERPERSONAL_PROTOCOLS_SETTINGS", str(settings))

    cbt = protocols.get("cbt")

    assert cbt.default_sessions == 12
    assert cbt.max_sessions == 20  # other keys of the table kept
    assert "sessions" not in cbt.unconfirmed()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[psychoanalysis]\nstep = 3\n', "service.toml: psychoanalysis: is not a known protocol"),
        ('[dit]\nid = "dit2"\n', "may not change id"),
        ('dit = 3\n', "must be a table"),
        ("[dit.sessions]\nmin = 2\n", "service.toml: sessions.min"),
    ],
)
def test_bad_settings_are_refused(minimal: str, fresh_protocols: pytest.MonkeyPatch, tmp_path: Path, text: str, message: str) -> None:
    settings = tmp_path / "service.toml"
    settings.write_text(text, encoding="utf-8")
    fresh_protocols.setenv("INTERPERSONAL_PROTOCOLS_SETTINGS", str(settings))

    with pytest.raises(protocols.DefinitionError, match=message):
        protocols.catalogue()


# --- note templates: headings a therapist writes a session's notes under, per phase ----------

_WORK = 'tasks = [{ id = "b", label = "B" }]'


def test_note_template_is_optional_and_kept_per_phase(minimal: str, write_protocol: Writer) -> None:
    text = minimal.replace(_WORK, 'note_template = """\nFocus this week:\nPlan:"""\n' + _WORK)

    p = protocols.load_file(write_protocol(text))

    assert [ph.note_template for ph in p.phases] == ["", "Focus this week:\nPlan:", ""]
    assert p.to_dict()["phases"][1]["note_template"] == "Focus this week:\nPlan:"


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("note_template = 3", "must be a non-empty string"),
        ('note_template = "   "', "must be a non-empty string"),
        (f'note_template = "{"x" * (protocols.NOTE_TEMPLATE_MAX + 1)}"', f"at most {protocols.NOTE_TEMPLATE_MAX} characters"),
        ('note_template = "Focus:\\u0007"', "printable text and line breaks only"),
    ],
)
def test_a_note_template_must_be_a_bounded_printable_string(minimal: str, write_protocol: Writer, template: str,
                                                            problem: str) -> None:
    error = _load_error(write_protocol, minimal.replace(_WORK, template + "\n" + _WORK))

    assert error.field == "phases[1].note_template"
    assert problem in error.problem


def test_a_template_of_exactly_the_bound_loads(minimal: str, write_protocol: Writer) -> None:
    text = minimal.replace(_WORK, f'note_template = "{"x" * protocols.NOTE_TEMPLATE_MAX}"\n' + _WORK)

    assert len(protocols.load_file(write_protocol(text)).phase("work").note_template) == protocols.NOTE_TEMPLATE_MAX


def test_every_shipped_phase_has_a_note_template() -> None:
    """DIT's and IPT's from their sources (seeds/002, 003; DOMAIN.md §1), the others from their phases' tasks."""
    for p in protocols.catalogue():
        for phase in p.phases:
            assert phase.note_template, f"{p.id}.{phase.id} has no note template"
            assert len(phase.note_template) <= protocols.NOTE_TEMPLATE_MAX


def test_dit_and_ipt_templates_prompt_for_their_phase_work() -> None:
    dit, ipt = protocols.get("dit"), protocols.get("ipt")

    assert "IPAF, the affect that links them:" in dit.phase("initial").note_template
    assert "The IPAF in current relationships" in dit.phase("middle").note_template
    assert "Goodbye letter" in dit.phase("ending").note_template
    assert "Interpersonal inventory" in ipt.phase("initial").note_template
    assert "Sick (recovery) role" in ipt.phase("initial").note_template
    assert "focal area chosen" in ipt.phase("initial").note_template
    assert "Strategies used" in ipt.phase("middle").note_template
    assert "Feelings about ending" in ipt.phase("final").note_template
