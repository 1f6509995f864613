"""What a therapy has, as protocol data: treatment phases, features, letters and link measures.

Only treatment contacts count towards a finished course (≥ 2 attended treatment sessions) and
stop the waiting-time clocks; assessment and screening contacts are not treatment (NHS Talking
Therapies, DOMAIN.md §4 and §6). DIT's focus is the IPAF and its ending phase writes the goodbye
letter; IPT's initial phase draws a timeline and an interpersonal inventory and shares a
formulation (DOMAIN.md §1).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from interpersonal.core import protocols

Writer = Callable[..., Path]

ASSESSMENT_FIRST = """\
schema = 1
id = "assessed"
name = "A course that opens with an assessment session"
therapy = "cbt"
step = 3
description = "Tests: one assessment session, not treatment, then treatment."
source = "Tests."
session_measures = ["phq9", "gad7"]
baseline_measures = ["phq9", "gad7", "wsas"]

[snomed]
source = "Tests."

[sessions]
cadence = "weekly"
default = 8
min = 6
max = 10
source = "Tests."
confirmed = true

[[phases]]
id = "assessment"
name = "Assessment"
length = 1
treatment = false
source = "Tests."
confirmed = true
tasks = [{ id = "assess", label = "Assessed" }]

[[phases]]
id = "treatment"
name = "Treatment"
length = "rest"
source = "Tests."
confirmed = true
tasks = [{ id = "treat", label = "Treated" }]
"""


def _load_error(write_protocol: Writer, text: str) -> protocols.DefinitionError:
    with pytest.raises(protocols.DefinitionError) as err:
        protocols.load_file(write_protocol(text))
    return err.value


# -- treatment phases ------------------------------------------------------------------------

def test_a_session_in_an_assessment_phase_is_not_treatment(write_protocol: Writer) -> None:
    # DOMAIN.md §6: assessment and screening contacts are not treatment.
    p = protocols.load_file(write_protocol(ASSESSMENT_FIRST, "assessed.toml"))

    assert [ph.treatment for ph in p.phases] == [False, True]
    assert p.is_treatment(1, 8) is False
    assert p.is_treatment(2, 8) is True
    assert p.is_treatment(8, 8) is True
    assert p.is_treatment(30, 8) is True  # past the contract: the last phase


def test_phase_at_is_phase_for_the_sessions_before_it(write_protocol: Writer) -> None:
    p = protocols.load_file(write_protocol(ASSESSMENT_FIRST, "assessed.toml"))

    for n in range(1, 12):
        assert p.phase_at(n, 8) == p.phase_for(n - 1, 8)


@pytest.mark.parametrize("number", [0, -1, True, 1.5])
def test_phase_at_refuses_a_session_number_below_one(write_protocol: Writer, number: object) -> None:
    p = protocols.load_file(write_protocol(ASSESSMENT_FIRST, "assessed.toml"))

    with pytest.raises(protocols.ProtocolError, match="1 or more"):
        p.phase_at(number, 8)  # type: ignore[arg-type]


def test_every_shipped_phase_is_treatment() -> None:
    # The shipped protocols count every session as treatment (a service may mark an assessment
    # phase with INTERPERSONAL_PROTOCOLS_SETTINGS): existing courses keep their counts.
    for p in protocols.catalogue():
        assert all(ph.treatment for ph in p.phases), p.id


def test_a_protocol_with_no_treatment_phase_is_refused(minimal: str, write_protocol: Writer) -> None:
    text = minimal.replace("confirmed = true\ntasks", "confirmed = true\ntreatment = false\ntasks")
    assert text.count("treatment = false") == 3

    error = _load_error(write_protocol, text)

    assert (error.field, "at least one phase must be treatment" in error.problem) == ("phases", True)


def test_treatment_must_be_true_or_false(minimal: str, write_protocol: Writer) -> None:
    error = _load_error(write_protocol, minimal.replace('length = 2\n', 'length = 2\ntreatment = "no"\n', 1))

    assert error.field == "phases[0].treatment"
    assert "true or false" in error.problem


def test_phase_treatment_is_serialised(write_protocol: Writer) -> None:
    data = protocols.load_file(write_protocol(ASSESSMENT_FIRST, "assessed.toml")).to_dict()

    assert [ph["treatment"] for ph in data["phases"]] == [False, True]


LIT_ASSESSMENT_NOT_TREATMENT = """\
[lit]
[[lit.phases]]
id = "assessment"
name = "Assessment"
length = 1
treatment = false
source = "Service decision: the assessment appointment is not a treatment contact."
tasks = [{ id = "assessment", label = "Problem statement and goals agreed" }]

