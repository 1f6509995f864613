"""NHS numbers: modulus 11 check (NHS Data Dictionary, "NHS Number").

Weights 10..2 on the first nine digits; check digit = 11 − (sum mod 11); 11 → 0; 10 → no
valid number. Every number here is synthetic: 943 476 5919 is a published test number.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from interpersonal.core.identifiers import (
    InvalidNHSNumber,
    check_digit,
    format_nhs_number,
    is_valid_nhs_number,
    normalise_nhs_number,
)


@pytest.mark.parametrize("text", ["9434765919", "943 476 5919", "943-476-5919", " 943 476 5919 ", "943\t476\t5919"])
def test_published_test_number_is_accepted_in_common_forms(text: str) -> None:
    assert normalise_nhs_number(text) == "9434765919"


def test_worked_example_of_the_check_digit() -> None:
    # 9×10 + 4×9 + 3×8 + 4×7 + 7×6 + 6×5 + 5×4 + 9×3 + 1×2 = 299; 299 mod 11 = 2; 11 − 2 = 9.
    assert check_digit("943476591") == 9


def test_remainder_zero_gives_check_digit_zero() -> None:
    # 0000000000: sum 0, remainder 0, 11 − 0 = 11 → 0.
    assert check_digit("000000000") == 0
    assert normalise_nhs_number("000 000 0000") == "0000000000"


def test_remainder_one_means_no_valid_number() -> None:
    # 100000001: 1×10 + 1×2 = 12; 12 mod 11 = 1; 11 − 1 = 10 → invalid whatever the last digit.
    assert check_digit("100000001") is None
    for last in "0123456789":
        with pytest.raises(InvalidNHSNumber, match=r"check digit wrong: .*remainder of 10"):
            normalise_nhs_number("100000001" + last)


def test_wrong_check_digit_says_check_digit() -> None:
    with pytest.raises(InvalidNHSNumber) as err:
        normalise_nhs_number("943 476 5918")

    assert isinstance(err.value, ValueError)
    assert "check digit wrong" in err.value.reason
    assert "should be 9" in err.value.reason


@pytest.mark.parametrize(("text", "reason"), [("943 476 591", "10 digits, not 9"), ("94347659190", "10 digits, not 11"), ("", "empty"), ("   ", "empty")])
def test_wrong_length_says_so(text: str, reason: str) -> None:
    with pytest.raises(InvalidNHSNumber, match=reason):
        normalise_nhs_number(text)


@pytest.mark.parametrize("text", ["943.476.5919", "943 476 591O", "９４３４７６５９１９", "+9434765919"])
def test_anything_but_digits_spaces_and_hyphens_is_refused(text: str) -> None:
    with pytest.raises(InvalidNHSNumber, match="only digits"):
        normalise_nhs_number(text)


def test_non_text_is_refused() -> None:
    with pytest.raises(InvalidNHSNumber, match="must be text"):
        normalise_nhs_number(9434765919)  # type: ignore[arg-type]


def test_format_is_three_three_four() -> None:
    assert format_nhs_number("9434765919") == "943 476 5919"
    assert format_nhs_number("943-476-5919") == "943 476 5919"
    with pytest.raises(InvalidNHSNumber):
        format_nhs_number("9434765918")


def test_is_valid() -> None:
    assert is_valid_nhs_number("9434765919")
    assert not is_valid_nhs_number("9434765918")


def _check(stem: str) -> int | None:
    """An independent statement of the rule, for the properties below."""
    remainder = sum(int(d) * (10 - i) for i, d in enumerate(stem)) % 11
    return {0: 0, 1: None}.get(remainder, 11 - remainder)


stems = st.text(alphabet="0123456789", min_size=9, max_size=9)


@given(stems)
def test_any_stem_with_its_check_digit_validates_unless_remainder_ten(stem: str) -> None:
    expected = _check(stem)

    assert check_digit(stem) == expected
    if expected is not None:
        assert normalise_nhs_number(stem + str(expected)) == stem + str(expected)


@given(stems, st.integers(0, 9), st.integers(1, 9))
def test_changing_any_single_digit_invalidates(stem: str, position: int, shift: int) -> None:
    check = check_digit(stem)
    assume(check is not None)
    number = stem + str(check)

    changed = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]

    assert not is_valid_nhs_number(changed)
