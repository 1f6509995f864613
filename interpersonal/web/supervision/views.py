"""Supervision pages: the supervisor's dashboard, logging a session, the log, a supervisee's
history, the relationships on a staff member's page, and the hourly costs (issue 15).

parse → access → action → respond. Patient data appears only as cases the reader may read
(courses.access); every page that shows cases audits the read (course ids, no names).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from interpersonal.web.accounts import actions as account_actions
from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission
from interpersonal.web.audit import log
from interpersonal.web.courses.access import courses_visible_to
from interpersonal.web.courses.models import Course, TherapySession
from interpersonal.web.formerrors import add_action_errors
from interpersonal.web.supervision import access, actions, dashboard, figures
from interpersonal.web.supervision.forms import (
    AddRelationshipForm,
    CaseFormSet,
    EndRelationshipForm,
    HourlyCostForm,
    LogSessionForm,
)
from interpersonal.web.supervision.models import DiscussedCase, SupervisionRelationship, SupervisionSession
from interpersonal.web.supervision.reach import supervisee_ids, today

supervisor_only = require_permission(Permission.SUPERVISE)
manager = require_permission(Permission.MANAGE_ACCOUNTS)
lead = require_permission(Permission.VIEW_SERVICE_AGGREGATES)

LOG_ROWS = 100
"""Sessions one log page lists, newest first."""


def _slots(request: HttpRequest) -> dict[str, dict[int, list[Any]]]:
    """What the fidelity app puts in the dashboard's slots (dashboard.SLOTS), per supervisee: their
    cases' completely rated recordings below the scale's pass mark, and the recordings of theirs
    that this supervisor has still to rate. Each item a text and the page it links to."""
    from interpersonal.web.courses.models import Course
    from interpersonal.web.fidelity import reports
    from interpersonal.web.supervision import reach

    courses = dict(Course.objects.filter(reach.supervises(request.user), status=Course.Status.ACTIVE)
                   .values_list("pk", "therapist_id"))
    below: dict[int, list[Any]] = {}
    for course_id, rows in reports.fidelity_below_pass(list(courses)).items():
        for r in rows:
            score = "not scorable" if r.total is None else f"scored {r.total:.2f}".rstrip("0").rstrip(".")
            below.setdefault(courses[course_id], []).append({
                "text": f"Recording {r.recording_id} ({r.phase or 'no phase'}): {score}, pass mark {r.pass_mark:g}",
                "url": reverse("fidelity:recording", args=[r.recording_id])})
    awaiting: dict[int, list[Any]] = {}
    for a in reports.awaiting_rating(request.user):
        awaiting.setdefault(a.recording.course.therapist_id, []).append({
            "text": f"Recording {a.recording_id} of {a.recording.course.patient.local_id}, assigned "
                    f"{a.assigned_at:%d %b %Y}", "url": reverse("fidelity:rate", args=[a.pk])})
    return {"fidelity_below_pass_mark": below, "recordings_awaiting_rating": awaiting}


@require_GET
@supervisor_only
def dashboard_view(request: HttpRequest) -> HttpResponse:
    cards = dashboard.build(request.user, slots=_slots(request))
    log.record("supervision.dashboard_viewed", actor=request.user, target=("user", request.user.pk),
               course_ids=[c.course_id for card in cards for c in card.cases])
    return render(request, "supervision/dashboard.html", {
        "cards": cards, "gap_weeks": dashboard.gap_weeks(), "slot_names": dashboard.SLOTS,
    })


def _discussable(user: Any) -> Any:
    """The cases a supervisor may name: their current supervisees' courses that they may read."""
    return (courses_visible_to(user).filter(therapist__in=supervisee_ids(user))
            .select_related("patient", "therapist").order_by("therapist__last_name", "patient__local_id", "pk"))


def _entries(formset: Any) -> list[actions.CaseEntry]:
    chosen = [f.cleaned_data for f in formset.forms if f.cleaned_data.get("course") is not None]
    sessions = {}
    for data in chosen:
        numbered = list(TherapySession.objects.filter(course=data["course"], treatment=True)
                        .order_by("scheduled_at", "pk"))
        missing = [n for n in data["sessions"] if n > len(numbered)]
        if missing:
            raise ValidationError({"cases": f"Case {data['course'].patient.local_id} has {len(numbered)} sessions; "
                                            f"there is no session {missing[0]}."})
        sessions[data["course"].pk] = [numbered[n - 1] for n in data["sessions"]]
    return [actions.CaseEntry(course=d["course"], minutes=d["minutes"], sessions_reviewed=sessions[d["course"].pk],
                              actions_agreed=d["actions_agreed"]) for d in chosen]


