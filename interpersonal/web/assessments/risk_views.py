"""Risk: an alert's detail page, and a course's risk assessment and safety plan.

Each view: parse → access (audited) → action → respond. Access is the course's (its therapist
writes, their supervisor reads, anyone else gets a 404); an alert raised at screening (no
course) is read as its referral's screening is (referrals.screening_access).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission
from interpersonal.web.assessments import actions
from interpersonal.web.assessments.alerts import ALERT_RELATED, describe_alert
from interpersonal.web.assessments.forms import RiskAssessmentForm
from interpersonal.web.assessments.models import RiskAlert, RiskAssessment
from interpersonal.web.assessments.risk_summary import risk_summary, version
from interpersonal.web.audit import log
from interpersonal.web.courses.access import get_course_for_user, may_acknowledge_alerts
from interpersonal.web.courses.models import Course
from interpersonal.web.formerrors import add_action_errors

clinician = require_permission(Permission.HOLD_CASELOAD)


def _alert_for(user: Any, pk: int) -> tuple[RiskAlert, Course | None]:
    """The alert, read by ``user`` through its course's or its screening's access (audited
    there): so they may open the page it came from too. 404 for anyone else."""
    alert = RiskAlert.objects.select_related(*ALERT_RELATED, "course", "acknowledged_by", "left_open_by",
                                             "referral__patient").filter(pk=pk).first()
    if alert is None:
        raise Http404("No such alert")
    if alert.course_id is not None:
        return alert, get_course_for_user(user, alert.course_id)
    from interpersonal.web.referrals.screening_access import get_referral_for_screening

    get_referral_for_screening(user, alert.referral_id)
    return alert, None


@require_GET
@clinician
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything about one alert: the answers, where and when, how long open, who acknowledged
    it and what they did, and any risk assessment recorded from it."""
    alert, course = _alert_for(request.user, pk)
    log.record("risk_alert.viewed", actor=request.user, target=alert, patient_id=alert.referral.patient_id,
               **({"course_id": course.pk} if course is not None else {"referral_id": alert.referral_id}))
    summary = risk_summary(course, request.user) if course is not None else None
    return render(request, "assessments/alert.html", {
        "row": describe_alert(alert), "alert": alert, "course": course, "patient": alert.referral.patient,
        "may_ack": course is not None and alert.open and may_acknowledge_alerts(request.user, course),
        "assessments": [version(r) for r in alert.risk_assessments.select_related("recorded_by").order_by("number")],
        "risk": summary,
    })


@require_GET
@clinician
def risk_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The course's current risk assessment and safety plan, and every earlier version."""
    course = get_course_for_user(request.user, pk)
    return render(request, "assessments/risk.html", {
        "course": course, "patient": course.patient, "risk": risk_summary(course, request.user, history=True)})


@require_GET
@clinician
def safety_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """The current safety plan alone, to print or read with the patient."""
    course = get_course_for_user(request.user, pk)
    summary = risk_summary(course, request.user)
    return render(request, "assessments/safety_plan.html", {
        "course": course, "patient": course.patient, "risk": summary,
        "crisis_message": settings.INTERPERSONAL_CRISIS_MESSAGE})


def _alert_of(course: Course, value: Any) -> RiskAlert | None:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return RiskAlert.objects.filter(pk=pk, course=course).first() if pk > 0 else None


def _initial(current: RiskAssessment | None, alert: RiskAlert | None) -> dict[str, Any]:
    """A review starts from the current version's answers (where the field still exists)."""
    initial: dict[str, Any] = {"reviews": current.pk if current else 0, "alert": alert.pk if alert else 0,
                               "review_due": timezone.localdate() + dt.timedelta(days=28)}
    if current is not None:
        initial |= {f"a_{k}": v for k, v in current.assessment.items()}
        initial |= {f"p_{k}": v for k, v in current.safety_plan.items()}
    return initial


@require_http_methods(["GET", "POST"])
@clinician
def record(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the course's risk assessment and safety plan, or review the current one (a new
    version; the earlier one stays as history). ``?alert=<id>`` links it to an open alert."""
    course = get_course_for_user(request.user, pk, write=True)
    summary = risk_summary(course, request.user)
    current = summary.current.record if summary.current else None
    if request.method != "POST":
        alert = _alert_of(course, request.GET.get("alert"))
        form = RiskAssessmentForm(initial=_initial(current, alert))
        return _render_form(request, course, form, summary, alert, 200)
    form = RiskAssessmentForm(request.POST)
    alert = None
    if form.is_valid():
        alert = _alert_of(course, form.cleaned_data.get("alert"))
        if form.cleaned_data.get("alert") and alert is None:
            form.add_error(None, "That alert is not this course's: reload the page.")
        else:
            try:
                actions.record_risk_assessment(
                    course=course, by=request.user, assessment=form.answers("a_"), safety_plan=form.answers("p_"),
                    review_due=form.cleaned_data["review_due"], reviews=form.cleaned_data.get("reviews") or None,
                    alert=alert, forms=form.config)
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                return redirect(reverse("assessments:risk", args=[course.pk]))
    return _render_form(request, course, form, summary, alert, 400)


def _render_form(request: HttpRequest, course: Course, form: RiskAssessmentForm, summary: Any,
                 alert: RiskAlert | None, status: int) -> HttpResponse:
    return render(request, "assessments/risk_form.html", {
        "course": course, "patient": course.patient, "form": form, "risk": summary,
        "alert_row": describe_alert(alert) if alert is not None else None,
    }, status=status)

