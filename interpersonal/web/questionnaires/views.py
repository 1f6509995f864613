"""Questionnaire links in the browser.

Patient pages (``/q/<token>/…``) need no login: the secret token in the path is the only
credential. They show the service's name and the patient's first name, nothing else; they
are never cached, indexed or sent as a referrer (the token is in the URL); they set no
cookie and use no JavaScript. They are exempt from CSRF checks because the token already
does that job: a cross-site page cannot forge a request to a path it does not know.
An unusable token gets one kind page (404 unknown, 410 closed, 429 too many guesses).

Clinician pages (``/courses/<pk>/questionnaires/…``) send, list and withdraw links; the
course is read through ``get_course_for_user`` like every other case page.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interpersonal.core import measures
from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission
from interpersonal.web.courses.access import get_course_for_user
from interpersonal.web.formerrors import add_action_errors
from interpersonal.web.questionnaires import actions, notify
from interpersonal.web.questionnaires.actions import LinkUnavailable
from interpersonal.web.questionnaires.forms import COPY, AllQuestionsForm, QuestionForm, ResendForm, SendForm
from interpersonal.web.questionnaires.models import QuestionnaireLink
from interpersonal.web.questionnaires.tokens import hash_token, plausible

STATUS = {"unknown": 404, "expired": 410, "withdrawn": 410, "closed": 410, "submitted": 410, "rate_limited": 429}

# --- patient pages: helpers ------------------------------------------------------------------


def patient_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """No login, no CSRF cookie (see the module docstring), no caching, no referrer, no indexing;
    an unusable link becomes the kind page."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, token, *args, **kwargs)
        except LinkUnavailable as exc:
            response = _unavailable(request, exc.reason)
        add_never_cache_headers(response)
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return login_not_required(csrf_exempt(wrapped))


def _client(request: HttpRequest) -> str:
    """The client's address for rate limiting. Behind N trusted reverse proxies
    (INTERPERSONAL_TRUSTED_PROXIES = N), the address the Nth proxy saw, read from the right
    of X-Forwarded-For (entries further left are the client's own claim and not trusted)."""
    hops = settings.INTERPERSONAL_TRUSTED_PROXIES
    if hops > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


# Every patient page counts an unknown token as a guess and refuses a client that guesses too often.
_lookup = actions.guarded(actions.find_link)


@actions.guarded
def _any_link(token: str, *, client: str) -> QuestionnaireLink:
    """The link whatever its state (the thank-you page outlives the link)."""
    link = QuestionnaireLink.objects.filter(token_hash=hash_token(token)).first() if plausible(token) else None
    if link is None:
        raise LinkUnavailable("unknown")
    return link


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context = {"service_name": settings.INTERPERSONAL_SERVICE_NAME,
               "crisis_message": settings.INTERPERSONAL_CRISIS_MESSAGE, **context}
    return render(request, f"questionnaires/patient/{template}", context, status=status)


def _unavailable(request: HttpRequest, reason: str) -> HttpResponse:
    response = _render(request, "unavailable.html", {"reason": reason}, status=STATUS.get(reason, 404))
    if reason == "rate_limited":
        response["Retry-After"] = str(settings.INTERPERSONAL_LINK_ATTEMPT_WINDOW_MINUTES * 60)
    return response


@dataclass(frozen=True, slots=True)
class Step:
    """One question of the link, in answering order."""

    instrument: measures.Instrument
    item: measures.Item
    number: int
    """The question's number within its questionnaire (1-based)."""


def _instruments(link: QuestionnaireLink) -> list[measures.Instrument]:
    return [measures.get(i) for i in link.instruments]


def _steps(link: QuestionnaireLink) -> list[Step]:
    return [Step(inst, item, n) for inst in _instruments(link) for n, item in enumerate(inst.items, 1)]


def _saved(link: QuestionnaireLink, step: Step) -> int | None:
    return link.draft.get(step.instrument.id, {}).get(step.item.id)


