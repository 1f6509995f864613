"""Screening, suitability and triage pages of a referral, and the service's suitability rules.

Each view: parse → access (referrals.screening_access, audited) → action (referrals.screening,
assessments.actions, questionnaires.actions) → respond. Invalid input re-renders the form with
the action's message and status 400; nothing is saved.

The referral's screening page (``screening:referral``) stands alone until the referral detail
page (the referral inbox) includes its panels: ``referrals/screening/_panel.html`` and
``referrals/screening/_triage_panel.html``, with the context :func:`screening_context` builds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interpersonal.core import measures, pathways
from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import ROLES, Permission, has_permission
from interpersonal.web.assessments import actions as measure_actions
from interpersonal.web.assessments.alerts import ALERT_RELATED, describe_alert
from interpersonal.web.assessments.forms import ScoreForm, item_rows
from interpersonal.web.assessments.models import Measurement, RiskAlert
from interpersonal.web.assessments.with_contact import record_with_measures
from interpersonal.web.courses.models import TherapySession
from interpersonal.web.formerrors import add_action_errors, posted_version
from interpersonal.web.questionnaires import actions as link_actions
from interpersonal.web.questionnaires.models import QuestionnaireLink
from interpersonal.web.referrals import screening
from interpersonal.web.referrals.forms_screening import (
    AcknowledgeForm,
    ContactForm,
    DecisionForm,
    RuleForm,
    SendScreeningForm,
    TriageForm,
)
from interpersonal.web.referrals.models import Referral
from interpersonal.web.referrals.models_screening import SUGGESTED_DECISION, Decision, SuitabilityRule
from interpersonal.web.referrals.screening_access import (
    PRE_TREATMENT,
    get_referral_for_screening,
    may_acknowledge_screening_alerts,
    may_screen,
    may_use_screening,
)

CONTACT_FIELDS = {"scheduled_at": "date"}


def screener(view: Any) -> Any:
    """Roles that may open screening pages at all: a caseload, or triage. Others get 403 before
    any referral is looked up."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not may_use_screening(request.user):
            raise PermissionDenied("Your role does not give access to this page.")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


# --- what the pages show -----------------------------------------------------------------------

def _answers(m: Measurement) -> list[dict[str, Any]]:
    """The answers of one measurement as the clinician reads them: item, text (where the licence
    allows), the value and its label; an unanswered item says so."""
    try:
        instrument = measures.get(m.instrument)
    except measures.UnknownInstrument:
        return [{"number": k, "text": None, "value": v, "label": None} for k, v in sorted(m.answers.items())]
    rows = []
    for row in item_rows(instrument):
        value = m.answers.get(row.item.id)
        label = next((o.label for o in row.options if o.value == value), None)
        rows.append({"number": row.number, "text": row.text, "value": value, "label": label})
    return rows


def _measure_rows(referral: Referral) -> list[dict[str, Any]]:
    found = (Measurement.objects.filter(referral=referral, course__isnull=True)
             .select_related("session", "questionnaire_link").order_by("-recorded_at", "-id"))
    rows = []
    for m in found:
        try:
            instrument = measures.get(m.instrument)
            name, labels = instrument.abbreviation, {r.item: r.label for r in instrument.risk}
        except measures.UnknownInstrument:
            name, labels = m.instrument, {}
        risk = [f"Item {i}: {labels.get(i, 'risk item')}" for i in m.risk]
        risk += [f"Item {i} ({labels.get(i, 'risk item')}) not answered: ask about it" for i in m.risk_unanswered]
        rows.append({"m": m, "name": name, "risk": risk, "answers": _answers(m),
                     "how": "By link" if m.questionnaire_link_id else ("At a contact" if m.session_id else "Entered")})
    return rows


def _age(referral: Referral) -> tuple[int, int]:
    return pathways.age_on(referral.patient.date_of_birth, timezone.localdate())


