"""The waiting list and the service lead's operational view (docs/waiting.md, docs/costs.md).

The lead's pages (``VIEW_SERVICE_AGGREGATES``) show referrals by number only; a clinician's own
waiting list (``HOLD_CASELOAD``) shows their patients, and its read is audited with the patient ids
shown. Each view: parse → access → action → respond; invalid input re-renders with status 400 and
changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.audit import log
from interpersonal.web.formerrors import add_action_errors, posted_version
from interpersonal.web.letters.pdf import letterhead
from interpersonal.web.service import actions, operations, waiting
from interpersonal.web.service.access import (
    BEFORE_TREATMENT,
    get_referral_for_user,
    own_referrals,
    service_referrals,
)
from interpersonal.web.service.forms import (
    DischargeForm,
    GradeCostForm,
    GradeForm,
    InviteForm,
    OptedInForm,
    StaffProfileForm,
)
from interpersonal.web.service.models import OptInInvitation, StaffProfile

lead = require_permission(Permission.VIEW_SERVICE_AGGREGATES)
clinician = require_permission(Permission.HOLD_CASELOAD)
QUEUE_PAGE = 100
OVERDUE_SHOWN = 500
FORECAST_WEEKS = 12
CHANNEL_SHORT = {OptInInvitation.Channel.LETTER: "letter", OptInInvitation.Channel.EMAIL: "e-mail",
                 OptInInvitation.Channel.SMS: "text message"}


def _common(**extra: Any) -> dict[str, Any]:
    return {"standards": waiting.standards(), "opt_in_days": actions.opt_in_days(),
            "end_reason_label": actions.NOT_OPTED_IN.label, **extra}


# --- the lead: waiting list, queues, opt-in, operations -------------------------------------------


@require_GET
@lead
def waiting_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    queue_list = waiting.queues(today=today)
    return render(request, "service/waiting.html", _common(
        today=today, queues=queue_list, performance=waiting.performance(today=today),
        breaches=waiting.breach_forecast_by_week(queue_list, today=today, weeks=FORECAST_WEEKS),
        forecast_window=waiting.waits.FORECAST_WINDOW_WEEKS, triage=waiting.TRIAGE, second=waiting.SECOND,
        columns=5 + len(waiting.standards()),
    ))


@require_GET
@lead
def queue(request: HttpRequest, slug: str) -> HttpResponse:
    today = timezone.localdate()
    found = next((q for q in waiting.queues(today=today) if q.slug == slug), None)
    if found is None:
        if len(slug) > 60 or not slug.replace("-", "").replace("_", "").isalnum():
            raise Http404("No such queue.")
        found = waiting.Queue(slug, waiting.queue_label(slug), None)
    page = Paginator(found.rows, QUEUE_PAGE).get_page(request.GET.get("page"))
    log.record("waiting_queue.viewed", actor=request.user, target=("queue", slug),
               referral_ids=[r.referral_id for r in page])
    return render(request, "service/queue.html", _common(today=today, queue=found, page=page,
                                                          second=waiting.SECOND))


def _overdue_rows(referrals: Any, *, identifiable: bool) -> list[dict[str, Any]]:
    fields = ["pk", "version", "received_on", "status", "step", "therapy", "invitation_id", "invitation_sent_on",
              "invitation_respond_by", "invitation_channel", "open_alert", "therapist__first_name",
              "therapist__last_name", "therapist__username"]
    if identifiable:
        fields += ["patient_id", "patient__given_name", "patient__family_name", "patient__local_id"]
    rows = list(actions.not_opted_in(referrals).order_by("invitation_respond_by", "pk").values(*fields)[:OVERDUE_SHOWN])
    for r in rows:
        r["queue"] = waiting.queue_label(waiting.queue_slug(r["status"], r["step"], r["therapy"]))
        r["therapist"] = " ".join(p for p in (r["therapist__first_name"], r["therapist__last_name"]) if p) \
            or r["therapist__username"] or "Not allocated"
        r["channel"] = CHANNEL_SHORT[r["invitation_channel"]]
    return rows


@require_GET
@lead
def opt_in(request: HttpRequest) -> HttpResponse:
    return _render_opt_in(request, DischargeForm())


def _render_opt_in(request: HttpRequest, form: DischargeForm, *, status: int = 200) -> HttpResponse:
    referrals = service_referrals(request.user)
    rows = _overdue_rows(referrals, identifiable=False)
    pending = (actions.with_opt_in(referrals.filter(status__in=BEFORE_TREATMENT))
               .filter(invitation_id__isnull=False, opted_in_on__isnull=True,
                       invitation_respond_by__gte=timezone.localdate()).count())
    return render(request, "service/opt_in.html", _common(
        rows=rows, form=form, pending=pending, shown_max=OVERDUE_SHOWN, forms_with_errors=[form] if form.errors else [],
    ), status=status)


@require_POST
def discharge(request: HttpRequest) -> HttpResponse:
    """Discharge as not opted in: the lead from the opt-in page, a clinician from their own list."""
    user = request.user
    is_lead = has_permission(user, Permission.VIEW_SERVICE_AGGREGATES)
    if not is_lead and not has_permission(user, Permission.HOLD_CASELOAD):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Your role does not give access to this page.")
    form = DischargeForm(request.POST)
    requested: list[tuple[int, int | None]] = []
    if form.is_valid():
        try:
            requested = actions.requested_pairs(request.POST.getlist("referral"))
        except ValidationError as exc:
            add_action_errors(form, exc)
    if form.errors:
        if is_lead:
            return _render_opt_in(request, form, status=400)
        return _render_mine(request, discharge_form=form, status=400)
    result = actions.discharge_not_opted_in(requested=requested, by=user)
    if result.discharged:
        n = len(result.discharged)
        messages.success(request, f"Discharged {n} referral{'' if n == 1 else 's'} as not opted in: "
                                  f"{', '.join(f'R{pk}' for pk in result.discharged)}.")
    for pk, why in result.refused:
        messages.error(request, f"R{pk} was not discharged: {why}.")
    return redirect("service:opt_in" if is_lead else "service:my_waiting")


@require_GET
@lead
def operations_view(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    since = waiting._months_before(today, 12) + dt.timedelta(days=1)
    loads = operations.clinician_loads()
    return render(request, "service/operations.html", _common(
        loads=loads, weeks=operations.capacity_weeks(), costs=operations.costs(since=since, until=today),
        totals={"active": sum(c.active_courses for c in loads), "awaiting": sum(c.awaiting for c in loads),
                "booked": sum(c.booked for c in loads),
                "slots": sum(c.slots for c in loads if c.slots is not None)},
    ))


@require_http_methods(["GET", "POST"])
@lead
def costs_settings(request: HttpRequest) -> HttpResponse:
    which = request.POST.get("form") if request.method == "POST" else None
    grade_form = GradeForm(request.POST if which == "grade" else None, prefix="grade")
    cost_form = GradeCostForm(request.POST if which == "cost" else None, prefix="cost")
    bound = grade_form if which == "grade" else cost_form if which == "cost" else None
    incomplete = request.method == "POST" and bound is None
    if bound is not None and bound.is_valid():
        try:
            if bound is grade_form:
                actions.add_grade(name=grade_form.cleaned_data["name"], by=request.user)
            else:
                data = cost_form.cleaned_data
                actions.add_grade_cost(grade=data["grade"], cost_per_session=data["cost_per_session"],
                                       effective_from=data["effective_from"], source=data["source"], by=request.user)
        except ValidationError as exc:
            add_action_errors(bound, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("service:costs")
    return render(request, "service/costs.html", _common(
        grade_form=grade_form, cost_form=cost_form, grades=operations.grade_costs(),
        loads=operations.clinician_loads(),
        forms_with_errors=[f for f in (grade_form, cost_form) if f.errors], incomplete=incomplete,
    ), status=400 if bound is not None or incomplete else 200)


@require_http_methods(["GET", "POST"])
@lead
def staff_profile(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_user_model().objects.filter(pk=pk, is_active=True, role__in=operations.clinician_roles()).first()
    if user is None:
        raise Http404("No such clinician.")
    profile = StaffProfile.objects.filter(user=user).first()
    version = profile.version if profile else 0
    form = StaffProfileForm(request.POST or None, initial={
        "grade": profile.grade_id if profile else None,
        "weekly_capacity": profile.weekly_capacity if profile else None, "version": version})
    if form.is_bound and form.is_valid():
        try:
            actions.set_staff_profile(user=user, by=request.user, grade=form.cleaned_data["grade"],
                                      weekly_capacity=form.cleaned_data["weekly_capacity"],
                                      expected_version=posted_version(request.POST.get("version")))
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, f"Saved {user.get_full_name() or user.get_username()}'s grade and capacity.")
            return redirect("service:costs")
    return render(request, "service/staff_profile.html", _common(
        clinician=user, form=form, forms_with_errors=[form] if form.errors else []),
        status=400 if form.is_bound else 200)


# --- a clinician's own waiting list --------------------------------------------------------------


def _render_mine(request: HttpRequest, *, discharge_form: DischargeForm | None = None, status: int = 200) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    mine = own_referrals(user)
    ids = list(mine.values_list("pk", flat=True))
    queue_list = [q for q in waiting.queues(today=today, only=ids, identifiable=True) if q.rows]
    overdue = _overdue_rows(own_referrals(user, write=True), identifiable=True)
    shown = sorted({r.patient["id"] for q in queue_list for r in q.rows if r.patient}
                   | {r["patient_id"] for r in overdue})
    log.record("waiting_list.viewed", actor=user, target=("user", user.pk), patient_ids=shown)
    form = discharge_form or DischargeForm()
    return render(request, "service/my_waiting.html", _common(
        today=today, queues=queue_list, overdue=overdue, form=form, second=waiting.SECOND, triage=waiting.TRIAGE,
        forms_with_errors=[form] if form.errors else [],
    ), status=status)


@require_GET
@clinician
def my_waiting(request: HttpRequest) -> HttpResponse:
    return _render_mine(request)


def _back(referral: Any) -> str:
    return reverse("service:my_waiting") + f"#referral-{referral.pk}"


@require_http_methods(["GET", "POST"])
@clinician
def invite(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral_for_user(request.user, pk, write=request.method == "POST")
    channels = actions.channels_for(referral.patient)
    form = InviteForm(request.POST or None, channels=channels)
    if form.is_bound and form.is_valid():
        try:
            invitation = actions.invite_to_opt_in(referral=referral, channel=form.cleaned_data["channel"],
                                                  sent_on=form.cleaned_data["sent_on"], by=request.user)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            if invitation.channel == OptInInvitation.Channel.LETTER:
                return redirect("service:letter", referral.pk)
            messages.success(request, f"The invitation will be sent by {invitation.get_channel_display().lower()}; "
                                      f"the patient is asked to opt in by {invitation.respond_by:%d %b %Y}.")
            return redirect(_back(referral))
    return render(request, "service/invite.html", _common(
        referral=referral, patient=referral.patient, form=form, latest=actions.latest_invitation(referral),
        awaiting=referral.status in BEFORE_TREATMENT, back=_back(referral), channels=channels,
        forms_with_errors=[form] if form.errors else [],
    ), status=400 if form.is_bound else 200)


@require_GET
@clinician
def letter(request: HttpRequest, pk: int) -> HttpResponse:
    """The latest letter invitation of the referral, as a page to print (A4, print stylesheet)."""
    referral = get_referral_for_user(request.user, pk)
    invitation = (OptInInvitation.objects.filter(referral=referral, channel=OptInInvitation.Channel.LETTER)
                  .order_by("-created_at", "-id").first())
    if invitation is not None:
        log.record("opt_in.letter_viewed", actor=request.user, target=invitation, patient_id=referral.patient_id)
    patient = referral.patient
    return render(request, "service/letter.html", _common(
        referral=referral, patient=patient, invitation=invitation, letterhead=letterhead(), back=_back(referral),
        crisis_message=settings.INTERPERSONAL_CRISIS_MESSAGE,
        address_lines=[line.strip() for line in (patient.address or "").splitlines() if line.strip()],
    ))


@require_http_methods(["GET", "POST"])
@clinician
def opted_in(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral_for_user(request.user, pk, write=request.method == "POST")
    form = OptedInForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            actions.record_opt_in(referral=referral, by=request.user, opted_in_on=form.cleaned_data["opted_in_on"])
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "The patient's opt-in was recorded.")
            return redirect(_back(referral))
    return render(request, "service/opted_in.html", _common(
        referral=referral, patient=referral.patient, form=form, latest=actions.latest_invitation(referral),
        back=_back(referral), forms_with_errors=[form] if form.errors else [],
    ), status=400 if form.is_bound else 200)
