"""Correcting a course's recorded sessions and measures: a page per row with the record as it
is (to correct it) and a second form to delete it as entered in error, each with a reason.

Each view: parse → access (``get_course_for_user(write=True)``: the course's therapist; a
supervisor reads only, 403) → action (courses.corrections, assessments.corrections) → respond.
Invalid input, or a stale copy, re-renders the page with the message and status 400; nothing is
saved. The history the course page shows is built here too (:func:`history`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_http_methods, require_POST

from interpersonal.core import measures
from interpersonal.core.codes import Attendance, Medium
from interpersonal.web import bounds
from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission
from interpersonal.web.assessments import corrections as measure_corrections
from interpersonal.web.assessments.forms import ScoreForm, answer_field_name, variant_field_name
from interpersonal.web.assessments.models import Measurement, MeasurementCorrection
from interpersonal.web.courses import corrections
from interpersonal.web.courses.access import get_course_for_user
from interpersonal.web.courses.forms import SessionForm
from interpersonal.web.courses.models import Course, SessionCorrection, TherapySession
from interpersonal.web.formerrors import add_action_errors

clinician = require_permission(Permission.HOLD_CASELOAD)

REASON_HELP = "Why the record is wrong, for the clinicians who read it later (kept with the earlier values)."


class ReasonForm(forms.Form):
    """What every correction posts: why, and the version of the record the clinician saw."""

    reason = forms.CharField(max_length=bounds.REASON, widget=forms.Textarea(attrs={"rows": 2}),
                             label="Reason for the correction", help_text=REASON_HELP)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=bounds.INT_MAX)


class DeleteForm(ReasonForm):
    reason = forms.CharField(max_length=bounds.REASON, widget=forms.Textarea(attrs={"rows": 2}),
                             label="Why it was entered in error", help_text=REASON_HELP)


class SessionCorrectionForm(SessionForm, ReasonForm):
    pass


# -- access: the row, in a course the user may change ---------------------------------------

def _session(course: Course, pk: int) -> TherapySession:
    session = TherapySession.objects.filter(course=course, pk=pk).first()
    if session is None:
        raise Http404("No such session in this course")
    return session


def _measurement(course: Course, pk: int) -> Measurement:
    measurement = Measurement.objects.filter(course=course, pk=pk).first()
    if measurement is None:
        raise Http404("No such measure in this course")
    return measurement


def _back(course: Course, anchor: str) -> HttpResponse:
    return redirect(reverse("courses:detail", args=[course.pk]) + anchor)


# -- sessions -------------------------------------------------------------------------------

def _session_initial(session: TherapySession) -> dict[str, Any]:
    when = timezone.localtime(session.scheduled_at)
    return {"date": when.date(), "time": when.time().replace(second=0, microsecond=0),
            "attendance": session.attendance, "duration_minutes": session.duration_minutes, "medium": session.medium,
            "notes": session.notes, "home_practice": session.home_practice, "version": session.version}


def _render_session(request: HttpRequest, course: Course, session: TherapySession, form: Any, delete_form: Any,
                    status: int) -> HttpResponse:
    return render(request, "courses/correct_session.html", {
        "course": course, "patient": course.patient, "session": session, "form": form, "delete_form": delete_form,
        "forms_with_errors": [f for f in (form, delete_form) if f.errors],
    }, status=status)


@require_http_methods(["GET", "POST"])
@clinician
def correct_session(request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk, write=True)
    session = _session(course, session_pk)
    delete_form = DeleteForm(prefix="delete", initial={"version": session.version})
    if request.method != "POST":
        return _render_session(request, course, session, SessionCorrectionForm(initial=_session_initial(session)),
                               delete_form, 200)
    form = SessionCorrectionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            corrections.correct_session(
                session=session, by=request.user, expected_version=data["version"], reason=data["reason"],
                scheduled_at=form.scheduled_at(), attendance=data["attendance"],
                duration_minutes=data["duration_minutes"], medium=data["medium"], notes=data["notes"],
                home_practice=data["home_practice"],
            )
        except ValidationError as exc:
            add_action_errors(form, exc, rename={"scheduled_at": "date"})
        else:
            return _back(course, "#sessions")
    return _render_session(request, course, session, form, delete_form, 400)


@require_POST
@clinician
def delete_session(request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk, write=True)
    session = _session(course, session_pk)
    delete_form = DeleteForm(request.POST, prefix="delete")
    if delete_form.is_valid():
        try:
            corrections.delete_session(session=session, by=request.user, reason=delete_form.cleaned_data["reason"],
                                       expected_version=delete_form.cleaned_data["version"])
        except ValidationError as exc:
            add_action_errors(delete_form, exc)
        else:
            return _back(course, "#sessions")
    return _render_session(request, course, session, SessionCorrectionForm(initial=_session_initial(session)),
                           delete_form, 400)


# -- measures -------------------------------------------------------------------------------

def _answers_data(instrument: measures.Instrument, m: Measurement, prefix: str) -> QueryDict:
    """The measure's stored answers as the score form posts them (the form is bound, so its
    markup is never taken from the unbound form's cache)."""
    data = QueryDict(mutable=True)
    for item in instrument.items:
        if m.answers.get(item.id) is not None:
            data[f"{prefix}-{answer_field_name(item)}"] = str(m.answers[item.id])
        if m.variants.get(item.id):
            data[f"{prefix}-{variant_field_name(item)}"] = m.variants[item.id]
    return data


