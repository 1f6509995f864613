"""A therapist's diary as an iCalendar (RFC 5545) feed, for their own calendar app.

The feed is reached by a private URL (a random key, only its hash stored; see
:class:`~interpersonal.web.courses.models.DiaryFeed`), so it must carry nothing that identifies a
patient: each event says "Appointment (DIT session 4)", its time, length and room — no name, NHS
number, local id, course or referral number (the UID is the appointment's row id, which means
nothing outside the service). Written by hand: the maintained ``icalendar`` package is not in
requirements.lock. RFC 5545 §3.1: lines end in CRLF and are folded at 75 octets; §3.3.11: text
escapes backslash, semicolon, comma and newline; §3.3.5: times in UTC end in "Z".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

PRODID = "-//interpersonal//diary feed//EN"
FOLD_AT = 75
"""Octets per content line before folding (RFC 5545 §3.1)."""


@dataclass(frozen=True, slots=True)
class Event:
    uid: str
    start: dt.datetime
    minutes: int
    summary: str
    location: str = ""


def escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11)."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line: str) -> str:
    """One content line folded into lines of at most 75 octets, never splitting a UTF-8 character."""
    out, current, size = [], "", 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        limit = FOLD_AT if not out else FOLD_AT - 1  # continuation lines start with a space
        if size + n > limit:
            out.append(current)
            current, size = "", 0
        current += ch
        size += n
    out.append(current)
    return "\r\n ".join(out)


def utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(events: Iterable[Event], *, name: str, now: dt.datetime) -> str:
    """The VCALENDAR text of ``events``."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"X-WR-CALNAME:{escape(name)}"]
    for e in events:
        lines += ["BEGIN:VEVENT", f"UID:{escape(e.uid)}", f"DTSTAMP:{utc(now)}", f"DTSTART:{utc(e.start)}",
                  f"DTEND:{utc(e.start + dt.timedelta(minutes=e.minutes))}", f"SUMMARY:{escape(e.summary)}"]
        if e.location:
            lines.append(f"LOCATION:{escape(e.location)}")
        lines += ["TRANSP:OPAQUE", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
