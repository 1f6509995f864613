"""Accreditation rules as data (interpersonal/core/fidelity/accreditation.py and accreditation/*.toml).

Thresholds under test, with their sources:
- IPT UK practitioner (seeds/003, DOMAIN.md §2): four supervised cases; the first two in
  depression; at least 12 of the 16 sessions per case; at least four hours of supervision per case;
  recorded sessions reviewed (how many per case: a service setting, default 1).
- DIT practitioner (DOMAIN.md §9 [V, Anna Freud Centre / BPC]): two supervised cases, 16 hours of
  supervision, four rated recordings, a written case study; passing and phase coverage
  (IPAF, middle, ending) are service settings.
"""

from __future__ import annotations

import doctest
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from interpersonal.core.fidelity import accreditation as acc
from interpersonal.core.fidelity.errors import AccreditationConfigError, EvidenceError

START = date(2026, 1, 5)


@pytest.fixture(autouse=True)
def fresh_routes(monkeypatch):
    """Each test reads the routes with its own environment (no settings unless it sets them)."""
    monkeypatch.delenv(acc.SETTINGS_VARIABLE, raising=False)
    monkeypatch.delenv(acc.DIRS_VARIABLE, raising=False)
    acc.reload()
    yield monkeypatch
    acc.reload()


def ipt_case(n: int, **changes) -> acc.Case:
    """A supervised IPT case that meets every per-case IPT UK rule, started n weeks after START."""
    base = acc.Case(f"ipt{n}", "ipt", in_depression=True, started=START + timedelta(weeks=n), sessions_attended=16,
                    sessions_planned=16, sessions_supervised=14, supervision_minutes=300)
    return replace(base, **changes)


def rec(n: int, case_id: str, phase: str = "middle", passed: bool = True) -> acc.RatedRecording:
    return acc.RatedRecording(f"rec{n}", case_id, phase, passed)


def ipt(*cases: acc.Case, recordings=None) -> acc.Progress:
    if recordings is None:
        recordings = tuple(rec(i, c.id) for i, c in enumerate(cases))
    return acc.evaluate(acc.get("ipt_uk_practitioner"), acc.Evidence(tuple(cases), tuple(recordings)))


def dit_case(n: int, minutes: int = 480, **changes) -> acc.Case:
    base = acc.Case(f"dit{n}", "dit", in_depression=True, started=START + timedelta(weeks=n), sessions_attended=16,
                    sessions_planned=16, sessions_supervised=16, supervision_minutes=minutes)
    return replace(base, **changes)


DIT_RECORDINGS = (rec(1, "dit1", "ipaf"), rec(2, "dit1", "middle"), rec(3, "dit2", "middle"), rec(4, "dit2", "ending"))


DIT_CASES = (dit_case(1), dit_case(2))
CASE_STUDY = date(2026, 9, 1)


def dit(cases=DIT_CASES, recordings=DIT_RECORDINGS, case_study=CASE_STUDY) -> acc.Progress:
    return acc.evaluate(acc.get("dit_practitioner"), acc.Evidence(tuple(cases), tuple(recordings), case_study))


# --- The shipped routes -------------------------------------------------------------------------


def test_both_routes_ship_with_a_source_and_status_for_every_rule():
    routes = {r.id: r for r in acc.catalogue()}

    assert set(routes) == {"ipt_uk_practitioner", "dit_practitioner"}
    for route in routes.values():
        for rule in route.rules:
            assert rule.source
            assert isinstance(rule.confirmed, bool)
            assert rule.confirmed or rule.note, f"{route.id}.{rule.key}: an unconfirmed rule says why"
    assert routes["ipt_uk_practitioner"].unconfirmed() == ("sessions_per_case", "recordings_per_case")
    assert routes["dit_practitioner"].unconfirmed() == ("passing_recordings", "recording_phases")


def test_rule_text_carries_its_values():
    route = acc.get("ipt_uk_practitioner")

    assert route.rule("supervised_cases").text == "4 IPT cases completed under supervision"
    assert route.rule("sessions_per_case").text == "At least 12 of the 16 sessions attended in each of 4 cases"
    assert route.rule("supervision_per_case").text == "At least 4 hours of supervision in each of 4 cases"
    assert acc.get("dit_practitioner").rule("supervision_total").text == "16 hours of supervision in total"