def _render_measure(request: HttpRequest, course: Course, m: Measurement, instrument: measures.Instrument,
                    form: Any, reason_form: Any, delete_form: Any, status: int) -> HttpResponse:
    return render(request, "courses/correct_measure.html", {
        "course": course, "patient": course.patient, "measurement": m, "instrument": instrument, "form": form,
        "reason_form": reason_form, "delete_form": delete_form,
        "forms_with_errors": [f for f in (reason_form, form, delete_form) if f.errors],
    }, status=status)


def _instrument(m: Measurement) -> measures.Instrument:
    try:
        return measures.get(m.instrument)
    except measures.UnknownInstrument:
        raise Http404(f"The measure {m.instrument!r} is no longer defined") from None


@require_http_methods(["GET", "POST"])
@clinician
def correct_measure(request: HttpRequest, pk: int, measure_pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk, write=True)
    m = _measurement(course, measure_pk)
    instrument = _instrument(m)
    prefix = instrument.id
    delete_form = DeleteForm(prefix="delete", initial={"version": m.version})
    if request.method != "POST":
        form = ScoreForm(instrument, _answers_data(instrument, m, prefix), prefix=prefix)
        return _render_measure(request, course, m, instrument, form, ReasonForm(initial={"version": m.version}),
                               delete_form, 200)
    form = ScoreForm(instrument, request.POST, prefix=prefix)
    reason_form = ReasonForm(request.POST)
    if form.is_valid() & reason_form.is_valid():  # validate both
        try:
            measure_corrections.correct_measurement(
                measurement=m, by=request.user, expected_version=reason_form.cleaned_data["version"],
                reason=reason_form.cleaned_data["reason"], answers=form.answers(), variants=form.variants(),
            )
        except ValidationError as exc:
            target: Any = reason_form if hasattr(exc, "error_dict") and "reason" in exc.error_dict else form
            add_action_errors(target, exc)
        else:
            return _back(course, f"#chart-{instrument.id}")
    return _render_measure(request, course, m, instrument, form, reason_form, delete_form, 400)


