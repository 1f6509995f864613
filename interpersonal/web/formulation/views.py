"""The focus of a course: the IPAF, the inventory, the timeline and the formulation, each for a
course whose protocol lists it as a feature (DIT: the IPAF; IPT: the others).

Each view: parse → access (audited) → action → respond. Invalid input re-renders with
status 400; a save based on an out-of-date copy re-renders with 409, the "changed
meanwhile" message, the current values in the form and the editor's own values beside it.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from interpersonal.core import protocols
from interpersonal.web import bounds
from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.courses.access import get_course_for_user
from interpersonal.web.courses.models import Course
from interpersonal.web.formerrors import add_action_errors, posted_version
from interpersonal.web.formulation import access, actions, diagram
from interpersonal.web.formulation.forms import EventForm, IpafForm, IptFormulationForm, PersonForm
from interpersonal.web.formulation.links import focus_links
from interpersonal.web.formulation.models import MOOD_SCALE_HELP, InventoryPerson, IpafRevision, TimelineEvent

clinician = require_permission(Permission.HOLD_CASELOAD)
STALE = 409


def _course(request: HttpRequest, pk: int, feature: str) -> Course:
    """The course (access checked, audited), if its protocol has ``feature``; else 404."""
    course = get_course_for_user(request.user, pk, write=request.method == "POST")
    if not course.definition.has_feature(feature):
        raise Http404("This course's protocol does not have this record.")
    return course


def _may_write(request: HttpRequest, course: Course) -> bool:
    return course.therapist_id == request.user.pk and has_permission(request.user, Permission.HOLD_CASELOAD) \
        and course.is_active


def _seen(fields: tuple[str, ...], values: dict[str, Any]) -> dict[str, str]:
    return {f: actions.as_text(values[f]) for f in fields}


def _seen_posted(request: HttpRequest, fields: tuple[str, ...]) -> dict[str, str] | None:
    """The values the editor's page showed (hidden ``seen-*`` fields), echoed back on a stale
    save. No stored value is longer than bounds.LONG_TEXT, so nothing honest is cut."""
    seen = {f: request.POST[f"seen-{f}"][:bounds.LONG_TEXT] for f in fields if f"seen-{f}" in request.POST}
    return seen or None


def _yours(form: forms.Form) -> list[tuple[str, str]]:
    """The editor's unsaved values, shown beside the refreshed form after a stale save."""
    data = form.cleaned_data if hasattr(form, "cleaned_data") else {}
    return [(form.fields[f].label or f.replace("_", " ").capitalize(), actions.as_text(v) or "(blank)")
            for f, v in data.items() if f not in ("version", "based_on") and not f.startswith("seen")]


