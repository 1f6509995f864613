"""The referral inbox for staff: parse → access (audited) → action → respond.

``/referrals/`` lists referrals awaiting triage, oldest first; ``/referrals/new/`` records a
referral from a GP or another professional; ``/referrals/<pk>/`` shows one referral, with the
panels other parts of the pathway add (referrals.panels: screening and triage).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interpersonal.web.accounts.decorators import require_any_permission, require_permission
from interpersonal.web.accounts.roles import Permission
from interpersonal.web.formerrors import add_action_errors
from interpersonal.web.patients.access import patients_visible_to
from interpersonal.web.referrals import access, actions, panels
from interpersonal.web.referrals.forms import DuplicateDecisionForm, InboxFilterForm, NewReferralForm

triage = require_permission(Permission.TRIAGE_REFERRALS)
clinician = require_any_permission(Permission.TRIAGE_REFERRALS, Permission.HOLD_CASELOAD, Permission.SUPERVISE)
"""The referral page: whoever triages, and the clinicians of the referral's patient (its allocated
clinician and their supervisor); access.get_referral_for_user decides which referral each sees."""


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    if not access.may_see_queue(request.user):
        raise PermissionDenied("Your role does not give access to the referral inbox.")
    filters = InboxFilterForm(request.GET)
    chosen = filters.filters()
    shown = access.inbox(request.user, **chosen, page=request.GET.get("page", "1").replace("\x00", "")[:10])
    return render(request, "referrals/inbox.html", {"inbox": shown, "filters": filters, "chosen": chosen,
                                                    "may_triage": access.may_triage(request.user)})


@require_http_methods(["GET", "POST"])
@triage
def new(request: HttpRequest) -> HttpResponse:
    form = NewReferralForm(request.POST or None)
    candidates = []
    if form.is_bound and form.is_valid():
        try:
            referral = actions.record_referral(by=request.user, match=form.cleaned_data["match"],
                                               existing_patient=form.cleaned_data["existing_patient"],
                                               **form.referral_data())
        except actions.NeedsMatchDecision as exc:
            candidates = exc.candidates
            access.candidates_shown(request.user, candidates)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Referral recorded: it is in the inbox, awaiting triage.")
            return redirect("referrals:detail", referral.pk)
    return render(request, "referrals/new.html", {"form": form, "candidates": candidates},
                  status=400 if form.is_bound else 200)


@require_GET
@clinician
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    referral = access.get_referral_for_user(request.user, pk)
    may_act = access.referrals_visible_to(request.user, write=True).filter(pk=referral.pk).exists()
    submission = getattr(referral, "self_referral", None)
    return render(request, "referrals/detail.html", {
        "referral": referral, "patient": referral.patient, "submission": submission, "may_act": may_act,
        "duplicate_of": access.duplicate_of(referral, user=request.user),
        "decision_form": DuplicateDecisionForm(initial={"version": submission.version}) if submission else None,
        "may_open_patient": patients_visible_to(request.user).filter(pk=referral.patient_id).exists(),
        "history": access.history(referral),
        "days_waiting": (timezone.localdate() - referral.received_on).days,
        "panels": panels.render_all(request, referral),
    })


@require_POST
@clinician
def decide_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    referral = access.get_referral_for_user(request.user, pk, write=True)
    form = DuplicateDecisionForm(request.POST)
    if form.is_valid():
        try:
            actions.decide_duplicate(referral=referral, same_person=form.cleaned_data["same_person"] == "yes",
                                     by=request.user, expected_version=form.cleaned_data["version"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Decision recorded.")
            return redirect("referrals:detail", referral.pk)
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("referrals:detail", referral.pk)
