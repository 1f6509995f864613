"""The public self-referral form (``/refer/``): the service's front door for people referring
themselves (issue 13).

No login, no cookie, no JavaScript; mobile first; the crisis message on every page (the service is
not a crisis service). The form is exempt from CSRF checks: it sets no cookie (a person whose
browser refuses cookies can still refer themselves) and a forged post could only do what anyone
can do with the form itself; the signed start token (referrals.formtokens) and the per-address
limit do the rest. Spam is refused quietly: a post with the hidden honeypot field filled, sent too
fast, or without a genuine start token is answered exactly as a real one (a thank-you page with a
reference) and records nothing, so a bot learns nothing; it is logged (the reference, the reason)
for a person who calls to say they were not contacted. After sending, the person sees their
reference and nothing of what they wrote.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from interpersonal.web.accounts.middleware import client_address
from interpersonal.web.formerrors import add_action_errors
from interpersonal.web.referrals import actions, formtokens
from interpersonal.web.referrals.forms import SelfReferralForm

logger = logging.getLogger(__name__)


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """No login, no CSRF cookie (see the module docstring); every response is already no-store
    (nocache.NoStoreMiddleware)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        return response

    return login_not_required(csrf_exempt(wrapped))


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context = {"service_name": settings.INTERPERSONAL_SERVICE_NAME,
               "crisis_message": settings.INTERPERSONAL_CRISIS_MESSAGE,
               "service_phone": settings.INTERPERSONAL_LETTERHEAD_PHONE, **context}
    return render(request, f"referrals/public/{template}", context, status=status)


def _form_page(request: HttpRequest, form: SelfReferralForm, status: int = 200, **extra: Any) -> HttpResponse:
    return _render(request, "form.html", {"form": form, "under_18_message": settings.INTERPERSONAL_UNDER_18_MESSAGE,
                                          **extra}, status=status)


def _thanks(reference: str) -> HttpResponse:
    return redirect(f"{reverse('referrals:self_refer_thanks')}?{urlencode({'r': formtokens.receipt(reference)})}")


@public_page
@require_http_methods(["GET", "POST"])
def self_refer(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _form_page(request, SelfReferralForm(initial={"started": formtokens.start_token()}))
    if actions.count_self_referral_post(client_address(request)):
        response = _render(request, "busy.html", {}, status=429)
        response["Retry-After"] = str(settings.INTERPERSONAL_SELF_REFERRAL_WINDOW_MINUTES * 60)
        return response
    form = SelfReferralForm(request.POST)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    verdict = formtokens.judge(form.cleaned_data["started"])
    if verdict is formtokens.Verdict.EXPIRED:
        data = request.POST.copy()
        data["started"] = formtokens.start_token()
        return _form_page(request, SelfReferralForm(data), status=400, expired=True)
    if form.cleaned_data["website"] or verdict is not formtokens.Verdict.OK:
        reference = actions.new_reference()  # as a real one: the sender cannot tell
        logger.info("self-referral refused as automated (%s); reference shown %s",
                    "honeypot" if form.cleaned_data["website"] else verdict.value, reference)
        return _thanks(reference)
    try:
        submission = actions.receive_self_referral(**form.submission())
    except ValidationError as exc:
        add_action_errors(form, exc)
        return _form_page(request, form, status=400)
    return _thanks(submission.reference)


@public_page
@require_GET
def thanks(request: HttpRequest) -> HttpResponse:
    """The reference, for an hour after sending; afterwards (or without one) a page that says
    how to reach the service, and shows no reference."""
    reference = formtokens.read_receipt(request.GET.get("r", "").replace("\x00", ""))
    return _render(request, "thanks.html", {"reference": reference})
