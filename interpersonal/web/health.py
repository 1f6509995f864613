"""Project-level endpoints that belong to no bounded context."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from interpersonal.web.accounts.roles import Permission, has_permission

logger = logging.getLogger(__name__)


@login_not_required
@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the app can query its database, 503 (with the reason) when it cannot."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        # The detail (host, port, user) goes to the log, not to an unauthenticated caller.
        logger.warning("healthz: database unreachable: %s", exc)
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def home(request: HttpRequest) -> HttpResponse:
    """Each role's start page: clinicians their caseload, the service lead the service
    overview, the administrator the audit trail, the records officer the records requests page;
    anyone else the measures catalogue."""
    for permission, target in (
        (Permission.HOLD_CASELOAD, "courses:caseload"),
        (Permission.VIEW_SERVICE_AGGREGATES, "courses:service"),
        (Permission.VIEW_AUDIT, "audit:list"),
        (Permission.HANDLE_RECORDS_REQUESTS, "privacy:find"),
    ):
        if has_permission(request.user, permission):
            return redirect(target)
    return redirect("assessments:catalogue")