def _question_url(token: str, step: Step) -> str:
    return reverse("questionnaires:question", args=[token, step.instrument.id, step.item.id])


def _next_url(token: str, link: QuestionnaireLink, steps: list[Step], after: int = -1) -> str:
    """The first unanswered question after position ``after``; the review page when none is left."""
    for step in steps[after + 1:]:
        if _saved(link, step) is None:
            return _question_url(token, step)
    return reverse("questionnaires:review", args=[token])


def _answered(link: QuestionnaireLink, steps: list[Step]) -> int:
    return sum(_saved(link, s) is not None for s in steps)


def _draft_has_risk(link: QuestionnaireLink) -> bool:
    """A risk answer already given: the patient sees the crisis message at once, before submitting."""
    return any(measures.score(iid, answers).risk for iid, answers in link.draft.items() if iid in link.instruments)


# --- patient pages -------------------------------------------------------------------------------


@patient_page
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, token: str) -> HttpResponse:
    client = _client(request)
    if request.method == "POST":
        link = _lookup(token, client=client)
        if request.POST.get("mode") == "all":
            return redirect("questionnaires:all", token)
        return redirect(_next_url(token, link, _steps(link)))
    link = actions.open_link(token, client=client)
    steps = _steps(link)
    return _render(request, "start.html", {
        "token": token, "first_name": link.patient.given_name, "instruments": _instruments(link),
        "total": len(steps), "answered": _answered(link, steps), "risk": _draft_has_risk(link),
        "expires_at": link.expires_at,
    })


@patient_page
@require_http_methods(["GET", "POST"])
def question(request: HttpRequest, token: str, instrument: str, item: str) -> HttpResponse:
    client = _client(request)
    link = _lookup(token, client=client)
    steps = _steps(link)
    index = next((n for n, s in enumerate(steps) if (s.instrument.id, s.item.id) == (instrument, item)), None)
    if index is None:
        return redirect("questionnaires:start", token)
    step = steps[index]
    form = QuestionForm(step.item, request.POST if request.method == "POST" else None, saved=_saved(link, step))
    if form.is_bound:
        go = request.POST.get("go", "next")
        if go == "skip":
            return redirect(_next_url(token, link, steps, after=index))
        if form.is_valid():
            if form.answer is not None:
                try:
                    link = actions.save_answers(token, client=client, instrument=step.instrument.id,
                                                answers={step.item.id: form.answer})
                except ValidationError as exc:
                    form.add_error("answer", exc.messages)
            if not form.errors:
                if go == "back":
                    return redirect(_question_url(token, steps[index - 1]) if index else
                                    reverse("questionnaires:start", args=[token]))
                return redirect(_next_url(token, link, steps, after=index))
    return _render(request, "question.html", {
        "token": token, "form": form, "step": step, "position": index + 1, "total": len(steps),
        "risk": _draft_has_risk(link),
    }, status=400 if form.errors else 200)


@patient_page
@require_http_methods(["GET", "POST"])
def all_questions(request: HttpRequest, token: str) -> HttpResponse:
    client = _client(request)
    link = _lookup(token, client=client)
    form = AllQuestionsForm(_instruments(link), request.POST if request.method == "POST" else None, draft=link.draft)
    if form.is_bound and form.is_valid():
        try:
            with transaction.atomic():  # every questionnaire's answers, or none
                for iid, given in form.answers().items():
                    if given:
                        actions.save_answers(token, client=client, instrument=iid, answers=given)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return redirect("questionnaires:review", token)
    steps = _steps(link)
    return _render(request, "all.html", {
        "token": token, "form": form, "total": len(steps), "answered": _answered(link, steps),
        "risk": _draft_has_risk(link),
    }, status=400 if form.errors else 200)


