"""The outcome rules as data: ADSMs (adsm.toml) and national standards (standards.toml).

Every figure asserted here is cited beside it; those marked unconfirmed in the data are asserted
to be marked so (they are service settings, shown as such in reports).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from interpersonal.core import measures
from interpersonal.core.outcomes import rules, standards


@pytest.fixture
def shipped() -> rules.OutcomeRules:
    return rules.load()


def test_phq9_and_gad7_come_from_the_measures_catalogue(shipped: rules.OutcomeRules) -> None:
    # NHS Talking Therapies Manual (via the measure definitions): PHQ-9 >= 10, 6 points; GAD-7 >= 8, 4 points.
    assert (shipped.depression.caseness, shipped.depression.reliable_change) == (10, 6)
    assert (shipped.anxiety.caseness, shipped.anxiety.reliable_change) == (8, 4)
    assert shipped.depression.inclusive
    assert shipped.depression.higher_is_worse


def test_confirmed_adsm_cut_offs_are_those_of_their_sources(shipped: rules.OutcomeRules) -> None:
    spin, mi, ocir = shipped.adsms["spin"], shipped.adsms["mi_alone"], shipped.adsms["ocir"]
    # Connor et al. 2000, Br J Psychiatry 176:379-386: "A SPIN score of 19 distinguished ..."
    assert (spin.caseness, spin.comparison, spin.caseness_sourced and spin.caseness_sourced.confirmed) == (19, "at_or_above", True)
    # NHS Data Dictionary, Agoraphobia Mobility Inventory: "a cut-off score above an item average of 2.3"
    assert (mi.caseness, mi.comparison) == (2.3, "above")
    assert (mi.at_caseness(2.3), mi.at_caseness(2.31)) == (False, True)
    # Veale et al. 2016, J Obsessive Compuls Relat Disord 9:16-23: OCI-R caseness >= 17
    assert (ocir.caseness, ocir.at_caseness(16), ocir.at_caseness(17)) == (17, False, True)


def test_unconfirmed_adsm_values_are_marked_as_service_settings(shipped: rules.OutcomeRules) -> None:
    # Not read in a primary source (see adsm.toml): every ADSM's reliable-change points, and the
    # cut-offs of PDSS (8), PCL-5 (32, within the National Center for PTSD's 31-33), IES-R (33), SHAI (18).
    for mid in shipped.adsms:
        assert "reliable_change" in shipped.adsms[mid].unconfirmed(), mid
    assert {m for m, r in shipped.adsms.items() if "caseness" in r.unconfirmed()} == {"pdss", "pcl5", "iesr", "shai"}
    expected = {"spin": (19, 10), "pdss": (8, 5), "mi_alone": (2.3, 0.73), "ocir": (17, 13), "pcl5": (32, 10),
                "iesr": (33, 9), "shai": (18, 4)}
    assert {m: (r.caseness, r.reliable_change) for m, r in shipped.adsms.items()} == expected


def test_problem_descriptors_map_to_adsms_by_longest_icd10_prefix(shipped: rules.OutcomeRules) -> None:
    # Clark et al. 2018, Lancet 391:679-686, Table 2; ICD-10 F40.0 agoraphobia, F40.1 social phobias,
    # F41.0 panic disorder, F42 OCD, F43.1 PTSD, F45.2 hypochondriacal disorder.
    cases = {"F40.01": ("mi_alone",), "f40.1": ("spin",), "F41.0": ("pdss",), "F42.1": ("ocir",), " F43.1 ": ("pcl5", "iesr"),
             "F45.2": ("shai",), "F41.1": (), "F32.1": (), None: ()}
    assert {code: shipped.candidates(code) for code in cases} == cases
    assert shipped.with_adsm(False).candidates("F40.1") == ()


def test_the_anxiety_measure_falls_back_to_gad7_when_the_adsm_is_not_paired(shipped: rules.OutcomeRules) -> None:
    # Clark et al. 2018, Table 2 note: when the ADSM is missing, recovery uses PHQ-9 and GAD-7.
    assert rules.anxiety_measure(shipped, "F40.1", {"spin", "gad7"}) == "spin"
    assert rules.anxiety_measure(shipped, "F40.1", {"gad7"}) == "gad7"
    assert rules.anxiety_measure(shipped, "F43.1", {"iesr"}) == "iesr"
    assert rules.anxiety_measure(shipped, "F32", {"spin"}) == "gad7"


def test_reliable_change_counts_a_change_of_exactly_the_criterion(shipped: rules.OutcomeRules) -> None:
    mi = shipped.adsms["mi_alone"]
    assert 2.01 - 1.28 < 0.73  # binary floating point: 0.7299999999999998
    assert mi.reliable(2.01, 1.28) == "improved"
    assert mi.reliable(1.28, 2.01) == "deteriorated"
    assert mi.reliable(1.28, 2.00) == "no reliable change"
    # any measure with a criterion: CORE-10 (6 points, Barkham et al. 2013); WSAS (13, an
    # unconfirmed default, wsas.toml); QIDS-SR16 has none
    assert rules.reliable_change("core10", 20, 14) == "improved"
    assert rules.reliable_change("wsas", 10, 23) == "deteriorated"
    assert rules.reliable_change("qids_sr16", 20, 5) is None


def test_pairing_needs_a_later_point() -> None:
    assert rules.first_and_last([(1, 16), (1, 12)]) is None  # two scores of one session are not a pair
    assert rules.first_and_last([(1, 16), (1, 12), (2, 9)]) == (16, 9)
    assert rules.first_and_last([(1, None), (2, 9)]) is None


def test_settings_file_changes_the_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = tmp_path / "outcomes.toml"
    settings.write_text('[mapping]\nuse_adsm = false\n[measures.pcl5.caseness]\nat_or_above = 33\n')
    monkeypatch.setenv(rules.SETTINGS_VARIABLE, str(settings))
    rules.reload()
    try:
        assert rules.current().use_adsm is False
        assert rules.current().adsms["pcl5"].caseness == 33
    finally:
        monkeypatch.delenv(rules.SETTINGS_VARIABLE)
        rules.reload()
    assert rules.current().use_adsm is True


@pytest.mark.parametrize(("change", "message"), [
    ('[measures.spin.caseness]\nat_or_below = 3\n', "needs exactly one of"),
    ('[mapping.problem_descriptors]\n"F99" = ["nope"]\n', "unknown ADSM"),
    ('[measures.spin.reliable_change]\npoints = -1\n', "positive"),
])
def test_bad_settings_are_rejected_with_the_field(tmp_path: Path, change: str, message: str) -> None:
    settings = tmp_path / "bad.toml"
    settings.write_text(change)
    with pytest.raises(measures.DefinitionError, match=message):
        rules.load(settings)


def test_standards_in_force_by_date() -> None:
    shipped = standards.load()
    # NHS England (July 2016): recovery 50%, waits 75% within 6 and 95% within 18 weeks.
    old = shipped.in_force(date(2020, 1, 1))
    assert {r: s.target for r, s in old.items()} == {"recovery_rate": 0.5, "waited_6_weeks_rate": 0.75, "waited_18_weeks_rate": 0.95}
    # 2024/25 planning guidance (unconfirmed in the primary source): 48% reliable recovery, 67% reliable improvement.
    y2425 = shipped.in_force(date(2025, 3, 31))
    assert (y2425["reliable_recovery_rate"].target, y2425["reliable_improvement_rate"].target) == (0.48, 0.67)
    assert not y2425["reliable_recovery_rate"].confirmed
    # Medium Term Planning Framework 2026/27 (unconfirmed): 51% and 69%.
    y2627 = shipped.in_force(date(2026, 4, 1))
    assert (y2627["reliable_recovery_rate"].target, y2627["reliable_improvement_rate"].target) == (0.51, 0.69)
    assert y2627["recovery_rate"].confirmed
    assert (y2627["recovery_rate"].met(0.5), y2627["recovery_rate"].met(0.4999), y2627["recovery_rate"].met(None)) == (True, False, None)


def test_a_standards_file_replaces_the_list(tmp_path: Path) -> None:
    path = tmp_path / "local.toml"
    path.write_text('[[standards]]\nrate = "recovery_rate"\ntarget = 0.55\nlabel = "Local"\nsource = "Our board"\nconfirmed = true\n')
    assert {r: s.target for r, s in standards.load(path).in_force(date(2026, 1, 1)).items()} == {"recovery_rate": 0.55}
    path.write_text('[[standards]]\nrate = "recovery"\ntarget = 55\nlabel = "x"\nsource = "y"\nconfirmed = true\n')
    with pytest.raises(measures.DefinitionError, match="rate"):
        standards.load(path)
