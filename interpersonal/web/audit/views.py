"""The audit trail for administrators: identifiers only, filterable, 50 a page."""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission
from interpersonal.web.audit.forms import AuditFilterForm
from interpersonal.web.audit.models import AuditEvent

PAGE_SIZE = 50


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


@require_GET
@require_permission(Permission.VIEW_AUDIT)
def event_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.all()
    if form.is_bound and form.is_valid():
        f = form.cleaned_data
        if f["type"]:
            events = events.filter(type__startswith=f["type"].strip())
        if f["actor"]:
            events = events.filter(actor_username__iexact=f["actor"].strip())
        if f["patient"]:
            events = events.filter(patient_id=f["patient"])
        if f["date_from"]:
            events = events.filter(at__gte=_day_start(f["date_from"]))
        if f["date_to"]:
            events = events.filter(at__lt=_day_start(f["date_to"] + dt.timedelta(days=1)))
    elif form.is_bound:
        events = AuditEvent.objects.none()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    # Pairs, not e.data.items in the template: a data key named "items" would shadow the method.
    rows = [(e, sorted(e.data.items())) for e in page]
    return render(request, "audit/list.html", {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
                  status=400 if form.is_bound and not form.is_valid() else 200)