def _spec_json(spec: dict[str, Any]) -> SafeString:
    """JSON safe inside <script type="application/json"> (escaped as Django's json_script does)."""
    text = json.dumps(spec, ensure_ascii=False, separators=(",", ":"))
    return mark_safe(text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026"))  # noqa: S308


# -- DIT: IPAF -------------------------------------------------------------------------------

def _history(course: Course) -> list[dict[str, Any]]:
    rows, previous = [], actions.empty_ipaf()
    definition = course.definition
    for r in access.ipaf_history(course):
        values = {f: getattr(r, f) for f in IpafRevision.FIELDS}
        try:
            phase = definition.phase(r.phase_id).name if r.phase_id else "—"
        except protocols.ProtocolError:
            phase = r.phase_id
        changed = [actions.LABELS[f] for f in IpafRevision.FIELDS if values[f] != previous[f]]
        rows.append({"revision": r, "phase": phase, "changed": changed})
        previous = values
    return list(reversed(rows))


@require_http_methods(["GET", "POST"])
@clinician
def ipaf(request: HttpRequest, pk: int) -> HttpResponse:
    course = _course(request, pk, "ipaf")
    latest = access.current_ipaf(course)
    initial = ({f: getattr(latest, f) for f in IpafRevision.FIELDS} | {"based_on": latest.number}) if latest else {}
    form = IpafForm(request.POST or None, initial=initial)
    status, stale, yours = 200, None, []
    if form.is_bound:
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                actions.revise_ipaf(course=course, by=request.user, based_on=d["based_on"],
                                    **{f: d[f] for f in IpafRevision.FIELDS})
            except actions.StaleEdit as exc:
                status, stale, yours = STALE, exc.messages[0], _yours(form)
                current = {k: v for k, v in exc.current.items() if k != "number"} | {"based_on": exc.current["number"]}
                form = IpafForm(initial=current)
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                return redirect("formulation:ipaf", course.pk)
    return render(request, "formulation/ipaf.html", {
        "course": course, "patient": course.patient, "form": form, "latest": latest, "history": _history(course),
        "focus_links": focus_links(course),
        "may_write": _may_write(request, course), "stale": stale, "yours": yours,
    }, status=status)


# -- IPT: inventory ---------------------------------------------------------------------------

def _inventory_context(request: HttpRequest, course: Course) -> dict[str, Any]:
    people = list(access.inventory(course))
    by_ring = {r: [p.label for p in people if p.ring == r] for r, _, _ in diagram.RINGS}
    return {
        "course": course, "patient": course.patient, "people": people, "placed": diagram.place(people),
        "rings": diagram.rings(), "size": diagram.SIZE, "centre": diagram.CENTRE, "core_radius": diagram.CORE_RADIUS,
        "by_ring": by_ring, "may_write": _may_write(request, course), "focus_links": focus_links(course),
    }


@require_http_methods(["GET", "POST"])
@clinician
def inventory(request: HttpRequest, pk: int) -> HttpResponse:
    course = _course(request, pk, "inventory")
    form = PersonForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            actions.add_person(course=course, by=request.user, **form.values())
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return redirect("formulation:inventory", course.pk)
    return render(request, "formulation/inventory.html", _inventory_context(request, course) | {"form": form},
                  status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@clinician
def person(request: HttpRequest, pk: int, person_pk: int) -> HttpResponse:
    course = _course(request, pk, "inventory")
    item = get_object_or_404(InventoryPerson, pk=person_pk, course=course, removed_at__isnull=True)
    return _edit_row(
        request, course, item, form_class=PersonForm, title=f"Edit {item.label}",
        update=lambda **kw: actions.update_person(person=item, **kw),
        back="formulation:inventory", remove_url="formulation:person_remove",
    )


def _edit_row(
    request: HttpRequest, course: Course, item: Any, *, form_class: Any, update: Any, title: str,
    back: str, remove_url: str,
) -> HttpResponse:
    """Edit one versioned row (an inventory person, a timeline event): a save based on an
    out-of-date copy re-renders (409) with the current values beside the editor's own."""
    fields = type(item).FIELDS
    current = {f: getattr(item, f) for f in fields}
    form = form_class(request.POST or None, initial=current | {"version": item.version})
    status, stale, yours = 200, None, []
    if form.is_bound:
        status = 400
        if form.is_valid():
            try:
                update(by=request.user, expected_version=form.cleaned_data["version"] or 0,
                       seen=_seen_posted(request, fields), **form.values())
            except actions.StaleEdit as exc:
                status, stale, yours = STALE, exc.messages[0], _yours(form)
                current = {f: exc.current[f] for f in fields}
                form = form_class(initial=current | {"version": exc.current["version"]})
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                return redirect(back, course.pk)
    return render(request, "formulation/edit.html", {
        "course": course, "patient": course.patient, "form": form, "stale": stale, "yours": yours,
        "seen": _seen(fields, current), "title": title, "back": back, "remove_url": remove_url, "item": item,
        "may_write": _may_write(request, course), "focus_links": focus_links(course),
    }, status=status)


@require_POST
@clinician
def person_remove(request: HttpRequest, pk: int, person_pk: int) -> HttpResponse:
    course = _course(request, pk, "inventory")
    item = get_object_or_404(InventoryPerson, pk=person_pk, course=course, removed_at__isnull=True)
    try:
        actions.remove_person(person=item, by=request.user, expected_version=posted_version(request.POST.get("version")))
    except ValidationError as exc:
        return render(request, "formulation/inventory.html", _inventory_context(request, course) | {
            "form": PersonForm(), "errors": exc.messages}, status=STALE if isinstance(exc, actions.StaleEdit) else 400)
    return redirect("formulation:inventory", course.pk)


# -- IPT: timeline -----------------------------------------------------------------------------

def timeline_spec(events: list[TimelineEvent]) -> dict[str, Any]:
    """A Vega-Lite spec of mood over time; the table beside it holds the same values."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "description": "Mood around life events over time (−5 very low to +5 very good).",
        "width": "container", "height": 240,
        "data": {"values": [{"date": e.occurred_on.isoformat(), "mood": e.mood, "event": e.event} for e in events]},
        "layer": [
            {"mark": {"type": "rule", "strokeDash": [4, 4], "color": "#888"}, "encoding": {"y": {"datum": 0}}},
            {"mark": {"type": "line", "point": {"size": 70, "filled": True}},
             "encoding": {
                 "x": {"field": "date", "type": "temporal", "title": "Date"},
                 "y": {"field": "mood", "type": "quantitative", "title": "Mood",
                       "scale": {"domain": [-5, 5]}, "axis": {"values": [-5, -3, -1, 0, 1, 3, 5]}},
                 "tooltip": [{"field": "date", "type": "temporal", "title": "Date"},
                             {"field": "event", "type": "nominal", "title": "Event"},
                             {"field": "mood", "type": "quantitative", "title": "Mood"}],
             }},
        ],
    }


def _timeline_context(request: HttpRequest, course: Course) -> dict[str, Any]:
    events = list(access.timeline(course))
    return {"course": course, "patient": course.patient, "events": events,
            "spec": _spec_json(timeline_spec(events)) if events else "", "scale": MOOD_SCALE_HELP,
            "may_write": _may_write(request, course), "focus_links": focus_links(course)}


@require_http_methods(["GET", "POST"])
@clinician
def timeline(request: HttpRequest, pk: int) -> HttpResponse:
    course = _course(request, pk, "timeline")
    form = EventForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            actions.add_event(course=course, by=request.user, **form.values())
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return redirect("formulation:timeline", course.pk)
    return render(request, "formulation/timeline.html", _timeline_context(request, course) | {"form": form},
                  status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@clinician
def event(request: HttpRequest, pk: int, event_pk: int) -> HttpResponse:
    course = _course(request, pk, "timeline")
    item = get_object_or_404(TimelineEvent, pk=event_pk, course=course, removed_at__isnull=True)
    return _edit_row(
        request, course, item, form_class=EventForm, title="Edit a timeline event",
        update=lambda **kw: actions.update_event(timeline_event=item, **kw),
        back="formulation:timeline", remove_url="formulation:event_remove",
    )


@require_POST
@clinician
def event_remove(request: HttpRequest, pk: int, event_pk: int) -> HttpResponse:
    course = _course(request, pk, "timeline")
    item = get_object_or_404(TimelineEvent, pk=event_pk, course=course, removed_at__isnull=True)
    try:
        actions.remove_event(timeline_event=item, by=request.user, expected_version=posted_version(request.POST.get("version")))
    except ValidationError as exc:
        return render(request, "formulation/timeline.html", _timeline_context(request, course) | {
            "form": EventForm(), "errors": exc.messages}, status=STALE if isinstance(exc, actions.StaleEdit) else 400)
    return redirect("formulation:timeline", course.pk)


# -- IPT: formulation, focal areas, contract ------------------------------------------------------

@require_http_methods(["GET", "POST"])
@clinician
def ipt(request: HttpRequest, pk: int) -> HttpResponse:
    course = _course(request, pk, "ipt_formulation")
    saved = access.ipt_formulation(course)
    values = actions.formulation_values(saved)
    version = saved.version if saved else 0
    form = IptFormulationForm(request.POST or None, initial=IptFormulationForm.initial_from(values, version))
    status, stale, yours = 200, None, []
    if form.is_bound:
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                actions.save_formulation(
                    course=course, by=request.user, expected_version=d["version"] or 0, text=d["formulation"],
                    focal_areas=form.focal_areas(), contract_sessions=d["contract_sessions"],
                    contract_start=d["contract_start"], contract_end=d["contract_end"],
                    seen=_seen_posted(request, actions.FORMULATION_FIELDS),
                )
            except actions.StaleEdit as exc:
                status, stale, yours = STALE, exc.messages[0], _yours(form)
                values = {k: v for k, v in exc.current.items() if k != "version"}
                version = exc.current["version"]
                form = IptFormulationForm(initial=IptFormulationForm.initial_from(values, version))
            except ValidationError as exc:
                add_action_errors(form, exc, rename={"focal_areas": "area_1", "formulation": "formulation"})
            else:
                return redirect("formulation:ipt", course.pk)
    seen = _seen(actions.FORMULATION_FIELDS, values | {"focal_areas": actions.focal_summary(values["focal_areas"])})
    definition = course.definition
    sessions_range = f"{definition.min_sessions}–{definition.max_sessions}" if definition.max_sessions else \
        f"at least {definition.min_sessions}"
    return render(request, "formulation/ipt.html", {
        "course": course, "patient": course.patient, "form": form, "saved": saved, "stale": stale, "yours": yours,
        "seen": seen, "may_write": _may_write(request, course), "sessions_range": sessions_range,
        "focus_links": focus_links(course),
    }, status=status)