def _review(request: HttpRequest, token: str, link: QuestionnaireLink, errors: ValidationError | None = None) -> HttpResponse:
    sections = []
    for inst in _instruments(link):
        given = link.draft.get(inst.id, {})
        rows = []
        for n, item in enumerate(inst.items, 1):
            value = given.get(item.id)
            label = next((o.label or str(o.value) for o in item.options if o.value == value), None)
            rows.append({"number": n, "item": item, "answer": label,
                         "url": _question_url(token, Step(inst, item, n))})
        score = measures.score(inst.id, given)
        sections.append({"instrument": inst, "rows": rows, "unanswered": sum(r["answer"] is None for r in rows),
                         "needs_more": score.total is None})
    problems = []
    found = errors.message_dict if errors is not None and hasattr(errors, "error_dict") else {}
    if errors is not None and not found:
        found = {"": errors.messages}
    for key, messages_ in found.items():
        iid, _, item_id = key.partition("_item_")
        anchor = f"row-{iid}-{item_id}" if item_id else f"section-{iid}"
        problems.extend({"anchor": anchor, "message": m} for m in messages_)
    steps = _steps(link)
    return _render(request, "review.html", {
        "token": token, "sections": sections, "problems": problems, "total": len(steps),
        "answered": _answered(link, steps), "risk": _draft_has_risk(link),
    }, status=400 if problems else 200)


@patient_page
@require_GET
def review(request: HttpRequest, token: str) -> HttpResponse:
    return _review(request, token, _lookup(token, client=_client(request)))


@patient_page
@require_POST
def submit(request: HttpRequest, token: str) -> HttpResponse:
    client = _client(request)
    try:
        actions.submit(token, client=client)
    except ValidationError as exc:
        return _review(request, token, _lookup(token, client=client), errors=exc)
    return redirect("questionnaires:done", token)


@patient_page
@require_GET
def done(request: HttpRequest, token: str) -> HttpResponse:
    link = _any_link(token, client=_client(request))
    if link.submitted_at is None:
        if link.state == QuestionnaireLink.State.OPEN:
            return redirect("questionnaires:start", token)
        raise LinkUnavailable(link.state)
    risk = any(m.risk for m in link.measurements.all())
    return _render(request, "done.html", {"risk": risk})


# --- clinician pages -----------------------------------------------------------------------------

clinician = require_permission(Permission.HOLD_CASELOAD)


def _sendable() -> list[measures.Instrument]:
    return [i for i in measures.catalogue() if actions.answerable_by_patient(i.id)]


def _at(moment: dt.datetime) -> str:
    local = timezone.localtime(moment)
    day = "" if local.date() == timezone.localdate() else f" on {local.day} {local:%b}"
    return f"{day} at {local:%H:%M}"


def delivery_text(link: QuestionnaireLink) -> str:
    """How the patient was told of the link, for the link list."""
    Delivery = QuestionnaireLink.Delivery
    by = notify.CHANNEL_NAMES.get(link.delivery_channel, "")
    if link.delivery == Delivery.QUEUED:
        return f"Queued to send by {by}"
    if link.delivery == Delivery.SENT:
        to = f" to {link.delivered_to}" if link.delivered_to else ""
        return f"Sent by {by}{to}{_at(link.delivered_at)}" if link.delivered_at else f"Sent by {by}{to}"
    if link.delivery == Delivery.FAILED:
        return f"Failed: {link.delivery_error or 'not sent'}"
    if link.delivery == Delivery.CANCELLED:
        return str(Delivery.CANCELLED.label)
    return "Shown to copy" if link.created_by_id else "Not sent"


def _reaches(patient: Any) -> dict[str, notify.Reach]:
    return {channel: notify.reach(patient, channel) for channel in ("email", "sms")}


