"""NHS Talking Therapies codes (DOMAIN.md §4; NHS Talking Therapies data set)."""

from __future__ import annotations

import pytest

from interpersonal.core.codes import BEFORE_TREATMENT, UNPLANNED, Attendance, EndReason, Medium, attended


def test_attendance_codes_are_the_national_values() -> None:
    # DOMAIN.md §4: 5/6 attended, 2 cancelled by patient, 3 DNA, 4 cancelled by provider, 7 late not seen.
    assert {a.name: a.value for a in Attendance} == {
        "CANCELLED_BY_PATIENT": 2,
        "DID_NOT_ATTEND": 3,
        "CANCELLED_BY_PROVIDER": 4,
        "ATTENDED_ON_TIME": 5,
        "ATTENDED_LATE": 6,
        "ARRIVED_LATE_NOT_SEEN": 7,
    }


@pytest.mark.parametrize(("code", "seen"), [(2, False), (3, False), (4, False), (5, True), (6, True), (7, False)])
def test_attended_is_true_only_for_five_and_six(code: int, seen: bool) -> None:
    assert attended(code) is seen
    assert attended(Attendance(code)) is seen
    assert Attendance(code).attended is seen


@pytest.mark.parametrize("code", [0, 1, 8, 99])
def test_unknown_attendance_code_is_refused(code: int) -> None:
    with pytest.raises(ValueError, match=str(code)):
        attended(code)


def test_every_code_has_a_label() -> None:
    for enum in (Attendance, EndReason, Medium):
        for member in enum:
            assert member.label.strip()


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        (EndReason.COMPLETED, 46),
        (EndReason.DROPPED_OUT, 47),
        (EndReason.ENDED_BY_PROVIDER, 48),
        (EndReason.REFERRED_ON, 13),
        (EndReason.DECLINED, 14),
        (EndReason.DECEASED, 49),
        (EndReason.STEPPED_UP, None),
        (EndReason.STEPPED_DOWN, None),
    ],
)
def test_end_reason_nhs_codes(reason: EndReason, code: int | None) -> None:
    assert reason.nhs_code == code


def test_codes_not_in_domain_md_are_marked_unconfirmed() -> None:
    # DOMAIN.md §4 confirms 46, 47, 48 and 13; the before-treatment codes (BEFORE_TREATMENT) are
    # from the data set's ENDCODE list, unconfirmed here until checked against it.
    assert {r for r in EndReason if not r.nhs_code_confirmed} == {EndReason.DECLINED, EndReason.DECEASED,
                                                                   *BEFORE_TREATMENT}


def test_dropped_out_label_is_the_data_set_wording() -> None:
    assert EndReason.DROPPED_OUT.label == "Termination of treatment earlier than care professional planned"


def test_unplanned_endings_are_47_and_48() -> None:
    assert frozenset({EndReason.DROPPED_OUT, EndReason.ENDED_BY_PROVIDER}) == UNPLANNED
    assert {r.nhs_code for r in UNPLANNED} == {47, 48}
    assert [r for r in EndReason if r.unplanned] == [EndReason.DROPPED_OUT, EndReason.ENDED_BY_PROVIDER]


def test_string_enums_store_as_their_ids() -> None:
    assert EndReason("completed") is EndReason.COMPLETED
    assert str(Medium.FACE_TO_FACE) == "face_to_face"
    assert [m.value for m in Medium] == ["face_to_face", "telephone", "video"]


def test_every_attendance_code_has_a_short_label_distinct_from_the_others():
    """The diary shows a few words per appointment; the data dictionary's label stays the definition."""
    shorts = [code.short for code in Attendance]
    assert len(set(shorts)) == len(shorts)
    assert all(0 < len(short) <= 25 for short in shorts)
    assert Attendance.ATTENDED_ON_TIME.short == "Attended"
    assert Attendance.DID_NOT_ATTEND.short == "Did not attend"
