"""Courses: the caseload, the course page, sessions, measures, tasks, ending and stepping up.

Each view: parse → access (audited) → action → respond. Invalid input re-renders the
form with the action's message and status 400; nothing is saved.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interpersonal.core import measures, protocols
from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.assessments import actions as measure_actions
from interpersonal.web.assessments.alerts import ALERT_RELATED, AlertRow, describe_alert, open_alerts
from interpersonal.web.assessments.charts import change_of, progress_spec
from interpersonal.web.assessments.forms import ScoreForm
from interpersonal.web.assessments.models import RiskAlert
from interpersonal.web.assessments.progress import ONLY_ONE_SCORE, reliable_change_cell
from interpersonal.web.assessments.risk_summary import risk_summary
from interpersonal.web.assessments.with_contact import record_with_measures
from interpersonal.web.audit import log
from interpersonal.web.courses import actions, caseload, correction_views, fragments, notes, supervisees
from interpersonal.web.courses.access import (
    allocated_referrals_for,
    caseload_for,
    courses_visible_to,
    get_course_for_user,
    may_acknowledge_alerts,
    supervised_allocated_referrals_for,
    supervised_caseload_for,
)
from interpersonal.web.courses.forms import (
    AcknowledgeForm,
    EndCourseForm,
    MeasureMetaForm,
    SessionForm,
    StartCourseForm,
    StepUpForm,
    TaskForm,
)
from interpersonal.web.courses.models import ATTENDED, Course, FollowUp, TaskCompletion, TherapySession
from interpersonal.web.courses.summary import summarise
from interpersonal.web.formerrors import add_action_errors
from interpersonal.web.formulation.links import focus_links
from interpersonal.web.patients.access import get_patient_for_user
from interpersonal.web.patients.pathway import step_path, triaged_to
from interpersonal.web.referrals.actions import open_referral_of
from interpersonal.web.referrals.models import Referral
from interpersonal.web.referrals.screening_access import open_screening_alerts

clinician = require_permission(Permission.HOLD_CASELOAD)
SESSION_FIELDS = {"scheduled_at": "date"}
SESSIONS_SHOWN = 10
"""The course page lists its latest sessions; "show all" lists every one."""
CHART_HEIGHT, NARROW_CHART_HEIGHT = 180, 115
"""The course page's charts (px of plot), three side by side, one at a time on a phone: the page
stays short (issue 14)."""
ALERT_FIELDS = {"alerts": "alerts_decision", "alerts_left_open": "alerts_decision"}
"""Where the alert decision's errors (courses.actions) show on the end and step-up forms."""