def screening_context(request: HttpRequest, referral: Referral, **extra: Any) -> dict[str, Any]:
    """What ``_panel.html`` and ``_triage_panel.html`` show for ``referral`` (read through
    get_referral_for_screening)."""
    user = request.user
    writable = may_screen(user, referral) and referral.status in PRE_TREATMENT
    alerts = list(RiskAlert.objects.filter(referral=referral)
                  .select_related(*ALERT_RELATED, "acknowledged_by", "left_open_by", "course")
                  .order_by("acknowledged_at", "-raised_at"))
    phq9, severity = screening.ng222(referral)
    triages = list(referral.triages.select_related("by", "therapist").order_by("-at", "-id"))
    return {
        "referral": referral, "patient": referral.patient, "age": _age(referral), "writable": writable,
        "alert_rows": [describe_alert(a) for a in alerts], "open_alerts": sum(1 for a in alerts if a.open),
        "may_ack": may_acknowledge_screening_alerts(user, referral), "ack_form": AcknowledgeForm(),
        "ack_errors": extra.pop("ack_errors", {}), "ack_note": extra.pop("ack_note", ""),
        "measure_rows": _measure_rows(referral),
        "contacts": list(TherapySession.objects.filter(referral=referral, course__isnull=True)
                         .select_related("recorded_by").order_by("-scheduled_at", "-id")),
        "links": [{"link": link, "state": QuestionnaireLink.State(link.state).label,
                   "instruments": ", ".join(_abbreviation(i) for i in link.instruments)}
                  for link in QuestionnaireLink.objects.filter(referral=referral, course__isnull=True)],
        "decisions": list(referral.screening_decisions.select_related("decided_by").order_by("-decided_at", "-id")),
        "triages": [{"t": t, "preferred": screening.preference_label(t.preferred_therapy),
                     "therapy": screening.preference_label(t.therapy)} for t in triages],
        "phq9": phq9, "severity": severity, "ng222_source": pathways.NG222_SOURCE,
        "triaged": screening.triaged_protocol(referral),
        **extra,
    }


def _abbreviation(instrument_id: str) -> str:
    try:
        return measures.get(instrument_id).abbreviation
    except measures.UnknownInstrument:
        return instrument_id


# --- the referral's screening page -----------------------------------------------------------------

@require_GET
@screener
def referral_page(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral_for_screening(request.user, pk)
    return render(request, "referrals/screening/referral.html", screening_context(request, referral))


@require_POST
@screener
def acknowledge(request: HttpRequest, pk: int, alert_pk: int) -> HttpResponse:
    """Acknowledge a risk alert raised at screening (no course), saying what was done."""
    referral = get_referral_for_screening(request.user, pk)
    alert = get_object_or_404(RiskAlert.objects.select_related("referral__therapist"), pk=alert_pk, referral=referral,
                              course__isnull=True)
    form = AcknowledgeForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.get("note") or ["Say what was done."])
        measure_actions.acknowledge_alert(alert=alert, by=request.user, note=form.cleaned_data["note"])
    except ValidationError as exc:
        return render(request, "referrals/screening/referral.html", screening_context(
            request, referral, ack_errors={alert.pk: exc.messages}, ack_note=request.POST.get("note", "")[:2000],
        ), status=400)
    return redirect(reverse("screening:referral", args=[referral.pk]) + "#alerts")


