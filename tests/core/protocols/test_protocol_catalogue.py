"""The shipped protocols: facts from DOMAIN.md §1 (seeds/000–004) as loaded from data."""

from __future__ import annotations

import pytest

from interpersonal.core import measures, protocols

SHIPPED = ("cbt", "dit", "ipt", "ipt_brief", "ipt_maintenance", "lit")


def test_catalogue_holds_the_shipped_protocols_ordered_by_id() -> None:
    assert tuple(p.id for p in protocols.catalogue()) == SHIPPED


def test_get_unknown_protocol_raises_lookup_error_listing_known_ids() -> None:
    with pytest.raises(protocols.UnknownProtocol) as err:
        protocols.get("psychoanalysis")

    assert isinstance(err.value, LookupError)
    assert isinstance(err.value, protocols.ProtocolError)
    assert "'psychoanalysis'" in str(err.value)
    assert "dit" in str(err.value)


def test_get_with_unhashable_id_raises_unknown_protocol() -> None:
    with pytest.raises(protocols.UnknownProtocol):
        protocols.get(["dit"])  # type: ignore[arg-type]


def test_dit_is_sixteen_weekly_sessions_in_three_phases() -> None:
    # DOMAIN.md §1: 16 weekly sessions [V]; initial 1–4, middle 5–12, ending 13–16 (seeds/002).
    dit = protocols.get("dit")

    assert (dit.therapy, dit.step, dit.cadence, dit.open_ended) == ("dit", 3, "weekly", False)
    assert (dit.default_sessions, dit.min_sessions, dit.max_sessions) == (16, 16, 16)
    assert [(p.id, a, b) for p, a, b in dit.phase_ranges(16)] == [("initial", 1, 4), ("middle", 5, 12), ("ending", 13, 16)]
    assert (dit.snomed, dit.snomed_confirmed) == ("314034001", True)


def test_dit_phase_tasks_cover_the_ipaf_and_the_goodbye_letter() -> None:
    dit = protocols.get("dit")

    assert [t.id for t in dit.tasks_by_phase["initial"]] == ["engagement_assessment", "suitability", "ipaf_identified", "ipaf_agreed"]
    assert "home_practice" in [t.id for t in dit.tasks_by_phase["middle"]]
    assert dit.task("goodbye_letter").label == "Goodbye letter written and shared with the patient"
    assert dit.phase_of_task("goodbye_letter").id == "ending"


def test_ipt_is_twelve_to_twenty_sessions_default_sixteen() -> None:
    # DOMAIN.md §1: 12–20 weekly sessions, typically 16 [V]; SNOMED 443730003 [V].
    ipt = protocols.get("ipt")

    assert (ipt.default_sessions, ipt.min_sessions, ipt.max_sessions) == (16, 12, 20)
    assert (ipt.snomed, ipt.snomed_confirmed) == ("443730003", True)
    assert [(p.id, a, b) for p, a, b in ipt.phase_ranges(16)] == [("initial", 1, 4), ("middle", 5, 12), ("final", 13, 16)]
    initial = [t.id for t in ipt.tasks_by_phase["initial"]]
    for task in ("timeline", "interpersonal_inventory", "formulation", "focal_area_agreed", "contract", "sick_role"):
        assert task in initial


def test_dit_and_ipt_baseline_includes_the_clinician_rated_hrsd17() -> None:
    for pid in ("dit", "ipt"):
        p = protocols.get(pid)
        assert p.baseline_measures == ("phq9", "gad7", "wsas", "hrsd17")
        assert p.session_measures == ("phq9", "gad7")


def test_ipt_maintenance_is_monthly_and_open_ended() -> None:
    m = protocols.get("ipt_maintenance")

    assert (m.cadence, m.open_ended, m.default_sessions, m.max_sessions, m.min_sessions) == ("monthly", True, None, None, 1)
    assert [(p.id, a, b) for p, a, b in m.phase_ranges(1)] == [("maintenance", 1, None)]
    assert m.phase_for(attended=30, planned_sessions=1).id == "maintenance"


def test_cbt_and_lit_codes_and_steps() -> None:
    cbt, lit = protocols.get("cbt"), protocols.get("lit")

    assert (cbt.step, cbt.snomed, cbt.default_sessions, cbt.min_sessions, cbt.max_sessions) == (3, "304891004", 16, 12, 20)
    assert (lit.step, lit.default_sessions, lit.min_sessions, lit.max_sessions) == (2, 6, 6, 8)
    # The guided self-help SNOMED CT concept could not be confirmed: left empty, and said so.
    assert (lit.snomed, lit.snomed_confirmed) == (None, False)
    assert "snomed" in lit.unconfirmed()


def test_ipt_brief_is_eight_sessions_with_unconfirmed_phase_lengths() -> None:
    brief = protocols.get("ipt_brief")

    assert [(p.id, a, b) for p, a, b in brief.phase_ranges(8)] == [("initial", 1, 3), ("middle", 4, 6), ("final", 7, 8)]
    assert {"phases.initial", "phases.middle", "phases.final"} <= set(brief.unconfirmed())


@pytest.mark.parametrize("protocol", protocols.catalogue(), ids=lambda p: p.id)
def test_every_protocol_is_well_formed(protocol: protocols.Protocol) -> None:
    assert sum(p.is_rest for p in protocol.phases) == 1
    assert all(phase.tasks for phase in protocol.phases)
    task_ids = [t.id for t in protocol.tasks]
    assert len(task_ids) == len(set(task_ids))
    for mid in protocol.session_measures + protocol.baseline_measures:
        measures.get(mid)
    assert protocol.source
    assert protocol.description
    if protocol.snomed is None:
        assert not protocol.snomed_confirmed


@pytest.mark.parametrize("protocol", protocols.catalogue(), ids=lambda p: p.id)
def test_every_protocol_serialises(protocol: protocols.Protocol) -> None:
    data = protocol.to_dict()

    assert data["id"] == protocol.id
    assert [p["id"] for p in data["phases"]] == [p.id for p in protocol.phases]
    assert data["unconfirmed"] == list(protocol.unconfirmed())


def test_unknown_task_is_a_lookup_error_naming_protocol_and_task() -> None:
    with pytest.raises(protocols.UnknownTask, match="'dit' has no task 'timeline'"):
        protocols.get("dit").task("timeline")


def test_protocols_are_immutable() -> None:
    dit = protocols.get("dit")

    with pytest.raises(AttributeError):
        dit.min_sessions = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        dit.tasks_by_phase["initial"] = ()  # type: ignore[index]