def _spec_json(spec: dict[str, Any]) -> SafeString:
    """JSON safe inside <script type="application/json"> (as Django's json_script escapes it)."""
    text = json.dumps(spec, ensure_ascii=False, separators=(",", ":"))
    return mark_safe(text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026"))  # noqa: S308


_SENTINEL = 987654321


def _url_for_each(name: str, course_pk: int) -> Callable[[int], str]:
    """``pk → reverse(name, args=[course_pk, pk])``, reversed once for the page rather than once a row."""
    pattern = reverse(name, args=[course_pk, _SENTINEL])
    head, sep, tail = pattern.rpartition(f"/{_SENTINEL}/")
    if not sep:  # not the expected shape: reverse each time
        return lambda pk: reverse(name, args=[course_pk, pk])
    return lambda pk: f"{head}/{int(pk)}/{tail}"


def _default(values: dict[str, Any], key: str) -> str:
    """``{{ v|default:"—" }}`` of a value if there is one."""
    if key not in values:
        return ""
    return str(values[key] or "—")


# -- caseload -----------------------------------------------------------------------------

@require_GET
@clinician
def caseload_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    own = caseload.rows(caseload_for(user))
    allocated = caseload.allocated_rows(allocated_referrals_for(user))
    # A supervisor's supervisees' cases, grouped by supervisee and optionally one supervisee's only.
    people = supervisees.supervisees_of(user)
    only = supervisees.chosen(people, request.GET.get("supervisee"))
    groups = supervisees.groups(people, supervised_caseload_for(user), supervised_allocated_referrals_for(user),
                                only=only)
    supervised = [r for g in groups for r in g.rows]
    supervised_allocated = [a for g in groups for a in g.allocated]
    # The caseload shows identifiable rows: its read is audited (course and referral ids, no names).
    log.record("caseload.viewed", actor=user, target=("user", user.pk),
               course_ids=[r.course_id for r in own + supervised],
               referral_ids=[r.referral.pk for r in allocated + supervised_allocated])
    screening_alerts = [describe_alert(a) for a in open_screening_alerts(user)]
    if screening_alerts:  # risk raised at screening, before any course (referrals.screening_access)
        log.record("screening_alerts.listed", actor=user, target=("user", user.pk),
                   patient_ids=sorted({row.alert.referral.patient_id for row in screening_alerts}))
    return render(request, "courses/caseload.html", {
        "follow_ups": FollowUp.objects.filter(therapist=user, done_at__isnull=True).count(),
        "screening_alerts": screening_alerts,
        "rows": own, "rows_html": caseload.rows_html(own),
        "active_count": sum(1 for r in own if r.ended_on is None), "ended_count": sum(1 for r in own if r.ended_on),
        "supervised": supervised, "supervised_allocated": supervised_allocated,
        "supervisees": people, "supervisee": only, "groups": groups, "allocated": allocated,
    })


# -- course page --------------------------------------------------------------------------

def render_course(request: HttpRequest, course: Course, *, status: int = 200, **forms: Any) -> HttpResponse:
    user = request.user
    definition = course.definition
    summary = summarise(course)
    may_write = course.therapist_id == user.pk and has_permission(user, Permission.HOLD_CASELOAD)
    try:
        ranges = definition.phase_ranges(course.planned_sessions)
        current = definition.phase_for(summary.attended, course.planned_sessions)
    except protocols.ProtocolError:
        ranges, current = (), None
    done = {t.task_id: t for t in TaskCompletion.objects.filter(course=course)}
    writable = may_write and course.is_active
    csrf_input = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)) \
        if writable and ranges else ""
    task_url = reverse("courses:task", args=[course.pk])
    phases = []
    for p, first, last in ranges:
        tasks = [(t, done.get(t.id)) for t in p.tasks]
        phases.append({"phase": p, "first": first, "last": last, "current": current is not None and p.id == current.id,
                       "tasks": tasks,
                       "tasks_html": fragments.task_items(tasks, may_write=writable, action=task_url,
                                                          csrf_input=csrf_input)})
    alerts = list(RiskAlert.objects.filter(course=course)
                  .select_related(*ALERT_RELATED, "acknowledged_by", "left_open_by", "course")
                  .order_by("acknowledged_at", "-raised_at"))
    alert_rows = [describe_alert(a) for a in alerts]
    correct_session_url = correct_measure_url = None
    if may_write:  # the course's therapist, whether or not it has ended: a record stays correctable
        correct_session_url = _url_for_each("courses:correct_session", course.pk)
        correct_measure_url = _url_for_each("courses:correct_measure", course.pk)
    charts = [{"series": s, "spec": _spec_json(progress_spec(s.instrument, s.points, planned_sessions=course.planned_sessions,
                                                             height=CHART_HEIGHT)),
               "rows_html": fragments.chart_rows(s.rows, correct_measure_url)}
              for s in summary.series]
    outcome = summary.outcome
    score_rows, changes = [], []
    for s in summary.series:
        change = change_of(s.instrument, s.points)
        changes.append((s.instrument, change))
        score_rows.append((s.instrument.abbreviation,
                           fragments.score_cell(change.first.total, change.first) if change else "",
                           # one score is shown once, not as a first and a last of the same value
                           fragments.score_cell(change.last.total, change.last) if change and change.paired
                           else ONLY_ONE_SCORE if change else "",
                           reliable_change_cell(change),
                           _default(outcome.jacobson_truax, s.instrument.id)))
    higher = [p for p in protocols.catalogue() if p.step > definition.step]
    referral = course.referral
    step_of = {p.id: p.step for p in protocols.catalogue()}
    # The referral's courses, in order: its step path, and the course this one was stepped up to
    # (a stepped-up course continues the referral: courses.actions.start_course), if visible.
    steps_of_referral = list(Course.objects.filter(referral_id=course.referral_id).order_by("started_on", "id")
                             .values_list("pk", "protocol", "stepped_from_id"))
    steps = [step_of.get(protocol) for _pk, protocol, _from in steps_of_referral]
    next_pk = next((pk for pk, _protocol, stepped_from in steps_of_referral if stepped_from == course.pk), None)
    stepped_to = courses_visible_to(user).filter(pk=next_pk).first() if next_pk is not None else None
    # The latest sessions only, unless all are asked for (?sessions=all): the list grows all course long.
    all_sessions = request.GET.get("sessions") == "all"
    shown = summary.sessions if all_sessions else summary.sessions[-SESSIONS_SHOWN:]
    ack_errors = forms.pop("ack_errors", {})
    end_form = forms.pop("end_form", None) or EndCourseForm()
    step_up_form = forms.pop("step_up_form", None) or StepUpForm(current_step=definition.step)
    context = {
        "course": course, "patient": course.patient, "definition": definition, "summary": summary,
        "current_phase": current, "phases": phases, "alert_rows": alert_rows,
        "open_alerts": sum(1 for a in alerts if a.open), "charts": charts,
        "score_rows": score_rows, "sessions_html": fragments.session_rows(shown, correct_session_url),
        "all_sessions": all_sessions, "sessions_shown": len(shown), "sessions_hidden": len(summary.sessions) - len(shown),
        "sessions_line": fragments.sessions_line(summary.sessions),
        "tasks_line": fragments.tasks_line(phases), "outcome_line": fragments.outcome_line(outcome, changes),
        "acknowledged_alerts": sum(1 for a in alerts if not a.open), "narrow_chart_height": NARROW_CHART_HEIGHT,
        "corrections": correction_views.history(course, sessions=summary.sessions_corrected,
                                                measures_=summary.measures_corrected),
        "may_write": writable, "may_ack": may_acknowledge_alerts(user, course),
        "stepped_to": stepped_to, "may_step_up": bool(higher), "referral": referral,
        "step_path": step_path(steps), "referral_triaged_to": triaged_to(referral) if referral.triaged_at else "",
        "focus_links": focus_links(course), "risk_summary": risk_summary(course, user),
        "notes": notes.panel(course, user, sessions=[row.session for row in summary.sessions]),
        "next_steps": sorted({p.step for p in higher}),
        "end_form_html": fragments.form_fields(end_form, None),
        "step_up_form_html": fragments.form_fields(step_up_form, definition.step),
        "ack_form": AcknowledgeForm(), "ack_errors": ack_errors, "ack_note": forms.pop("ack_note", ""), "errors": forms.pop("errors", []),
        "session_measures": [measures.get(i) for i in definition.session_measures],
        "other_measures": [i for i in measures.catalogue() if i.id not in definition.session_measures],
    }
    return render(request, "courses/detail.html", context, status=status)


