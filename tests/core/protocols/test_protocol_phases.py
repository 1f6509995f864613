"""Session arithmetic: phase ranges for a contracted course, and the phase of the next session."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interpersonal.core import protocols


@pytest.mark.parametrize(
    ("attended", "phase"),
    [(0, "initial"), (3, "initial"), (4, "middle"), (11, "middle"), (12, "ending"), (15, "ending"), (16, "ending"), (20, "ending")],
)
def test_dit_phase_of_the_next_session(attended: int, phase: str) -> None:
    assert protocols.get("dit").phase_for(attended, 16).id == phase


@pytest.mark.parametrize(
    ("planned", "expected"),
    [
        (12, [("initial", 1, 4), ("middle", 5, 8), ("final", 9, 12)]),
        (20, [("initial", 1, 4), ("middle", 5, 16), ("final", 17, 20)]),
    ],
)
def test_ipt_rest_phase_absorbs_the_contracted_length(planned: int, expected: list[tuple[str, int, int]]) -> None:
    assert [(p.id, a, b) for p, a, b in protocols.get("ipt").phase_ranges(planned)] == expected


def test_ipt_twelve_session_course_ends_after_session_eight() -> None:
    ipt = protocols.get("ipt")

    assert ipt.phase_for(7, 12).id == "middle"
    assert ipt.phase_for(8, 12).id == "final"


def test_phase_ranges_default_to_the_protocols_default_length() -> None:
    assert protocols.get("ipt").phase_ranges() == protocols.get("ipt").phase_ranges(16)


@pytest.mark.parametrize(("pid", "planned"), [("dit", 15), ("dit", 17), ("ipt", 11), ("ipt", 21), ("lit", 9), ("ipt_maintenance", 0)])
def test_planned_sessions_outside_the_range_is_refused_with_the_range(pid: str, planned: int) -> None:
    protocol = protocols.get(pid)

    with pytest.raises(protocols.ProtocolError) as err:
        protocol.phase_ranges(planned)

    message = str(err.value)
    assert protocol.name in message
    assert str(planned) in message
    assert str(protocol.min_sessions) in message


@pytest.mark.parametrize("planned", [True, 16.0, "16"])
def test_planned_sessions_must_be_a_whole_number(planned: object) -> None:
    with pytest.raises(protocols.ProtocolError, match="whole number"):
        protocols.get("dit").phase_ranges(planned)  # type: ignore[arg-type]


@pytest.mark.parametrize("attended", [-1, True, 1.5])
def test_attended_must_be_a_whole_number_not_negative(attended: object) -> None:
    with pytest.raises(protocols.ProtocolError, match="attended"):
        protocols.get("dit").phase_for(attended, 16)  # type: ignore[arg-type]


FIXED_LENGTH = [p for p in protocols.catalogue() if not p.open_ended]


@given(data=st.data())
def test_phase_ranges_tile_the_course_without_gaps(data: st.DataObject) -> None:
    protocol = data.draw(st.sampled_from(FIXED_LENGTH))
    assert protocol.max_sessions is not None
    planned = data.draw(st.integers(protocol.min_sessions, protocol.max_sessions))

    ranges = protocol.phase_ranges(planned)

    assert ranges[0][1] == 1
    assert ranges[-1][2] == planned
    for (_, _, last), (_, first, _) in itertools.pairwise(ranges):
        assert last is not None
        assert first == last + 1
    for phase, first, last in ranges:
        assert last is not None
        assert last >= first
        if not phase.is_rest:
            assert last - first + 1 == phase.length


@given(data=st.data())
def test_phase_for_is_the_phase_holding_the_next_session_capped_at_the_last(data: st.DataObject) -> None:
    protocol = data.draw(st.sampled_from(FIXED_LENGTH))
    assert protocol.max_sessions is not None
    planned = data.draw(st.integers(protocol.min_sessions, protocol.max_sessions))
    attended = data.draw(st.integers(0, planned + 5))

    phase = protocol.phase_for(attended, planned)

    ranges = protocol.phase_ranges(planned)
    if attended >= planned:
        assert phase == ranges[-1][0]
    else:
        [holding] = [p for p, a, b in ranges if b is not None and a <= attended + 1 <= b]
        assert phase == holding
