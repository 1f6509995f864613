"""A course's notes, as the clinicians responsible read them: every recorded session's notes and
home practice and every non-session contact, newest first (the read model of the course page's
"Notes" section and of the notes page, ``courses/<pk>/notes/``).

A session counts here once it is recorded (it has an attendance code) and has something written;
a session deleted as entered in error, and a contact deleted so, are left out (the default
managers). Text stays text: templates escape it and keep its line breaks (CSS ``pre-wrap``);
:func:`highlight` escapes it itself before marking a search's matches.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from interpersonal.core import protocols
from interpersonal.web.courses.models import ATTENDED, Contact, Course, TherapySession

SEARCH_MAX = 100
"""The longest search a course's notes page takes (a word or a phrase)."""
LATEST = 3
"""How many notes the course page shows before its link to them all."""
PER_PAGE = 20
"""Notes per page of the notes page."""


@dataclass(frozen=True, slots=True)
class Note:
    """One entry of a course's notes: a session's or a contact's."""

    course_id: int
    at: dt.datetime
    source: str
    """"session" or "contact"."""
    pk: int
    title: str
    """"Session 3" (its number among attended sessions), "Session (did not attend)" or the contact's kind."""
    detail: str
    """The phase, the medium, or whom a contact was with."""
    author: str
    text: str
    home_practice: str = ""
    minutes: int | None = None
    correct_url: str = ""
    """The correction page, for the course's therapist (empty for anyone else)."""

    def matches(self, query: str) -> bool:
        q = query.casefold()
        return any(q in part.casefold() for part in (self.text, self.home_practice, self.detail, self.title))

    @property
    def anchor(self) -> str:
        return f"note-{self.source}-{self.pk}"


class SearchForm(forms.Form):
    """The notes page's search: a word or phrase, case-insensitive, bounded."""

    q = forms.CharField(label="Search the notes", max_length=SEARCH_MAX, required=False, strip=True,
                        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
                        error_messages={"max_length": f"Search for at most {SEARCH_MAX} characters."})

    def clean_q(self) -> str:
        q: str = self.cleaned_data["q"]
        if "\x00" in q:
            raise forms.ValidationError("Null characters are not allowed.")
        return q


def _phase_name(definition: protocols.Protocol, number: int | None, planned: int | None) -> str:
    if number is None:
        return ""
    try:
        return definition.phase_at(number, planned).name
    except protocols.ProtocolError:
        return ""


def notes_of(course: Course, *, may_correct: bool = False,
             sessions: Iterable[TherapySession] | None = None) -> list[Note]:
    """Every note of ``course``, newest first (two queries; one if the caller has read the course's
    ``sessions`` in force already, in date order with their ``recorded_by``, as summarise does)."""
    definition = course.definition
    notes: list[Note] = []
    number = 0
    if sessions is None:
        sessions = (TherapySession.objects.filter(course=course, attendance__isnull=False)
                    .select_related("recorded_by").order_by("scheduled_at", "id"))
    for s in sessions:
        if s.attendance is None:  # booked, not held: nothing written yet
            continue
        attended = s.attendance in ATTENDED
        if attended:
            number += 1
        if not (s.notes or s.home_practice):
            continue
        title = f"Session {number}" if attended else f"Session not held: {s.get_attendance_display()}"
        detail = " · ".join(x for x in (_phase_name(definition, number if attended else None, course.planned_sessions),
                                        s.get_medium_display()) if x)
        notes.append(Note(
            course_id=course.pk, at=s.scheduled_at, source="session", pk=s.pk, title=title, detail=detail,
            author=s.recorded_by.display_name if s.recorded_by else "", text=s.notes, home_practice=s.home_practice,
            minutes=s.duration_minutes,
            correct_url=reverse("courses:correct_session", args=[course.pk, s.pk]) if may_correct else "",
        ))
    for c in Contact.objects.filter(course=course).select_related("recorded_by"):
        notes.append(Note(
            course_id=course.pk, at=c.at, source="contact", pk=c.pk, title=c.get_kind_display(),
            detail=f"With {c.with_whom}" if c.with_whom else "", author=c.recorded_by.display_name, text=c.note,
            minutes=c.duration_minutes,
            correct_url=reverse("courses:correct_contact", args=[course.pk, c.pk]) if may_correct else "",
        ))
    notes.sort(key=lambda n: (n.at, n.source == "contact", n.pk), reverse=True)
    return notes