@require_GET
@clinician
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_course(request, get_course_for_user(request.user, pk))


@require_http_methods(["GET", "POST"])
@clinician
def new(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, pk, write=True)
    referral = open_referral_of(patient)
    triaged = _triaged_protocol(referral)
    form = StartCourseForm(request.POST or None, initial={"protocol": triaged.id} if triaged else {})
    if form.is_bound and form.is_valid():
        try:
            course = actions.start_course(patient=patient, therapist=request.user, by=request.user,
                                          protocol=form.cleaned_data["protocol"],
                                          planned_sessions=form.cleaned_data["planned_sessions"],
                                          started_on=form.cleaned_data["started_on"], referral=referral)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return redirect("courses:detail", course.pk)
    return render(request, "courses/new.html", {
        "form": form, "patient": patient, "protocols": protocols.catalogue(), "referral": referral,
        "triaged": triaged, "triaged_to": triaged_to(referral) if referral and referral.triaged_at else "",
        "previous_steps": list(referral.courses.order_by("started_on", "id")) if referral else [],
    }, status=400 if form.is_bound else 200)


def _triaged_protocol(referral: Referral | None) -> protocols.Protocol | None:
    """The protocol the referral was triaged to (Referral.therapy, once triage is recorded), if
    it is in the catalogue and no course of the referral has followed it yet (after a step-up
    the next course is chosen, not defaulted back to the first step)."""
    if referral is None or not referral.therapy or referral.triaged_at is None \
            or referral.courses.filter(protocol=referral.therapy).exists():
        return None
    try:
        return protocols.get(referral.therapy)
    except protocols.UnknownProtocol:
        return None


# -- sessions and measures ----------------------------------------------------------------

def _session_instruments(course: Course) -> list[measures.Instrument]:
    definition = course.definition
    ids = list(definition.session_measures)
    if not TherapySession.objects.filter(course=course, attendance__in=ATTENDED).exists():
        ids = list(dict.fromkeys([*definition.baseline_measures, *ids]))
    return [measures.get(i) for i in ids]