def test_a_complete_ipt_portfolio_meets_every_rule():
    progress = ipt(*(ipt_case(n) for n in range(1, 5)))

    assert [r.status for r in progress.rules] == ["met"] * 5
    assert progress.met
    assert progress.supervised_cases == ("ipt1", "ipt2", "ipt3", "ipt4")


def test_module_docstring_example_runs():
    failures, tried = doctest.testmod(acc)
    assert (failures, tried > 0) == (0, True)


# --- IPT UK: each rule at its edge ----------------------------------------------------------------


def test_ipt_four_supervised_cases_met_three_not_yet():
    four, three = ipt(*(ipt_case(n) for n in range(1, 5))), ipt(*(ipt_case(n) for n in range(1, 4)))

    assert four.result("supervised_cases").met
    assert four.result("supervised_cases").figures == "4 of 4 supervised cases"
    assert not three.result("supervised_cases").met
    assert three.result("supervised_cases").figures == "3 of 4 supervised cases"
    assert three.result("supervised_cases").case_ids == ("ipt1", "ipt2", "ipt3")


def test_a_case_without_supervision_logged_is_not_a_supervised_case():
    progress = ipt(*(ipt_case(n) for n in range(1, 4)), ipt_case(4, supervision_minutes=0, sessions_supervised=0))

    assert progress.result("supervised_cases").figures == "3 of 4 supervised cases"
    assert "ipt4" not in progress.supervised_cases


def test_a_case_of_another_therapy_does_not_count():
    progress = ipt(*(ipt_case(n) for n in range(1, 4)), ipt_case(4, therapy="ipt_brief"))

    assert not progress.result("supervised_cases").met


def test_first_two_cases_are_the_two_earliest_started_whatever_the_order_given():
    # The anxiety case started last: the first two (by start date) are in depression.
    cases = [ipt_case(4, in_depression=False), ipt_case(2), ipt_case(1), ipt_case(3)]

    result = ipt(*cases).result("first_cases_in_depression")

    assert result.met
    assert result.case_ids == ("ipt1", "ipt2")
    assert result.figures == "2 of the first 2 supervised cases in depression"


def test_a_second_case_not_in_depression_is_not_yet_and_named():
    cases = [ipt_case(1), ipt_case(2, in_depression=False), ipt_case(3), ipt_case(4)]

    result = ipt(*cases).result("first_cases_in_depression")

    assert not result.met
    assert result.figures == "1 of the first 2 supervised cases in depression; not in depression: ipt2"


def test_same_start_date_is_ordered_by_case_id():
    cases = [ipt_case(1, id="b", started=START, in_depression=False), ipt_case(2, id="a", started=START),
             ipt_case(3, id="c", started=START)]

    result = ipt(*cases).result("first_cases_in_depression")

    assert result.case_ids == ("a", "b")
    assert not result.met


def test_first_two_cases_with_only_one_supervised_case_is_not_yet():
    result = ipt(ipt_case(1)).result("first_cases_in_depression")

    assert not result.met
    assert result.figures == "1 of the first 2 supervised cases in depression (1 supervised so far)"


def test_twelve_sessions_attended_counts_eleven_does_not():
    cases = [ipt_case(1, sessions_attended=12), ipt_case(2), ipt_case(3), ipt_case(4, sessions_attended=11)]

    result = ipt(*cases).result("sessions_per_case")

    assert not result.met
    assert result.case_ids == ("ipt1", "ipt2", "ipt3")
    assert result.figures == "3 of 4 cases with at least 12 sessions attended"
    assert ipt(*cases[:3], replace(cases[3], sessions_attended=12)).result("sessions_per_case").met


def test_four_hours_of_supervision_counts_three_hours_fifty_nine_does_not():
    cases = [ipt_case(1, supervision_minutes=240), ipt_case(2), ipt_case(3), ipt_case(4, supervision_minutes=239)]

    result = ipt(*cases).result("supervision_per_case")

    assert not result.met
    assert result.figures == "3 of 4 cases with at least 4 hours of supervision"
    assert result.case_ids == ("ipt1", "ipt2", "ipt3")


