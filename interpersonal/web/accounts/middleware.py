"""Request-level security: the second factor gate, and the client address for login lockout."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from interpersonal.web.accounts import mfa

# Paths a signed-in but unverified member of staff may still reach. Patient questionnaire pages
# (/q/) belong to no staff session; static files and the health check need no user at all.
_OPEN_PREFIXES = ("/q/", "/healthz")  # /healthz has no trailing slash


class RequireMFAMiddleware:
    """Send staff who must use a second factor (mfa.requires_mfa) to verify — or set up — their
    TOTP device before any other page. Must follow django_otp's OTPMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if mfa.requires_mfa(user) and not user.is_verified() and not self._open(request.path):
            target = reverse("accounts:mfa_verify" if mfa.has_confirmed_device(user) else "accounts:mfa_setup")
            if request.method == "GET" and request.path != "/":
                target = f"{target}?{urlencode({'next': request.get_full_path()})}"
            return redirect(target)
        return self.get_response(request)

    @staticmethod
    def _open(path: str) -> bool:
        if path in (reverse("accounts:mfa_setup"), reverse("accounts:mfa_verify"), reverse("accounts:logout")):
            return True
        static = "/" + settings.STATIC_URL.lstrip("/")
        return path.startswith((static, *_OPEN_PREFIXES))


def client_address(request: HttpRequest) -> str:
    """The client's address for login lockout (AXES_CLIENT_IP_CALLABLE). Behind N trusted reverse
    proxies (INTERPERSONAL_TRUSTED_PROXIES = N), the address the Nth proxy saw, read from the right
    of X-Forwarded-For; entries further left are the client's own claim and not trusted."""
    hops = settings.INTERPERSONAL_TRUSTED_PROXIES
    if hops > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")