def highlight(text: str, query: str) -> SafeString:
    """``text`` escaped, each case-insensitive match of ``query`` in a ``<mark>``."""
    if not query:
        return escape(text)
    parts = re.split(f"({re.escape(query)})", text, flags=re.IGNORECASE)
    return mark_safe("".join(f"<mark>{escape(p)}</mark>" if i % 2 else escape(p)  # noqa: S308 (escaped)
                             for i, p in enumerate(parts)))


SHORT_LINES, SHORT_CHARS = 6, 400
"""How much of a note the course page shows (the notes page shows it whole)."""


def shorten(text: str) -> str:
    """The first :data:`SHORT_LINES` lines and :data:`SHORT_CHARS` characters of ``text``, "…" if cut."""
    lines = text.splitlines()
    short = "\n".join(lines[:SHORT_LINES])
    if len(short) > SHORT_CHARS:
        short = short[:SHORT_CHARS].rstrip()
    return short if short == text else short + " …"


def shown(note: Note, query: str = "", *, short: bool = False) -> dict[str, Any]:
    """What the template shows of one note (its text marked for ``query``; cut for the course page
    if ``short``, with ``cut`` saying so)."""
    local = timezone.localtime(note.at)
    text, home_practice = (shorten(note.text), shorten(note.home_practice)) if short else (note.text, note.home_practice)
    return {"note": note, "when": local, "text": highlight(text, query), "home_practice": highlight(home_practice, query),
            "detail": highlight(note.detail, query), "cut": (text, home_practice) != (note.text, note.home_practice)}


def may_correct(user: Any, course: Course) -> bool:
    """The course's therapist corrects its notes; a supervisor reads them only."""
    from interpersonal.web.accounts.roles import Permission, has_permission

    return course.therapist_id == user.pk and has_permission(user, Permission.HOLD_CASELOAD)


def panel(course: Course, user: Any, sessions: Iterable[TherapySession] | None = None) -> dict[str, Any]:
    """The course page's "Notes" section: the latest few notes, how many there are, and (for the
    course's therapist, while the course is active) the link to record a contact. ``sessions``: as
    for :func:`notes_of`."""
    writer = may_correct(user, course)
    notes = notes_of(course, may_correct=writer, sessions=sessions)
    return {"latest": [shown(n, short=True) for n in notes[:LATEST]], "count": len(notes),
            "may_record": writer and course.is_active,
            "url": reverse("courses:notes", args=[course.pk]),
            "record_url": reverse("courses:record_contact", args=[course.pk])}


# -- note templates: the record-session form starts with its phase's headings -------------------

def phase_at(course: Course, at: dt.datetime) -> protocols.Phase | None:
    """The protocol phase a session of ``course`` at ``at`` falls in: the one after the sessions
    attended before it (as ``Protocol.phase_for`` counts). None outside the protocol's range."""
    attended = TherapySession.objects.filter(course=course, attendance__in=ATTENDED, scheduled_at__lt=at).count()
    try:
        return course.definition.phase_for(attended, course.planned_sessions)
    except protocols.ProtocolError:
        return None


def start_with_template(form: forms.Form, phase: protocols.Phase | None) -> None:
    """Put ``phase``'s note template into an unbound session form's notes (never over typed
    text: a bound form keeps what was posted) and say which template it is."""
    if phase is None or not phase.note_template:
        return
    field = form.fields["notes"]
    field.help_text = (f"Template: {phase.name}. Write under the headings; delete those you do not use. "
                       "Left as it is, the template is not saved as a note.")
    if not form.is_bound and not form.initial.get("notes"):
        form.initial["notes"] = phase.note_template
    field.widget.attrs["rows"] = min(16, phase.note_template.count("\n") + 3)  # every heading in view


def without_template(course: Course, text: str) -> str:
    """A session's notes as saved: empty if they are one of the protocol's templates untouched
    (headings with nothing written under them are not a note)."""
    templates = {p.note_template.strip() for p in course.definition.phases if p.note_template}
    return "" if text.strip() in templates else text
