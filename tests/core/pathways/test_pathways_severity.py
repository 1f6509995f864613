"""NICE NG222's split of a new depressive episode by the PHQ-9: less severe below 16, more
severe at 16 or more (NICE NG222, 2022, "Terms used in this guideline"; DOMAIN.md §6 [V])."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interpersonal.core.pathways import NG222_MORE_SEVERE_AT, Ng222Severity, ng222_severity


def test_the_threshold_is_16():
    """NG222: "less severe" = PHQ-9 < 16, "more severe" = PHQ-9 ≥ 16 (DOMAIN.md §6 [V])."""
    assert NG222_MORE_SEVERE_AT == 16


@pytest.mark.parametrize(("total", "expected"), [
    (0, Ng222Severity.LESS_SEVERE), (15, Ng222Severity.LESS_SEVERE), (15.5, Ng222Severity.LESS_SEVERE),
    (16, Ng222Severity.MORE_SEVERE), (27, Ng222Severity.MORE_SEVERE),
])
def test_both_sides_of_the_edge(total, expected):
    assert ng222_severity(total) is expected


def test_an_unknown_total_has_no_severity():
    assert ng222_severity(None) is None


@pytest.mark.parametrize("total", [-1, 28])
def test_a_total_outside_the_phq9_range_is_refused(total):
    with pytest.raises(ValueError, match="between 0 and 27"):
        ng222_severity(total)


@given(st.integers(min_value=0, max_value=27))
def test_every_phq9_total_has_exactly_one_severity(total):
    assert (ng222_severity(total) is Ng222Severity.MORE_SEVERE) == (total >= 16)
