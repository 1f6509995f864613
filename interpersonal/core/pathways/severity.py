"""Severity of a new depressive episode as NICE NG222 splits it, to inform triage.

NICE guideline NG222, *Depression in adults: treatment and management* (June 2022), "Terms used
in this guideline": **less severe** depression is a PHQ-9 score below 16, **more severe** a score
of 16 or more (DOMAIN.md §6 [V]). NG222 uses the split to choose among first-line treatments for
a new episode (IPT is an option for less severe depression for people who do not want CBT or
behavioural activation, DOMAIN.md §6 [V]); it informs the triage decision, it does not make it.

    >>> ng222_severity(15).value, ng222_severity(16).value
    ('less_severe', 'more_severe')
    >>> ng222_severity(None) is None
    True
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["NG222_MORE_SEVERE_AT", "NG222_SOURCE", "Ng222Severity", "ng222_severity"]

NG222_MORE_SEVERE_AT = 16
"""PHQ-9 total at or above which NICE NG222 calls a new depressive episode "more severe"
(NG222, 2022, "Terms used in this guideline"; DOMAIN.md §6 [V])."""

NG222_SOURCE = ("NICE NG222 (2022), Depression in adults: treatment and management, 'Terms used in this "
                "guideline': less severe depression = PHQ-9 below 16, more severe = 16 or more.")


class Ng222Severity(StrEnum):
    LESS_SEVERE = "less_severe"
    MORE_SEVERE = "more_severe"

    @property
    def label(self) -> str:
        return "Less severe (PHQ-9 below 16)" if self is Ng222Severity.LESS_SEVERE else "More severe (PHQ-9 16 or more)"


def ng222_severity(phq9_total: float | None) -> Ng222Severity | None:
    """The NG222 severity of a PHQ-9 total (0–27, possibly prorated); None when the total is
    unknown (not recorded, or too many items missing to score). A prorated total is compared as
    scored: 15.5 is below 16."""
    if phq9_total is None:
        return None
    if not 0 <= phq9_total <= 27:
        raise ValueError(f"a PHQ-9 total lies between 0 and 27, not {phq9_total}")
    return Ng222Severity.MORE_SEVERE if phq9_total >= NG222_MORE_SEVERE_AT else Ng222Severity.LESS_SEVERE