def test_each_case_needs_a_rated_recording_by_default_pass_or_not():
    cases = [ipt_case(n) for n in range(1, 5)]
    recordings = [rec(1, "ipt1", passed=False), rec(2, "ipt2"), rec(3, "ipt3")]

    result = ipt(*cases, recordings=recordings).result("recordings_per_case")

    assert not result.met
    assert result.figures == "3 of 4 cases with at least 1 rated recordings"
    assert result.recording_ids == ("rec1", "rec2", "rec3")
    assert ipt(*cases, recordings=[*recordings, rec(4, "ipt4")]).result("recordings_per_case").met


def test_a_recording_of_an_unsupervised_case_does_not_count():
    cases = [*(ipt_case(n) for n in range(1, 4)), ipt_case(9, supervision_minutes=0, sessions_supervised=0)]

    result = ipt(*cases, recordings=[rec(9, "ipt9")]).result("recordings_per_case")

    assert result.recording_ids == ()


# --- DIT: each rule at its edge ---------------------------------------------------------------


def test_a_complete_dit_portfolio_meets_every_rule():
    progress = dit()

    assert progress.met
    assert progress.result("recording_phases").figures == "covered: ipaf, middle, ending"
    assert progress.result("case_study").figures == "submitted 2026-09-01"


def test_dit_two_cases_met_one_not_yet():
    assert dit().result("supervised_cases").met
    assert not dit(cases=(dit_case(1, minutes=960),), recordings=DIT_RECORDINGS[:2]).result("supervised_cases").met


def test_sixteen_hours_of_supervision_in_total_met_fifteen_h_59_not_yet():
    exactly = dit(cases=(dit_case(1, minutes=480), dit_case(2, minutes=480))).result("supervision_total")
    short = dit(cases=(dit_case(1, minutes=480), dit_case(2, minutes=479))).result("supervision_total")

    assert exactly.met
    assert exactly.figures == "16 of 16 hours of supervision"
    assert not short.met
    assert short.figures == "15 h 59 min of 16 hours of supervision"


def test_four_rated_recordings_met_three_not_yet():
    assert dit().result("rated_recordings").met
    short = dit(recordings=DIT_RECORDINGS[:3]).result("rated_recordings")
    assert not short.met
    assert short.figures == "3 of 4 rated recordings"


def test_a_failed_rating_counts_as_rated_but_not_as_passing():
    recordings = (*DIT_RECORDINGS[:3], rec(4, "dit2", "ending", passed=False))

    progress = dit(recordings=recordings)

    assert progress.result("rated_recordings").met
    assert not progress.result("passing_recordings").met
    assert progress.result("passing_recordings").figures == "3 of 4 passing recordings"
    assert progress.result("recording_phases").figures == "covered: ipaf, middle; not yet: ending"
    assert progress.result("recording_phases").recording_ids == ("rec1", "rec2", "rec3")


def test_four_passing_recordings_without_an_ending_phase_is_not_yet():
    recordings = (rec(1, "dit1", "ipaf"), rec(2, "dit1", "middle"), rec(3, "dit2", "middle"), rec(4, "dit2", "middle"))

    result = dit(recordings=recordings).result("recording_phases")

    assert not result.met
    assert result.figures == "covered: ipaf, middle; not yet: ending"


def test_no_case_study_is_not_yet():
    result = dit(case_study=None).result("case_study")

    assert (result.met, result.figures) == (False, "not submitted")


# --- Settings: INTERPERSONAL_ACCREDITATION_SETTINGS ------------------------------------------------