@require_GET
def link_list(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk)
    links = list(course.questionnaire_links.select_related("session", "course", "referral"))
    names = {i.id: i.abbreviation for i in measures.catalogue()}
    may_change = course.therapist_id == request.user.pk and course.is_active
    reaches = _reaches(course.patient) if may_change else {}
    rows = [{"link": link, "instruments": ", ".join(names.get(i, i) for i in link.instruments),
             "closure": actions.closure(link), "delivery": delivery_text(link),
             "failed": link.delivery == QuestionnaireLink.Delivery.FAILED,
             "queued": link.delivery == QuestionnaireLink.Delivery.QUEUED} for link in links]
    automatic = notify.contact_for(course.patient) if course.is_active else None
    return render(request, "questionnaires/list.html", {
        "course": course, "patient": course.patient, "rows": rows, "may_change": may_change,
        "resend_channels": [(c, notify.CHANNEL_NAMES[c]) for c, r in reaches.items() if r.contact is not None],
        "automatic": automatic and {"by": notify.CHANNEL_NAMES[automatic.channel],
                                    "to": notify.masked(automatic.channel, automatic.to)},
        "not_automatic": [r.reason for r in _reaches(course.patient).values()] if course.is_active and not automatic
        else [],
    })


@require_http_methods(["GET", "POST"])
@clinician
def send(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk, write=True)
    sendable = _sendable()
    protocol_first = [i for i in course.definition.session_measures if i in {s.id for s in sendable}]
    order = protocol_first + [i.id for i in sendable if i.id not in protocol_first]
    choices = sorted(sendable, key=lambda i: order.index(i.id))
    sessions = course.sessions.filter(scheduled_at__gt=timezone.now(), attendance__isnull=True)
    reaches = _reaches(course.patient)
    form = SendForm(request.POST or None, choices=choices, sessions=sessions, default=protocol_first,
                    unavailable={c: r.reason for c, r in reaches.items() if r.contact is None})
    open_link = None
    if form.is_bound and form.is_valid():
        chosen = sorted(form.cleaned_data["instruments"], key=order.index)
        channel = form.cleaned_data["channel"]
        try:
            link, token = actions.issue_link(course=course, instruments=chosen, by=request.user,
                                             session=form.cleaned_data["session"],
                                             valid_for=dt.timedelta(days=form.cleaned_data["valid_days"]),
                                             send_by="" if channel == COPY else channel)
        except actions.OpenLinkExists as exc:
            open_link = exc.link
            form.add_error(None, exc.messages)
        except ValidationError as exc:
            add_action_errors(form, exc, rename={"valid_for": "valid_days"})
        else:
            if channel != COPY:
                contact = reaches[channel].contact
                to = notify.masked(channel, contact.to) if contact else ""
                messages.success(request, f"The link is queued to be sent by {notify.CHANNEL_NAMES[channel]} to {to}. "
                                          "Its delivery shows below.")
                return redirect("questionnaires:list", course.pk)
            url = request.build_absolute_uri(reverse("questionnaires:start", args=[token]))
            response = render(request, "questionnaires/sent.html", {
                "course": course, "patient": course.patient, "link": link, "url": url,
                "instruments": [measures.get(i) for i in link.instruments],
            })
            add_never_cache_headers(response)  # the link is shown once: not from the cache either
            return response
    return render(request, "questionnaires/send.html", {
        "course": course, "patient": course.patient, "form": form, "open_link": open_link,
        "resend_channels": [(c, notify.CHANNEL_NAMES[c]) for c, r in reaches.items() if r.contact is not None],
    }, status=400 if form.errors else 200)


@require_POST
@clinician
def resend(request: HttpRequest, pk: int, link_pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk, write=True)
    link = get_object_or_404(course.questionnaire_links, pk=link_pk)
    form = ResendForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.get("channel") or "Choose e-mail or text message.")
        actions.queue_delivery(link=link, channel=form.cleaned_data["channel"], by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Link {link.pk} is queued to be sent again by "
                                  f"{notify.CHANNEL_NAMES[form.cleaned_data['channel']]}. The link sent or copied "
                                  "before stops working once it goes.")
    return redirect("questionnaires:list", course.pk)


@require_POST
@clinician
def withdraw(request: HttpRequest, pk: int, link_pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk, write=True)
    link = get_object_or_404(course.questionnaire_links, pk=link_pk)
    try:
        actions.withdraw_link(link=link, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Link {link.pk} withdrawn: it can no longer be used.")
    return redirect("questionnaires:list", course.pk)
