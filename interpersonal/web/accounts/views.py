"""Account pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from interpersonal.web.accounts.roles import DESCRIPTIONS, ROLES, permissions_for


@require_GET
def me(request: HttpRequest) -> HttpResponse:
    """Who am I, and what may my role do: the simplest signed-in page."""
    user = request.user
    return render(request, "accounts/me.html", {
        "role": ROLES.get(getattr(user, "role", "")),
        "permissions": sorted(DESCRIPTIONS[p] for p in permissions_for(user)),
    })