def write(tmp_path, text: str):
    path = tmp_path / "accreditation-settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_service_changes_an_unconfirmed_rule(fresh_routes, tmp_path):
    settings = write(tmp_path, """
[ipt_uk_practitioner.rules.recordings_per_case]
minimum = 2
passing_only = true
source = "Service decision 2026-11, clinical governance minutes"

[ipt_uk_practitioner.rules.sessions_per_case]
counts = "supervised"
""")
    fresh_routes.setenv(acc.SETTINGS_VARIABLE, str(settings))
    acc.reload()
    route = acc.get("ipt_uk_practitioner")
    cases = [ipt_case(n) for n in range(1, 5)]
    recordings = [rec(n, f"ipt{c}") for n, c in enumerate([1, 1, 2, 2, 3, 3, 4], start=1)]

    progress = acc.evaluate(route, acc.Evidence(tuple(cases), tuple(recordings)))

    rule = route.rule("recordings_per_case")
    assert (rule.count("minimum"), rule.flag("passing_only")) == (2, True)
    assert rule.text == "At least 2 recorded session(s) rated in each of 4 cases"
    assert rule.source == "Service decision 2026-11, clinical governance minutes"
    assert progress.result("recordings_per_case").figures == "3 of 4 cases with at least 2 passing recordings"
    assert route.rule("sessions_per_case").text == "At least 12 of the 16 sessions supervised in each of 4 cases"
    assert progress.result("sessions_per_case").figures == "4 of 4 cases with at least 12 sessions supervised"


def test_settings_are_read_only_after_reload(fresh_routes, tmp_path):
    settings = write(tmp_path, "[dit_practitioner.rules.recording_phases]\nphases = [\"ipaf\", \"ending\"]\n")
    before = acc.get("dit_practitioner").rule("recording_phases").phases()
    fresh_routes.setenv(acc.SETTINGS_VARIABLE, str(settings))

    unchanged = acc.get("dit_practitioner").rule("recording_phases").phases()
    acc.reload()

    assert before == unchanged == ("ipaf", "middle", "ending")
    assert acc.get("dit_practitioner").rule("recording_phases").phases() == ("ipaf", "ending")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[ipt_uk_practitioner.rules.supervised_cases]\nminimum = 3\n", "is confirmed against its source"),
        ("[dit_practitioner.rules.case_study]\nconfirmed = false\n", "is confirmed against its source"),
        ("[nowhere.rules.x]\nminimum = 1\n", "is not a known accreditation route"),
        ("[ipt_uk_practitioner.rules.nothing]\nminimum = 1\n", "is not a rule of this route"),
        ("[ipt_uk_practitioner]\nname = \"Renamed\"\n", r"may only hold \[<route>.rules.<key>\] tables"),
        ("[ipt_uk_practitioner.rules.recordings_per_case]\nkind = \"case_study\"\n", "may not be changed by settings"),
        ("[ipt_uk_practitioner.rules.recordings_per_case]\nminimum = -1\n", "must be a whole number from 0 to 100"),
        ("[ipt_uk_practitioner.rules.recordings_per_case]\nminimum = 1.5\n", "must be a whole number from 0 to 100"),
        ("[ipt_uk_practitioner.rules.sessions_per_case]\ncounts = \"booked\"\n", "must be one of attended, supervised"),
        ("[ipt_uk_practitioner.rules.sessions_per_case]\nminimum = 17\n", "must not exceed 'of'"),
        ("[ipt_uk_practitioner.rules.recordings_per_case]\nweekly = true\n", "is not a value of a recordings_per_case rule"),
        ("[dit_practitioner.rules.recording_phases]\nphases = []\n", "must list 1 to 20 distinct phase keys"),
        ("[dit_practitioner.rules.recording_phases]\nphases = [\"IPAF\"]\n", "must list 1 to 20 distinct phase keys"),
        ("not toml = = 1\n", "not valid TOML"),
    ],
)
def test_bad_settings_stop_loading_with_the_file_and_field_named(fresh_routes, tmp_path, text, message):
    fresh_routes.setenv(acc.SETTINGS_VARIABLE, str(write(tmp_path, text)))
    acc.reload()

    with pytest.raises(AccreditationConfigError, match=message) as caught:
        acc.catalogue()

    assert "accreditation-settings.toml" in str(caught.value)