# --- assessment contact with measures --------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@screener
def contact(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral_for_screening(request.user, pk, write=True)
    data = request.POST if request.method == "POST" else None
    now = timezone.localtime()
    form = ContactForm(data, initial={"date": now.date(), "time": now.replace(second=0, microsecond=0).time(),
                                      "duration_minutes": 30})
    instruments = [measures.get(i) for i in screening.SCREENING_MEASURES]
    score_forms = [ScoreForm(i, data, prefix=i.id) for i in instruments]
    if data is not None:
        def record() -> TherapySession:
            return screening.record_assessment_contact(
                referral=referral, by=request.user, scheduled_at=form.scheduled_at(),
                attendance=form.cleaned_data["attendance"], duration_minutes=form.cleaned_data["duration_minutes"],
                medium=form.cleaned_data["medium"], notes=form.cleaned_data["notes"],
            )

        if record_with_measures(form, score_forms, what="contact", by=request.user, owner={"referral": referral},
                                record=record, rename=CONTACT_FIELDS) is not None:
            return redirect(reverse("screening:referral", args=[referral.pk]) + "#measures")
    return render(request, "referrals/screening/contact.html", {
        "referral": referral, "patient": referral.patient, "form": form, "score_forms": score_forms,
        "forms_with_errors": [f for f in [form, *score_forms] if f.errors],
        "open": referral.status in PRE_TREATMENT,
    }, status=400 if data is not None else 200)


# --- screening questionnaires by link ------------------------------------------------------------

def _sendable() -> list[measures.Instrument]:
    return [i for i in measures.catalogue() if link_actions.answerable_by_patient(i.id)]


@require_http_methods(["GET", "POST"])
@screener
def send(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral_for_screening(request.user, pk, write=True)
    sendable = _sendable()
    first = [i for i in screening.SCREENING_MEASURES if i in {s.id for s in sendable}]
    order = first + [i.id for i in sendable if i.id not in first]
    form = SendScreeningForm(request.POST or None, initial={"instruments": first,
                                                            "valid_days": settings.INTERPERSONAL_LINK_VALID_DAYS})
    form.fields["instruments"].choices = [(i.id, f"{i.abbreviation}: {i.name}")
                                          for i in sorted(sendable, key=lambda i: order.index(i.id))]
    if form.is_bound and form.is_valid():
        chosen = sorted(form.cleaned_data["instruments"], key=order.index)
        try:
            link, token = link_actions.issue_link(referral=referral, instruments=chosen, by=request.user,
                                                  valid_for=dt.timedelta(days=form.cleaned_data["valid_days"]))
        except ValidationError as exc:
            add_action_errors(form, exc, rename={"valid_for": "valid_days"})
        else:
            url = request.build_absolute_uri(reverse("questionnaires:start", args=[token]))
            response = render(request, "referrals/screening/sent.html", {
                "referral": referral, "patient": referral.patient, "link": link, "url": url,
                "instruments": [measures.get(i) for i in link.instruments],
            })
            add_never_cache_headers(response)  # the link is shown once: not from the cache either
            return response
    return render(request, "referrals/screening/send.html", {
        "referral": referral, "patient": referral.patient, "form": form, "open": referral.status in PRE_TREATMENT,
    }, status=400 if form.errors else 200)


@require_POST
@screener
def withdraw(request: HttpRequest, pk: int, link_pk: int) -> HttpResponse:
    referral = get_referral_for_screening(request.user, pk, write=True)
    link = get_object_or_404(QuestionnaireLink.objects.select_related("referral"), pk=link_pk, referral=referral,
                             course__isnull=True)
    try:
        link_actions.withdraw_link(link=link, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Link {link.pk} withdrawn: it can no longer be used.")
    return redirect(reverse("screening:referral", args=[referral.pk]) + "#links")


# --- the suitability decision ---------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@screener
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral_for_screening(request.user, pk, write=request.method == "POST")
    checking = request.method == "POST" and "check" in request.POST
    form = DecisionForm(request.POST if request.method == "POST" else None, checking=checking,
                        initial={"problem_descriptor": referral.problem_descriptor, "version": referral.version})
    answers: dict[str, Any] = {}
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            answers = {k: form.cleaned_data[k] for k in ("clinician_risk", "under_secondary_care")}
            try:
                descriptor = screening.clean_descriptor(form.cleaned_data["problem_descriptor"])
                if checking:
                    status = 200
                else:
                    screening.decide_suitability(
                        referral=referral, decision=form.cleaned_data["decision"], reason=form.cleaned_data["reason"],
                        by=request.user, problem_descriptor=descriptor, expected_version=form.cleaned_data["version"],
                        **answers,
                    )
                    return redirect(reverse("screening:referral", args=[referral.pk]) + "#decisions")
            except ValidationError as exc:
                add_action_errors(form, exc)
                descriptor = None
            answers["problem_descriptor"] = descriptor
    if answers.get("problem_descriptor") is None:
        answers.pop("problem_descriptor", None)
    result = screening.evaluate_referral(referral, **answers)
    suggestion = result.evaluation.suggestion
    return render(request, "referrals/screening/decide.html", {
        **screening_context(request, referral), "form": form, "forms_with_errors": [form] if form.errors else [],
        "evaluation": result.evaluation, "suggestion": suggestion,
        "suggested_decision": Decision(SUGGESTED_DECISION[suggestion]).label if suggestion in SUGGESTED_DECISION else "",
        "answered": bool(answers), "open": referral.status in PRE_TREATMENT,
    }, status=status)


# --- triage -----------------------------------------------------------------------------------------

def _clinicians() -> list[tuple[int, str]]:
    roles = [r for r, d in ROLES.items() if Permission.HOLD_CASELOAD in d.permissions]
    users = get_user_model().objects.filter(is_active=True, role__in=roles).order_by("last_name", "first_name", "pk")
    return [(u.pk, u.display_name) for u in users]


@require_http_methods(["GET", "POST"])
@screener
def triage(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral_for_screening(request.user, pk, write=request.method == "POST")
    clinicians = _clinicians()
    current = referral.triages.order_by("-at", "-id").first()
    initial: dict[str, Any] = {"version": referral.version}
    if current is not None:
        initial |= {"step": str(current.step), "therapy": current.therapy, "preferred_therapy": current.preferred_therapy}
    form = TriageForm(request.POST or None, clinicians=clinicians, initial=initial)
    if form.is_bound and form.is_valid():
        therapist = None
        if form.cleaned_data["therapist"] is not None:
            therapist = get_user_model().objects.filter(pk=form.cleaned_data["therapist"]).first()
        try:
            screening.triage_referral(
                referral=referral, step=form.cleaned_data["step"], therapy=form.cleaned_data["therapy"],
                reason=form.cleaned_data["reason"], preferred_therapy=form.cleaned_data["preferred_therapy"],
                preference=form.cleaned_data["preference"], therapist=therapist, by=request.user,
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return redirect(reverse("screening:referral", args=[referral.pk]) + "#triage")
    return render(request, "referrals/screening/triage.html", {
        **screening_context(request, referral), "form": form, "forms_with_errors": [form] if form.errors else [],
        "decision": screening.latest_decision(referral), "open": referral.status in PRE_TREATMENT,
        "steps": [(step, screening.therapy_choices(step)) for step in (2, 3)],
    }, status=400 if form.is_bound else 200)


# --- the service's suitability rules ---------------------------------------------------------------

def rule_reader(view: Any) -> Any:
    """The rules are no patient data: every clinician reads them, the service lead and
    administrators edit them."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (may_use_screening(request.user) or has_permission(request.user, Permission.CONFIGURE_SERVICE_RULES)):
            raise PermissionDenied("Your role does not give access to this page.")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


@require_GET
@rule_reader
def rules(request: HttpRequest) -> HttpResponse:
    rows = list(SuitabilityRule.objects.order_by("position", "id"))
    return render(request, "referrals/screening/rules.html", {
        "rules": [{"rule": r, "kind": pathways.RuleKind(r.kind).label, "outcome": pathways.Outcome(r.outcome).label,
                   "params": _describe_params(r)} for r in rows],
        "may_edit": has_permission(request.user, Permission.CONFIGURE_SERVICE_RULES),
        "precedence": [o.label for o in pathways.PRECEDENCE],
    })


def _describe_params(rule: SuitabilityRule) -> str:
    p = rule.params or {}
    if rule.kind == pathways.RuleKind.MIN_AGE:
        return f"Younger than {p.get('years')} years" + (f" {p.get('months')} months" if p.get("months") else "")
    if rule.kind == pathways.RuleKind.RISK:
        parts = []
        if p.get("phq9_item9_at_least") is not None:
            parts.append(f"PHQ-9 item 9 at or above {p['phq9_item9_at_least']}")
        if p.get("clinician_judgement"):
            parts.append("the clinician judges the risk significant or imminent")
        return " or ".join(parts)
    if rule.kind == pathways.RuleKind.PROBLEM_DESCRIPTOR:
        return "Problem descriptor in " + ", ".join(p.get("codes", []))
    return "Under secondary mental health care"


configure = require_permission(Permission.CONFIGURE_SERVICE_RULES)
RULE_ERRORS = {"params": "kind"}


@require_http_methods(["GET", "POST"])
@configure
def rule_new(request: HttpRequest) -> HttpResponse:
    last = SuitabilityRule.objects.order_by("-position").values_list("position", flat=True).first() or 0
    form = RuleForm(request.POST or None, initial={"active": True, "position": min(last + 10, 32_767)})
    if form.is_bound and form.is_valid():
        try:
            screening.save_rule(by=request.user, **form.rule_fields())
        except ValidationError as exc:
            add_action_errors(form, exc, rename=RULE_ERRORS)
        else:
            messages.success(request, "Rule added.")
            return redirect("screening:rules")
    return render(request, "referrals/screening/rule_form.html", {"form": form, "rule": None},
                  status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@configure
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = SuitabilityRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404("No such rule")
    form = RuleForm(request.POST or None, initial=RuleForm.initial_for(rule))
    if form.is_bound and form.is_valid():
        try:
            version = posted_version(request.POST.get("version"))
            screening.save_rule(by=request.user, rule=rule, expected_version=version, **form.rule_fields())
        except ValidationError as exc:
            add_action_errors(form, exc, rename=RULE_ERRORS)
        else:
            messages.success(request, f"Rule “{form.cleaned_data['name']}” saved.")
            return redirect("screening:rules")
    return render(request, "referrals/screening/rule_form.html", {"form": form, "rule": rule},
                  status=400 if form.is_bound else 200)