[[lit.phases]]
id = "guided_self_help"
name = "Guided self-help"
length = "rest"
source = "As shipped."
tasks = [{ id = "review_practice", label = "Progress with the materials reviewed" }]
"""


def test_a_service_marks_an_assessment_phase_with_its_settings(fresh_protocols: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = tmp_path / "service.toml"
    settings.write_text(LIT_ASSESSMENT_NOT_TREATMENT, encoding="utf-8")
    fresh_protocols.setenv("INTERPERSONAL_PROTOCOLS_SETTINGS", str(settings))
    protocols.reload()

    lit = protocols.get("lit")

    assert lit.is_treatment(1, 6) is False
    assert lit.is_treatment(2, 6) is True


# -- features, letters, link measures ---------------------------------------------------------

def test_dit_has_the_ipaf_and_the_goodbye_letter() -> None:
    # DOMAIN.md §1: DIT's focus is the IPAF; its ending phase writes the goodbye letter [C].
    dit = protocols.get("dit")

    assert dit.features == ("ipaf",)
    assert dit.letters == ("goodbye", "gp_discharge")
    assert dit.has_feature("ipaf")
    assert not dit.has_feature("timeline")


@pytest.mark.parametrize("protocol_id", ["ipt", "ipt_brief", "ipt_maintenance"])
def test_every_ipt_format_has_timeline_inventory_formulation_and_ending_summary(protocol_id: str) -> None:
    # DOMAIN.md §1: IPT's initial phase — timeline, interpersonal inventory, formulation [seeds/003].
    p = protocols.get(protocol_id)

    assert p.features == ("timeline", "inventory", "ipt_formulation")
    assert p.letters == ("ending_summary", "gp_discharge")


@pytest.mark.parametrize("protocol_id", ["cbt", "lit"])
def test_cbt_and_lit_have_no_focus_record_and_the_gp_letter_only(protocol_id: str) -> None:
    p = protocols.get(protocol_id)

    assert (p.features, p.letters) == ((), ("gp_discharge",))


def test_having_lists_the_protocols_with_a_feature() -> None:
    assert [p.id for p in protocols.having("ipaf")] == ["dit"]
    assert [p.id for p in protocols.having("inventory")] == ["ipt", "ipt_brief", "ipt_maintenance"]
    assert protocols.having("nothing") == ()


def test_link_measures_keep_the_wsas_where_the_protocol_takes_it() -> None:
    # What the scheduler's WSAS special case sent, now data: the session measures, plus the WSAS
    # where the protocol takes it at baseline; never the clinician-rated HRSD-17.
    expected = {"dit": ("phq9", "gad7", "wsas"), "ipt": ("phq9", "gad7", "wsas"), "ipt_brief": ("phq9", "gad7", "wsas"),
                "cbt": ("phq9", "gad7", "wsas"), "lit": ("phq9", "gad7", "wsas"), "ipt_maintenance": ("phq9", "gad7")}

    assert {p.id: p.link_measures for p in protocols.catalogue()} == expected


def test_defaults_no_features_the_gp_letter_and_the_session_measures_by_link(write_protocol: Writer) -> None:
    p = protocols.load_file(write_protocol())

    assert (p.features, p.letters, p.link_measures) == ((), ("gp_discharge",), ("phq9", "gad7"))


def test_features_letters_and_link_measures_are_serialised() -> None:
    data = protocols.get("dit").to_dict()

    assert (data["features"], data["letters"], data["link_measures"]) == (
        ["ipaf"], ["goodbye", "gp_discharge"], ["phq9", "gad7", "wsas"])


def test_an_empty_letters_list_means_no_letters(minimal: str, write_protocol: Writer) -> None:
    p = protocols.load_file(write_protocol("letters = []\n" + minimal))

    assert p.letters == ()


@pytest.mark.parametrize(
    ("line", "field", "problem"),
    [
        ('features = ["ipaff"]', "features", "unknown feature 'ipaff' (known: inventory, ipaf, ipt_formulation, timeline)"),
        ('features = ["ipaf", "ipaf"]', "features", "twice"),
        ('features = "ipaf"', "features", "list of strings"),
        ('letters = ["farewell"]', "letters", "unknown letter 'farewell' (known: ending_summary, goodbye, gp_discharge)"),
        ('link_measures = ["phq10"]', "link_measures", "unknown measure 'phq10'"),
        ('link_measures = ["hrsd17"]', "link_measures", "'hrsd17' cannot be sent to the patient by link"),
        ('link_measures = ["bdi2"]', "link_measures", "'bdi2' cannot be sent to the patient by link"),
    ],
)
def test_unknown_or_unusable_names_are_refused_naming_the_field(
    minimal: str, write_protocol: Writer, line: str, field: str, problem: str,
) -> None:
    error = _load_error(write_protocol, line + "\n" + minimal)

    assert error.field == field
    assert problem in error.problem
    assert str(error).startswith("demo.toml: ")


def test_generation_changes_when_the_catalogue_is_reloaded(fresh_protocols: pytest.MonkeyPatch) -> None:
    before = protocols.generation()

    protocols.reload()

    assert protocols.generation() != before
