"""The NHS Talking Therapies data set's person characteristics as code lists (NHS Data Model and
Dictionary attributes named in interpersonal.core.demographics)."""

from __future__ import annotations

import pytest

from interpersonal.core import demographics as mds

ALL = (mds.GENDER_IDENTITY, mds.ETHNIC_CATEGORY, mds.PREFERRED_LANGUAGE, mds.DISABILITY, mds.EMPLOYMENT_STATUS)


def test_ethnic_category_is_the_data_dictionarys_sixteen_groups_with_not_stated_and_not_known() -> None:
    # NHS Data Dictionary ETHNIC CATEGORY: A-S without I, O and Q (16 groups), Z not stated, 99 not known.
    assert [code for code, _ in mds.ETHNIC_CATEGORY] == [*"ABCDEFGHJKLMNPRS", "Z", "99"]


def test_gender_identity_codes_are_the_data_dictionarys() -> None:
    # NHS Data Dictionary GENDER IDENTITY CODE: 1 male, 2 female, 3 non-binary, 4 other, X not known, Z not stated.
    assert [code for code, _ in mds.GENDER_IDENTITY] == ["1", "2", "3", "4", "X", "Z"]
    assert mds.GENDER_IDENTITY.label("3") == "Non-binary"


@pytest.mark.parametrize("codes", ALL, ids=lambda c: c.name)
def test_every_list_cites_its_source_and_offers_not_stated(codes: mds.CodeList) -> None:
    assert "NHS Data Model and Dictionary" in codes.source
    assert any(label.startswith("Not stated") for _, label in codes)
    assert all(label.strip() for _, label in codes)


@pytest.mark.parametrize("codes", ALL, ids=lambda c: c.name)
def test_a_code_not_on_the_list_is_refused_and_empty_means_not_yet_asked(codes: mds.CodeList) -> None:
    assert codes.check("") == ""
    with pytest.raises(mds.InvalidCode):
        codes.check("not-a-code")
    with pytest.raises(mds.InvalidCode):
        codes.label("not-a-code")


def test_a_list_with_a_repeated_code_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="unique"):
        mds.CodeList(name="x", source="y", codes=(("1", "a"), ("1", "b")))


def test_disabilities_are_sorted_without_repeats() -> None:
    assert mds.clean_disabilities(["09", "02", "09", ""]) == ("02", "09")
    assert mds.clean_disabilities([]) == ()


@pytest.mark.parametrize("alone", ["NN", "ZZ"])
def test_no_disability_or_not_stated_with_another_code_is_a_contradiction(alone: str) -> None:
    assert mds.clean_disabilities([alone]) == (alone,)
    with pytest.raises(mds.InvalidCode):
        mds.clean_disabilities([alone, "02"])


def test_unconfirmed_lists_say_so() -> None:
    # The language list's national extras (BSL, not known, not stated) are recalled, not read: flagged.
    assert mds.PREFERRED_LANGUAGE.confirmed is False
    assert mds.ETHNIC_CATEGORY.confirmed is True
