"""The patient characteristics an NHS Talking Therapies service submits, as bounded code lists.

The NHS Talking Therapies for anxiety and depression data set (IAPT data set v2.x, technical
output specification) takes these person characteristics from the NHS Data Model and
Dictionary; each list below names the Data Dictionary attribute it follows. Each list holds the
dictionary's own "not stated" (asked, declined to answer) and "not known" codes where it has
them; a field left empty means "not yet asked" and is submitted as not known.

The codes are data, recalled from the Data Dictionary, not read from its current release on this
machine: a list whose ``confirmed`` is False must be checked against the current release before
data are submitted nationally (as :mod:`interpersonal.core.codes` marks its unconfirmed codes).

    >>> ETHNIC_CATEGORY.label("A")
    'White: British'
    >>> ETHNIC_CATEGORY.label("99")
    'Not known'
    >>> "Q" in ETHNIC_CATEGORY
    False
    >>> clean_disabilities(["09", "02", "09"])
    ('02', '09')

Errors::

    ValueError
    └── InvalidCode         (list name, code)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = [
    "CHANNELS",
    "DISABILITY",
    "EMPLOYMENT_STATUS",
    "ETHNIC_CATEGORY",
    "GENDER_IDENTITY",
    "PREFERRED_LANGUAGE",
    "CodeList",
    "InvalidCode",
    "clean_disabilities",
]


class InvalidCode(ValueError):
    """A code that is not on its list."""

    def __init__(self, codes: CodeList, code: object) -> None:
        self.codes, self.code = codes, code
        super().__init__(f"{code!r} is not a {codes.name} code.")


@dataclass(frozen=True, slots=True)
class CodeList:
    """A bounded list of national codes with their labels, in the order they are offered."""

    name: str
    source: str
    codes: tuple[tuple[str, str], ...]
    confirmed: bool = True

    def __post_init__(self) -> None:
        seen = [code for code, _ in self.codes]
        if len(seen) != len(set(seen)) or not all(seen):
            raise ValueError(f"{self.name}: codes must be unique and non-empty")

    def __contains__(self, code: object) -> bool:
        return any(code == c for c, _ in self.codes)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.codes)

    @property
    def max_length(self) -> int:
        return max(len(code) for code, _ in self.codes)

    def label(self, code: str) -> str:
        for c, label in self.codes:
            if c == code:
                return label
        raise InvalidCode(self, code)

    def check(self, code: str) -> str:
        """``code`` if it is on the list (the empty string, "not yet asked", passes too)."""
        if code and code not in self:
            raise InvalidCode(self, code)
        return code


GENDER_IDENTITY = CodeList(
    name="gender identity",
    source='NHS Data Model and Dictionary, "GENDER IDENTITY CODE" (IAPT data set v2.0 onwards)',
    codes=(
        ("1", "Male (including trans man)"),
        ("2", "Female (including trans woman)"),
        ("3", "Non-binary"),
        ("4", "Other (not listed)"),
        ("X", "Not known"),
        ("Z", "Not stated (asked, declined to answer)"),
    ),
)

ETHNIC_CATEGORY = CodeList(
    name="ethnic category",
    source='NHS Data Model and Dictionary, "ETHNIC CATEGORY" (2001 Census categories, national codes A-S, Z, 99)',
    codes=(
        ("A", "White: British"),
        ("B", "White: Irish"),
        ("C", "White: any other White background"),
        ("D", "Mixed: White and Black Caribbean"),
        ("E", "Mixed: White and Black African"),
        ("F", "Mixed: White and Asian"),
        ("G", "Mixed: any other mixed background"),
        ("H", "Asian or Asian British: Indian"),
        ("J", "Asian or Asian British: Pakistani"),
        ("K", "Asian or Asian British: Bangladeshi"),
        ("L", "Asian or Asian British: any other Asian background"),
        ("M", "Black or Black British: Caribbean"),
        ("N", "Black or Black British: African"),
        ("P", "Black or Black British: any other Black background"),
        ("R", "Other ethnic groups: Chinese"),
        ("S", "Other ethnic groups: any other ethnic group"),
        ("Z", "Not stated (asked, declined to answer)"),
        ("99", "Not known"),
    ),
)

PREFERRED_LANGUAGE = CodeList(
    name="preferred language",
    source=('NHS Data Model and Dictionary, "LANGUAGE CODE (PREFERRED)": ISO 639-1 two-letter codes, '
            "with national codes for sign languages; here the languages most often met in services in "
            "England (extend the list as data when a service needs another)"),
    # Unconfirmed: the national codes for British Sign Language (q4), "not known" (99) and "not stated"
    # (ZZ) follow the Data Dictionary as recalled; the ISO 639-1 codes are the standard's own.
    confirmed=False,
    codes=(
        ("en", "English"),
        ("sq", "Albanian"),
        ("am", "Amharic"),
        ("ar", "Arabic"),
        ("bn", "Bengali"),
        ("q4", "British Sign Language"),
        ("bg", "Bulgarian"),
        ("zh", "Chinese"),
        ("fa", "Farsi (Persian)"),
        ("fr", "French"),
        ("de", "German"),
        ("el", "Greek"),
        ("gu", "Gujarati"),
        ("hi", "Hindi"),
        ("hu", "Hungarian"),
        ("ga", "Irish"),
        ("it", "Italian"),
        ("ku", "Kurdish"),
        ("lv", "Latvian"),
        ("lt", "Lithuanian"),
        ("ml", "Malayalam"),
        ("ne", "Nepali"),
        ("pa", "Panjabi"),
        ("ps", "Pashto"),
        ("pl", "Polish"),
        ("pt", "Portuguese"),
        ("ro", "Romanian"),
        ("ru", "Russian"),
        ("gd", "Scottish Gaelic"),
        ("so", "Somali"),
        ("es", "Spanish"),
        ("ta", "Tamil"),
        ("ti", "Tigrinya"),
        ("tr", "Turkish"),
        ("uk", "Ukrainian"),
        ("ur", "Urdu"),
        ("vi", "Vietnamese"),
        ("cy", "Welsh"),
        ("yo", "Yoruba"),
        ("xx", "Another language (not listed)"),
        ("ZZ", "Not stated (asked, declined to answer)"),
        ("99", "Not known"),
    ),
)

DISABILITY = CodeList(
    name="disability",
    source='NHS Data Model and Dictionary, "DISABILITY CODE" (a person may have several)',
    codes=(
        ("01", "Behaviour and emotional"),
        ("02", "Hearing"),
        ("03", "Manual dexterity"),
        ("04", "Memory or ability to concentrate, learn or understand (learning disability)"),
        ("05", "Mobility and gross motor"),
        ("06", "Perception of physical danger"),
        ("07", "Personal, self-care and continence"),
        ("08", "Progressive conditions and physical health (such as HIV, cancer, multiple sclerosis, fits)"),
        ("09", "Sight"),
        ("10", "Speech"),
        ("XX", "Other"),
        ("NN", "No disability"),
        ("ZZ", "Not stated (asked, declined to answer)"),
    ),
)

DISABILITY_ALONE = frozenset({"NN", "ZZ"})
"""Disability codes that stand alone: "no disability" and "not stated" with any other is a contradiction."""

EMPLOYMENT_STATUS = CodeList(
    name="employment status",
    source='NHS Data Model and Dictionary, "EMPLOYMENT STATUS" (as the IAPT data set records it at referral)',
    codes=(
        ("01", "Employed"),
        ("02", "Unemployed and actively seeking work"),
        ("03", "A student in full- or part-time education or training, not working or seeking work"),
        ("04", "Long-term sick or disabled, receiving government sickness or disability benefits"),
        ("05", "Looking after the family or home, not working or seeking work"),
        ("06", "Not receiving government sickness or disability benefits, not working or seeking work"),
        ("07", "Unpaid voluntary work, not working or seeking work"),
        ("08", "Retired"),
        ("ZZ", "Not stated (asked, declined to answer)"),
    ),
)

CHANNELS: tuple[tuple[str, str], ...] = (
    ("phone", "Phone call"),
    ("sms", "Text message (SMS)"),
    ("email", "E-mail"),
    ("letter", "Letter"),
)
"""The channels a patient consents (or not) to be contacted by, each recorded separately:
yes, no, or not yet asked (UK GDPR and PECR: consent to each electronic channel is its own)."""


def clean_disabilities(codes: Iterable[str]) -> tuple[str, ...]:
    """The disability codes sorted and without repeats; :class:`InvalidCode` for a code not on
    the list, or for "no disability" / "not stated" together with any other code."""
    found = sorted({DISABILITY.check(code) for code in codes if code})
    if len(found) > 1 and DISABILITY_ALONE & set(found):
        alone = sorted(DISABILITY_ALONE & set(found))[0]
        raise InvalidCode(DISABILITY, f"{alone} with other codes")
    return tuple(found)