def _booking(course: Course, raw: str) -> TherapySession | None:
    """The booked appointment of ``course`` named by the diary's "record the session" link, to
    fill the form's date and time (recording on its day completes it: courses.actions)."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        return None
    return TherapySession.objects.filter(pk=int(raw), course=course, attendance__isnull=True).first()


@require_http_methods(["GET", "POST"])
@clinician
def record_session(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method != "POST":
        return _record_session(request, pk)
    # The access audit joins the recording's transaction, and their events are sealed into the
    # audit chain as its last step (ADR 0004): one commit for the whole request's writes.
    with transaction.atomic():
        response = _record_session(request, pk)
        log.seal_before_commit()
        return response


def _record_session(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk, write=True)
    instruments = _session_instruments(course)
    data = request.POST if request.method == "POST" else None
    now = timezone.localtime()
    booking = _booking(course, request.GET.get("booking", ""))
    at = timezone.localtime(booking.scheduled_at) if booking is not None else now
    initial = {"date": at.date(), "time": at.replace(second=0, microsecond=0).time(), "attendance": "5",
               "duration_minutes": 50}
    if booking is not None:
        initial.update(duration_minutes=booking.duration_minutes or 50, medium=booking.medium)
    form = SessionForm(data, initial=initial)
    score_forms = [ScoreForm(i, data, prefix=i.id) for i in instruments]
    if data is not None:
        def record() -> TherapySession:
            return actions.record_session(
                course=course, by=request.user, scheduled_at=form.scheduled_at(),
                attendance=form.cleaned_data["attendance"],
                duration_minutes=form.cleaned_data["duration_minutes"], medium=form.cleaned_data["medium"],
                notes=notes.without_template(course, form.cleaned_data["notes"]),
                home_practice=form.cleaned_data["home_practice"],
            )

        if record_with_measures(form, score_forms, what="session", by=request.user, owner={"course": course},
                                record=record, rename=SESSION_FIELDS) is not None:
            return redirect(reverse("courses:detail", args=[course.pk]) + "#sessions")
    notes.start_with_template(form, notes.phase_at(course, at))  # the phase's note template, with its name
    status = 400 if data is not None else 200
    return render(request, "courses/record_session.html", {
        "course": course, "patient": course.patient, "form": form, "score_forms": score_forms,
        "forms_with_errors": [f for f in [form, *score_forms] if f.errors],
    }, status=status)


@require_http_methods(["GET", "POST"])
@clinician
def record_measure(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk, write=True)
    instrument_id = request.POST.get("instrument") or request.GET.get("instrument", "")
    try:
        instrument = measures.get(instrument_id)
    except measures.UnknownInstrument:
        raise Http404(f"No instrument {instrument_id!r}") from None
    attended = TherapySession.objects.filter(course=course, attendance__in=ATTENDED).order_by("scheduled_at", "id")
    choices = [(s.pk, f"Session {n}, {timezone.localtime(s.scheduled_at):%d %b %Y}") for n, s in enumerate(attended, 1)]
    data = request.POST if request.method == "POST" else None
    meta = MeasureMetaForm(data, sessions=choices)
    form = ScoreForm(instrument, data, prefix=instrument.id)
    if data is not None:
        valid = meta.is_valid()
        if form.is_valid() and valid:
            session = next((s for s in attended if s.pk == meta.cleaned_data["session"]), None)
            if session is not None:
                recorded_at = session.scheduled_at
            elif meta.cleaned_data["date"] and meta.cleaned_data["date"] != timezone.localdate():
                recorded_at = timezone.make_aware(dt.datetime.combine(meta.cleaned_data["date"], dt.time(12)))
            else:
                recorded_at = timezone.now()
            try:
                measure_actions.record_measurement(course=course, instrument=instrument.id, answers=form.answers(),
                                                   variants=form.variants(), session=session, by=request.user,
                                                   recorded_at=recorded_at)
            except ValidationError as exc:
                add_action_errors(form, exc, rename={"recorded_at": "date"})
                if hasattr(exc, "error_dict") and "recorded_at" in exc.error_dict:
                    meta.add_error("date", exc.error_dict["recorded_at"][0].messages)
            else:
                return redirect(reverse("courses:detail", args=[course.pk]) + f"#chart-{instrument.id}")
    return render(request, "courses/record_measure.html", {
        "course": course, "patient": course.patient, "instrument": instrument, "form": form, "meta": meta,
        "forms_with_errors": [f for f in (meta, form) if f.errors],
    }, status=400 if data is not None else 200)


# -- tasks, ending, stepping up ------------------------------------------------------------

@require_POST
@clinician
def task(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk, write=True)
    form = TaskForm(request.POST)
    if form.is_valid():
        try:
            actions.set_task(course=course, task_id=form.cleaned_data["task"], done=form.cleaned_data["done"],
                             by=request.user)
        except ValidationError as exc:
            return render_course(request, course, status=400, errors=exc.messages)
        return redirect(reverse("courses:detail", args=[course.pk]) + "#tasks")
    return render_course(request, course, status=400, errors=["Choose a task of this protocol."])


def _alert_decision_context(course: Course, form: Any, alerts: list[AlertRow]) -> dict[str, Any]:
    """What ``courses/_alerts_decision.html`` shows: the open alerts, a note field for each."""
    return {"course": course, "patient": course.patient, "form": form, "alerts": alerts,
            "notes": [(row, form[f"note_{row.alert.pk}"]) for row in alerts],
            "alerts_seen": ",".join(str(r.alert.pk) for r in alerts),
            "next_steps": sorted({p.step for p in protocols.catalogue() if p.step > course.definition.step})}


@require_http_methods(["GET", "POST"])
@clinician
def end(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk, write=True)
    alerts = open_alerts(Course.objects.filter(pk=course.pk))
    attended = TherapySession.objects.filter(course=course, attendance__in=ATTENDED).count()
    form = EndCourseForm(request.POST or None, alert_ids=[r.alert.pk for r in alerts], attended=attended,
                         planned=course.planned_sessions or course.definition.default_sessions)
    if form.is_bound and form.is_valid():
        try:
            actions.end_course(course=course, reason=form.cleaned_data["reason"], by=request.user,
                               ended_on=form.cleaned_data["ended_on"], **form.alert_decision())
        except ValidationError as exc:
            add_action_errors(form, exc, rename=ALERT_FIELDS)
        else:
            return redirect(reverse("courses:detail", args=[course.pk]) + "#summary")
    return render(request, "courses/end.html", _alert_decision_context(course, form, alerts),
                  status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@clinician
def step_up(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk, write=True)
    alerts = open_alerts(Course.objects.filter(pk=course.pk))
    form = StepUpForm(request.POST or None, current_step=course.definition.step,
                      alert_ids=[r.alert.pk for r in alerts])
    if form.is_bound and form.is_valid():
        try:
            new_course = actions.step_up(course=course, protocol=form.cleaned_data["protocol"], therapist=request.user,
                                         by=request.user, planned_sessions=form.cleaned_data["planned_sessions"],
                                         **form.alert_decision())
        except ValidationError as exc:
            add_action_errors(form, exc, rename=ALERT_FIELDS)
        else:
            return redirect("courses:detail", new_course.pk)
    return render(request, "courses/step_up.html", _alert_decision_context(course, form, alerts),
                  status=400 if form.is_bound else 200)


# -- service aggregates ---------------------------------------------------------------------

@require_GET
@require_permission(Permission.VIEW_SERVICE_AGGREGATES)
def service(request: HttpRequest) -> HttpResponse:
    """Counts only: no names, no identifiers."""
    today = timezone.localdate()
    month_start = timezone.make_aware(dt.datetime.combine(today.replace(day=1), dt.time()))
    active = caseload.annotate(Course.objects.filter(status=Course.Status.ACTIVE)).values_list(
        "protocol", "planned_sessions", "attended_count")
    by_phase: Counter[tuple[str, str]] = Counter()
    by_protocol: Counter[str] = Counter()
    for protocol_id, planned, attended in active:
        try:
            definition = protocols.get(protocol_id)
            phase = definition.phase_for(attended, planned).name
            name = definition.name
        except (protocols.ProtocolError, protocols.UnknownProtocol):
            name, phase = protocol_id, "—"
        by_protocol[name] += 1
        by_phase[(name, phase)] += 1
    sessions = TherapySession.objects.filter(scheduled_at__gte=month_start, scheduled_at__lte=timezone.now()).aggregate(
        attended=Count("pk", filter=Q(attendance__in=ATTENDED)),
        dna=Count("pk", filter=Q(attendance=3)),
        cancelled=Count("pk", filter=Q(attendance__in=(2, 4))),
    )
    open_alerts = RiskAlert.objects.filter(acknowledged_at__isnull=True).count()
    return render(request, "courses/service.html", {
        "by_protocol": sorted(by_protocol.items()), "by_phase": sorted(by_phase.items()), "sessions": sessions,
        "open_alerts": open_alerts, "month": today.replace(day=1), "active_total": sum(by_protocol.values()),
    })