def test_a_service_route_can_be_added_from_a_directory(fresh_routes, tmp_path):
    (tmp_path / "local.toml").write_text("""
schema = 1
id = "local_ipt_supervisor"
name = "Local IPT supervisor"
therapies = ["ipt"]
source = "Service policy"
[rules.supervised_cases]
kind = "supervised_cases"
text = "{minimum} further supervised cases"
minimum = 2
source = "DOMAIN.md §2: supervisors need two further supervised cases"
confirmed = true
""", encoding="utf-8")
    fresh_routes.setenv(acc.DIRS_VARIABLE, str(tmp_path))
    acc.reload()

    assert acc.get("local_ipt_supervisor").rule("supervised_cases").text == "2 further supervised cases"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema": 2}, "schema: must be 1"),
        ({"therapies": []}, "therapies: must list at least one therapy"),
        ({"rules": {}}, "rules: must hold at least one"),
        ({"colour": "red"}, "colour: is not a route field"),
        ({"rules": {"x": {"kind": "supervised_cases", "text": "{minimum} {bogus}", "minimum": 1, "source": "s",
                          "confirmed": True}}}, "has a placeholder the rule does not fill"),
        ({"rules": {"x": {"kind": "supervised_cases", "text": "{minimum.real}", "minimum": 1, "source": "s",
                          "confirmed": True}}}, "has a placeholder the rule does not fill"),
        ({"rules": {"x": {"kind": "supervised_cases", "text": "t", "source": "s", "confirmed": True}}}, "minimum: is required"),
        ({"rules": {"x": {"kind": "magic", "text": "t", "source": "s", "confirmed": True}}}, "kind: must be one of"),
        ({"rules": {"x": {"kind": "case_study", "text": "t", "source": "s"}}}, "confirmed: must be true or false"),
        ({"rules": {"x": {"kind": "case_study", "text": "t", "source": "", "confirmed": True}}}, "source: must be a non-empty string"),
    ],
)
def test_a_malformed_route_is_refused(change, message):
    base = {"schema": 1, "id": "r", "name": "R", "therapies": ["dit"], "source": "s",
            "rules": {"c": {"kind": "case_study", "text": "t", "source": "s", "confirmed": True}}}

    with pytest.raises(AccreditationConfigError, match=message):
        acc.parse({**base, **change}, "r.toml")


def test_an_unknown_route_is_a_lookup_error_naming_the_known_ones():
    with pytest.raises(LookupError, match="known: dit_practitioner, ipt_uk_practitioner"):
        acc.get("cbt_practitioner")


# --- Evidence that contradicts itself --------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: acc.Evidence((ipt_case(1), ipt_case(1))), "case ipt1 is given more than once"),
        (lambda: acc.Evidence((ipt_case(1),), (rec(1, "ipt1"), rec(1, "ipt1"))), "recording rec1 is given more than once"),
        (lambda: acc.Evidence((ipt_case(1),), (rec(1, "ipt7"),)), "recording rec1 belongs to case ipt7"),
        (lambda: ipt_case(1, sessions_attended=-1), "sessions_attended must be a whole number from 0 to 200"),
        (lambda: ipt_case(1, supervision_minutes=10**9), "supervision_minutes must be a whole number"),
        (lambda: ipt_case(1, started=datetime(2026, 1, 1, 9, 0)), "started must be a date"),  # noqa: DTZ001 (refused either way)
        (lambda: ipt_case(1, id=""), "a case id must be a non-empty id"),
        (lambda: ipt_case(1, in_depression="yes"), "in_depression must be true or false"),
        (lambda: acc.RatedRecording("r", "c", "middle", passed=1), "passed must be true or false"),
        (lambda: acc.Evidence(case_study_submitted="2026-01-01"), "case_study_submitted must be a date"),
    ],
)
def test_contradictory_or_out_of_bounds_evidence_is_refused(make, message):
    with pytest.raises(EvidenceError, match=message):
        make()


def test_evaluation_is_pure():
    evidence = acc.Evidence(tuple(ipt_case(n) for n in range(1, 5)))
    route = acc.get("ipt_uk_practitioner")

    assert acc.evaluate(route, evidence) == acc.evaluate(route, evidence)


def test_more_than_needed_is_shown_against_the_requirement():
    result = ipt(*(ipt_case(n) for n in range(1, 6))).result("supervised_cases")

    assert result.met
    assert result.figures == "5 supervised cases (4 needed)"