@require_POST
@clinician
def delete_measure(request: HttpRequest, pk: int, measure_pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk, write=True)
    m = _measurement(course, measure_pk)
    instrument = _instrument(m)
    delete_form = DeleteForm(request.POST, prefix="delete")
    if delete_form.is_valid():
        try:
            measure_corrections.delete_measurement(measurement=m, by=request.user,
                                                   reason=delete_form.cleaned_data["reason"],
                                                   expected_version=delete_form.cleaned_data["version"])
        except ValidationError as exc:
            add_action_errors(delete_form, exc)
        else:
            return _back(course, "#corrections")
    form = ScoreForm(instrument, _answers_data(instrument, m, instrument.id), prefix=instrument.id)
    return _render_measure(request, course, m, instrument, form, ReasonForm(initial={"version": m.version}),
                           delete_form, 400)


# -- the history the course page shows -----------------------------------------------------

@dataclass(frozen=True, slots=True)
class HistoryRow:
    at: Any
    by: str
    what: str
    """The record corrected: "Session of 3 Dec 2026" or "PHQ-9 of 3 Dec 2026"."""
    kind: str
    """"Corrected" or "Deleted (entered in error)"."""
    reason: str
    earlier: list[str]
    """The earlier values, one line each."""


def _when(value: Any) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else value
    if moment is None:
        return "—"
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y %H:%M}"


def _session_lines(previous: dict[str, Any]) -> list[str]:
    def label(enum: Any, value: Any) -> str:
        try:
            return str(enum(value).label)
        except ValueError:
            return str(value)

    attendance = previous.get("attendance")
    lines = [f"Date: {_when(previous.get('scheduled_at'))}",
             f"Attendance: {label(Attendance, attendance) if attendance is not None else 'Booked'}",
             f"Medium: {label(Medium, previous.get('medium'))}",
             f"Minutes: {previous.get('duration_minutes') or '—'}"]
    if previous.get("notes"):
        lines.append(f"Notes: {previous['notes']}")
    if previous.get("home_practice"):
        lines.append(f"Home practice: {previous['home_practice']}")
    return lines


def _measure_lines(previous: dict[str, Any]) -> list[str]:
    total = previous.get("total")
    answers = previous.get("answers") or {}
    lines = [f"Total: {'not scored' if total is None else f'{total:g}'}"
             + (f" ({previous['severity']})" if previous.get("severity") else ""),
             "Answers: " + (", ".join(f"item {k}: {v}" for k, v in answers.items()) or "none")]
    if previous.get("risk"):
        risk = [str(i) for i in previous["risk"]]
        lines.append(f"Risk answer: item{'s' if len(risk) > 1 else ''} {', '.join(risk)}")
    alert = previous.get("alert")
    if alert and not alert.get("open") and alert.get("note"):
        lines.append(f"Its risk alert had been acknowledged: {alert['note']}")
    return lines


def history(course: Course, *, sessions: bool = True, measures_: bool = True) -> list[HistoryRow]:
    """Every correction of the course's sessions and measures, newest first (two queries; none
    for ``sessions``/``measures_`` False: the caller knows none of them was corrected)."""
    rows = []
    session_corrections = SessionCorrection.objects.filter(session__course=course) if sessions \
        else SessionCorrection.objects.none()
    measure_corrections = MeasurementCorrection.objects.filter(measurement__course=course) if measures_ \
        else MeasurementCorrection.objects.none()
    for c in session_corrections.select_related("session", "by"):
        when = timezone.localtime(c.session.scheduled_at)
        rows.append(HistoryRow(c.at, c.by.display_name, f"Session of {when.day} {when:%b %Y}", c.get_kind_display(),
                               c.reason, _session_lines(c.previous)))
    for mc in measure_corrections.select_related("measurement", "by"):
        m = mc.measurement
        try:
            name = measures.get(m.instrument).abbreviation
        except measures.UnknownInstrument:
            name = m.instrument
        when = timezone.localtime(m.recorded_at)
        rows.append(HistoryRow(mc.at, mc.by.display_name, f"{name} of {when.day} {when:%b %Y}",
                               mc.get_kind_display(), mc.reason, _measure_lines(mc.previous)))
    rows.sort(key=lambda r: r.at, reverse=True)
    return rows
