"""NHS Talking Therapies codes: appointment attendance, end of care, medium.

Source: NHS England, *NHS Talking Therapies for anxiety and depression data set*
(IAPT data set v2.x, technical output specification), as summarised in DOMAIN.md §4:
attendance codes 2–7 and end codes 46, 47, 48 and 13 are confirmed there. The others are
marked **unconfirmed** beside their value: check them against the current technical
output specification before submitting data nationally.

    >>> Attendance(5).label
    'Attended on time or, if late, before the relevant professional was ready to see the patient'
    >>> attended(Attendance.ATTENDED_LATE)
    True
    >>> EndReason.DROPPED_OUT.nhs_code
    47
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

__all__ = ["BEFORE_TREATMENT", "UNPLANNED", "Attendance", "EndReason", "Medium", "attended"]


class Attendance(IntEnum):
    """Whether an appointment was attended (NHS Data Dictionary "Attended or did not
    attend"; NHS Talking Therapies data set). Codes from DOMAIN.md §4 [V]."""

    CANCELLED_BY_PATIENT = 2
    DID_NOT_ATTEND = 3
    CANCELLED_BY_PROVIDER = 4
    ATTENDED_ON_TIME = 5
    ATTENDED_LATE = 6
    ARRIVED_LATE_NOT_SEEN = 7

    @property
    def label(self) -> str:
        return _ATTENDANCE_LABELS[self]

    @property
    def short(self) -> str:
        """A few words for a diary or a list, where the data dictionary's full label (:attr:`label`)
        would fill the row; the full label stays the definition."""
        return _ATTENDANCE_SHORT[self]

    @property
    def attended(self) -> bool:
        """Seen: code 5 or 6 (counts towards a finished course)."""
        return self in (Attendance.ATTENDED_ON_TIME, Attendance.ATTENDED_LATE)


_ATTENDANCE_LABELS = {
    Attendance.CANCELLED_BY_PATIENT: "Appointment cancelled by, or on behalf of, the patient",
    Attendance.DID_NOT_ATTEND: "Did not attend, no advance warning given",
    Attendance.CANCELLED_BY_PROVIDER: "Appointment cancelled or postponed by the health care provider",
    Attendance.ATTENDED_ON_TIME: "Attended on time or, if late, before the relevant professional was ready to see the patient",
    Attendance.ATTENDED_LATE: "Arrived late, after the relevant professional was ready to see the patient, but was seen",
    Attendance.ARRIVED_LATE_NOT_SEEN: "Arrived late and could not be seen",
}

_ATTENDANCE_SHORT = {
    Attendance.CANCELLED_BY_PATIENT: "Cancelled by the patient",
    Attendance.DID_NOT_ATTEND: "Did not attend",
    Attendance.CANCELLED_BY_PROVIDER: "Cancelled by the service",
    Attendance.ATTENDED_ON_TIME: "Attended",
    Attendance.ATTENDED_LATE: "Attended late, seen",
    Attendance.ARRIVED_LATE_NOT_SEEN: "Arrived late, not seen",
}


def attended(code: Attendance | int) -> bool:
    """True for codes 5 and 6 (the patient was seen); ValueError for an unknown code."""
    return Attendance(code).attended


class EndReason(StrEnum):
    """Why a course of care ended, with its NHS Talking Therapies end code.

    Confirmed in DOMAIN.md §4: 46 completed, 47 and 48 ended early (unplanned), 13
    referred on. Unconfirmed (check the data set's ENDCODE list): 14 declined, 49
    deceased. Stepping up or down is not an end code: the referral continues on
    another step, so ``nhs_code`` is None.
    """

    COMPLETED = "completed"
    DROPPED_OUT = "dropped_out"
    ENDED_BY_PROVIDER = "ended_by_provider"
    REFERRED_ON = "referred_on"
    DECLINED = "declined"
    DECEASED = "deceased"
    STEPPED_UP = "stepped_up"
    STEPPED_DOWN = "stepped_down"
    # Endings of a referral before any course of treatment (screening, triage, the waiting list).
    NOT_SUITABLE = "not_suitable"
    SIGNPOSTED = "signposted"
    ADVICE_GIVEN = "advice_given"
    ASSESSMENT_INCOMPLETE = "assessment_incomplete"
    NOT_ASSESSED = "not_assessed"

    @property
    def label(self) -> str:
        return _END_REASONS[self][0]

    @property
    def nhs_code(self) -> int | None:
        return _END_REASONS[self][1]

    @property
    def nhs_code_confirmed(self) -> bool:
        """False where the NHS code is not confirmed in DOMAIN.md §4."""
        return _END_REASONS[self][2]

    @property
    def unplanned(self) -> bool:
        return self in UNPLANNED

    @property
    def ends_course(self) -> bool:
        """Whether a course of treatment can end for this reason (the others end a referral
        before treatment: :data:`BEFORE_TREATMENT`)."""
        return self not in BEFORE_TREATMENT

    @property
    def ends_referral(self) -> bool:
        """Whether a referral can end for this reason: every reason with an NHS end code
        (stepping up or down continues the referral on another step)."""
        return self not in (EndReason.STEPPED_UP, EndReason.STEPPED_DOWN)


_END_REASONS: dict[EndReason, tuple[str, int | None, bool]] = {
    EndReason.COMPLETED: ("Completed treatment", 46, True),
    EndReason.DROPPED_OUT: ("Termination of treatment earlier than care professional planned", 47, True),
    EndReason.ENDED_BY_PROVIDER: ("Termination of treatment earlier than patient requested", 48, True),  # label unconfirmed; code 48 confirmed
    EndReason.REFERRED_ON: ("Referred to another service", 13, True),
    EndReason.DECLINED: ("Declined treatment", 14, False),  # unconfirmed: check ENDCODE 14
    EndReason.DECEASED: ("Deceased", 49, False),  # unconfirmed: check ENDCODE 49
    EndReason.STEPPED_UP: ("Stepped up to a higher-intensity step", None, True),  # no end code: the referral continues
    EndReason.STEPPED_DOWN: ("Stepped down to a lower-intensity step", None, True),  # no end code: the referral continues
    # Before treatment. Unconfirmed: the codes follow the IAPT data set's ENDCODE list (v1.5 technical output
    # specification) as recalled, not read in the current v2.x specification; check before submitting nationally.
    EndReason.NOT_SUITABLE: ("Not suitable for the service: directed back to the referrer", 10, False),
    EndReason.SIGNPOSTED: ("Not suitable for the service: signposted elsewhere with the patient's agreement", 11, False),
    EndReason.ADVICE_GIVEN: ("Discharged by mutual agreement following advice and support", 12, False),
    EndReason.ASSESSMENT_INCOMPLETE: ("Assessment not completed (the patient dropped out)", 16, False),
    EndReason.NOT_ASSESSED: ("Not assessed: the patient did not opt in or could not be contacted", 50, False),
}

BEFORE_TREATMENT: frozenset[EndReason] = frozenset({
    EndReason.NOT_SUITABLE, EndReason.SIGNPOSTED, EndReason.ADVICE_GIVEN, EndReason.ASSESSMENT_INCOMPLETE,
    EndReason.NOT_ASSESSED,
})
"""End reasons of a referral that ends before a course of treatment starts (REFERRED_ON,
DECLINED and DECEASED may end a referral at either stage)."""

UNPLANNED: frozenset[EndReason] = frozenset({EndReason.DROPPED_OUT, EndReason.ENDED_BY_PROVIDER})
"""End reasons counted as unplanned endings (NHS end codes 47 and 48)."""


class Medium(StrEnum):
    """How a session was delivered (NHS Talking Therapies "consultation medium"; the
    national codes are not mapped here: unconfirmed)."""

    FACE_TO_FACE = "face_to_face"
    TELEPHONE = "telephone"
    VIDEO = "video"

    @property
    def label(self) -> str:
        return _MEDIUM_LABELS[self]


_MEDIUM_LABELS = {
    Medium.FACE_TO_FACE: "Face to face",
    Medium.TELEPHONE: "Telephone",
    Medium.VIDEO: "Video consultation",
}