@require_http_methods(["GET", "POST"])
@supervisor_only
def log_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    people = get_user_model().objects.filter(pk__in=supervisee_ids(user)).order_by("last_name", "first_name")
    courses = _discussable(user)
    data = request.POST or None
    form = LogSessionForm(data, supervisees=people, initial={"date": today()})
    cases = CaseFormSet(data, prefix="case", form_kwargs={"courses": courses})
    if form.is_bound and form.is_valid() and cases.is_valid():
        try:
            session = actions.log_session(by=user, cases=_entries(cases), **form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc, rename={"cases": "__all__"})
        else:
            return redirect(f"{_log_url()}#session-{session.pk}")
    return render(request, "supervision/log_new.html", {"form": form, "cases": cases},
                  status=400 if form.is_bound else 200)


def _log_url() -> str:
    from django.urls import reverse

    return reverse("supervision:log")


def _with_cases(sessions: Any) -> Any:
    return sessions.prefetch_related(
        "supervisees",
        Prefetch("cases", queryset=DiscussedCase.objects.select_related("course__patient")
                 .prefetch_related("sessions_reviewed")))


def _visible_cases(user: Any, sessions: list[SupervisionSession]) -> set[int]:
    ids = {c.course_id for s in sessions for c in s.cases.all()}
    return set(courses_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))


@require_GET
@supervisor_only
def log_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    sessions = list(_with_cases(access.sessions_given_by(user).order_by("-date", "-pk"))[:LOG_ROWS])
    visible = _visible_cases(user, sessions)
    log.record("supervision.log_viewed", actor=user, target=("user", user.pk), course_ids=sorted(visible))
    return render(request, "supervision/log.html", {"sessions": sessions, "visible": visible})


@require_GET
def history(request: HttpRequest, pk: int) -> HttpResponse:
    """A supervisee's supervision: sessions attended, hours per case, totals and cost over the last
    365 days. The supervisee and their current supervisors only (access.get_supervisee_for_user)."""
    user = request.user
    person = access.get_supervisee_for_user(user, pk)
    until = today()
    since = until - dt.timedelta(days=364)  # the last 365 days, today included
    sessions = list(_with_cases(SupervisionSession.objects.filter(supervisees=person)
                                .select_related("supervisor").order_by("-date", "-pk"))[:LOG_ROWS])
    visible = _visible_cases(user, sessions)
    per_case = figures.minutes_per_case(visible)
    courses = Course.objects.filter(pk__in=per_case).select_related("patient").order_by("-started_on", "pk")
    cost = figures.supervision_cost(person, since=since, until=until)
    log.record("supervision.cases_listed", actor=user, target=person, course_ids=sorted(visible))
    relationships = (SupervisionRelationship.objects.filter(supervisee=person, confirmed_at__isnull=False)
                     .select_related("supervisor").order_by("-started", "-pk"))
    return render(request, "supervision/history.html", {
        "person": person, "sessions": sessions, "visible": visible, "since": since, "until": until,
        "per_case": [(c, per_case[c.pk]) for c in courses], "cost": cost, "relationships": relationships,
        "own": person.pk == user.pk,
    })


def _staff(pk: int) -> Any:
    person = get_user_model().objects.filter(pk=pk).first()
    if person is None:
        raise Http404("No such member of staff")
    return person


@require_http_methods(["GET", "POST"])
@manager
def relationship_add(request: HttpRequest, pk: int) -> HttpResponse:
    person = _staff(pk)
    form = AddRelationshipForm(request.POST or None, supervisee=person, initial={"started": today()})
    if form.is_bound and form.is_valid():
        try:
            result = account_actions.add_supervision(supervisee=person, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            if result.grant is None:
                return redirect("accounts:staff_edit", person.pk)
            return render(request, "accounts/staff_done.html", {
                "title": f"Supervision of {person.display_name}: waits for confirmation", "person": person,
                "grant": result.grant})
    return render(request, "supervision/relationship_form.html", {
        "form": form, "person": person, "title": f"Add a supervisor for {person.display_name}"},
        status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@manager
def relationship_end(request: HttpRequest, pk: int) -> HttpResponse:
    relationship = (SupervisionRelationship.objects.select_related("supervisor", "supervisee")
                    .filter(pk=pk).first())
    if relationship is None:
        raise Http404("No such supervision")
    form = EndRelationshipForm(request.POST or None, initial={"ended": today()})
    if form.is_bound and form.is_valid():
        try:
            account_actions.end_supervision(relationship=relationship, ended=form.cleaned_data["ended"],
                                            by=request.user)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return redirect("accounts:staff_edit", relationship.supervisee_id)
    return render(request, "supervision/relationship_form.html", {
        "form": form, "person": relationship.supervisee, "relationship": relationship,
        "title": f"End {relationship.supervisor.display_name}'s supervision of {relationship.supervisee.display_name}"},
        status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@lead
def costs(request: HttpRequest) -> HttpResponse:
    from interpersonal.web.supervision.models import SupervisionHourlyCost

    form = HourlyCostForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            actions.add_hourly_cost(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return redirect("supervision:costs")
    rows = SupervisionHourlyCost.objects.select_related("grade").order_by("grade__name", "-effective_from")
    return render(request, "supervision/costs.html", {"form": form, "rows": rows},
                  status=400 if form.is_bound else 200)
