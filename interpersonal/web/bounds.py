"""The bounds every form field keeps: text lengths, number ranges and plausible date windows.

One place for them (docs/bounds.md gives the reasons). Every CharField of a form carries a
``max_length`` (Django then puts ``maxlength`` on its widget and refuses longer text on the
server), every number field a ``min_value`` and ``max_value``, and every date field one of the
:class:`Window` validators below, so a year-1 or year-9999 date is a form error, never a 500 or a
course's baseline. ``tests/web/test_bounds.py`` fails on a field without one.

Windows are worked out from today when a form is validated (not when the module is imported), so
a server that runs past midnight moves with the calendar.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible

# --- text -----------------------------------------------------------------------------------
NAME = 100
"""A person's given or family name (the Patient model's own column)."""
SHORT_TEXT = 200
"""A line: a GP practice, a relationship, a label."""
REASON = 1_000
"""Why a record was corrected or deleted as entered in error: a few sentences."""
NOTE = 5_000
"""A clinical note of a session or a goal: about two typed pages."""
LONG_TEXT = 20_000
"""A formulation or an address block's worst case: about eight typed pages."""
ADDRESS = 500
"""A postal address, several lines."""
PHONE = 30
"""A phone number as typed (spaces, brackets); stored as E.164, at most 16 characters."""

# --- numbers --------------------------------------------------------------------------------
INT_MAX = 2**31 - 1
"""The largest value a PostgreSQL ``integer`` column holds: hidden versions and ids."""
SESSIONS_MAX = 500
SESSION_MINUTES = (1, 240)
"""A session's length in minutes (courses.actions.record_session refuses outside it too)."""

# --- dates ----------------------------------------------------------------------------------
EARLIEST_BIRTH = dt.date(1900, 1, 1)
EARLIEST_CLINICAL = dt.date(2000, 1, 1)
"""No record of this service (or of the NHS Talking Therapies data set it reports to) is older."""
AHEAD = dt.timedelta(days=366)
"""How far ahead a booking or a plan may be (courses.actions.FUTURE_LIMIT)."""


@dataclass(frozen=True, slots=True)
class Window:
    """The dates a field accepts: from ``earliest`` to today plus ``ahead`` (inclusive)."""

    name: str
    earliest: dt.date
    ahead: dt.timedelta
    message: str
    """The form error: what the date may be, and what to check."""

    def latest(self, today: dt.date | None = None) -> dt.date:
        return (today or timezone.localdate()) + self.ahead

    def contains(self, value: dt.date, *, today: dt.date | None = None) -> bool:
        return self.earliest <= value <= self.latest(today)


BIRTH = Window("birth", EARLIEST_BIRTH, dt.timedelta(0),
               "Give a date of birth between 1900 and today. Check the year.")
LIFE_EVENT = Window("life_event", EARLIEST_BIRTH, dt.timedelta(0),
                    "Give a date between 1900 and today. Check the year.")
"""A timeline event in the patient's life (formulation): may be decades ago, never ahead."""
PAST_CLINICAL = Window("past_clinical", EARLIEST_CLINICAL, dt.timedelta(0),
                       "Give a date between 1 January 2000 and today: it cannot be in the future. Check the year.")
"""Something that has happened: a referral, a measure, a course's end, an agreement."""
CLINICAL = Window("clinical", EARLIEST_CLINICAL, AHEAD,
                  "Give a date from 1 January 2000, and not more than a year ahead. Check the year.")
"""Something booked or planned: a session, a course's start, a contract's dates, a report period."""
WINDOWS = (BIRTH, LIFE_EVENT, PAST_CLINICAL, CLINICAL)


def outside(window: Window, value: dt.date | dt.datetime) -> bool:
    """Whether ``value`` (a datetime by its local date) lies outside ``window``: the actions' check,
    for callers that are not forms (commands, the API, tests) — the form field uses the same window."""
    if isinstance(value, dt.datetime):
        value = timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return not window.contains(value)


@deconstructible
class PlausibleDate:
    """A validator: the date lies in ``window``. Datetimes are judged by their local date."""

    def __init__(self, window: Window) -> None:
        self.window = window

    def __call__(self, value: Any) -> None:
        if isinstance(value, dt.datetime):
            value = timezone.localdate(value) if timezone.is_aware(value) else value.date()
        if not isinstance(value, dt.date) or not self.window.contains(value):
            raise ValidationError(self.window.message, code="implausible_date")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlausibleDate) and other.window == self.window

    def __hash__(self) -> int:
        return hash(self.window)


def window_of(field: forms.Field) -> Window | None:
    """The window a form field keeps, if any."""
    return next((v.window for v in field.validators if isinstance(v, PlausibleDate)), None)


class DateField(forms.DateField):
    """A date field that accepts only dates in ``window``; the date picker starts at its earliest."""

    def __init__(self, *, window: Window, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
        super().__init__(**kwargs)
        self.window = window
        self.validators.append(PlausibleDate(window))
        # ``max`` would go stale in a process that runs past midnight; the server checks it.
        self.widget.attrs.setdefault("min", window.earliest.isoformat())


# --- phone numbers --------------------------------------------------------------------------
_PHONE_SEPARATORS = re.compile(r"[\s()\-.]")
_UK_NATIONAL = re.compile(r"0[1-9][0-9]{8,9}")
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
_UK_E164 = re.compile(r"\+44[1-9][0-9]{8,9}")
"""A UK number in E.164: +44 and the 9 or 10 digits after the national 0 (Ofcom's numbering plan)."""


class InvalidPhoneNumber(ValueError):
    """Text that is not a phone number; its message is the form error to show."""


def normalise_phone(text: str) -> str:
    """A UK or international phone number in E.164 (``+447700900123``), as the SMS gateway
    expects it. Accepts digits with spaces, brackets, dashes or dots; a UK number with its
    leading 0, or a number with ``+`` or ``00`` and its country code. Raises
    :class:`InvalidPhoneNumber` for anything else (letters, markup, exponents, too few digits)."""
    compact = _PHONE_SEPARATORS.sub("", text.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.startswith("+440"):  # +44 (0)7700 900123, as often written
        compact = "+44" + compact[4:]
    if _UK_NATIONAL.fullmatch(compact):
        return "+44" + compact[1:]
    uk_shaped = not compact.startswith("+44") or _UK_E164.fullmatch(compact)
    if uk_shaped and _E164.fullmatch(compact) and compact.isascii():
        return compact
    raise InvalidPhoneNumber(
        "Enter a phone number of digits only, such as 07700 900123 or +44 7700 900123."
    )


class PhoneField(forms.CharField):
    """A phone number, cleaned to E.164 (empty stays empty)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", PHONE)
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text: str = super().clean(value)
        if not text:
            return ""
        try:
            return normalise_phone(text)
        except InvalidPhoneNumber as error:
            raise ValidationError(str(error), code="invalid_phone") from None
