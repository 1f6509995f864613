"""Service outcomes: the service lead's dashboard and its tables as CSV.

Aggregates only (therapists by pseudonymous id "T12", no patient record). Every number comes
from ``interpersonal.core.outcomes.service`` over ``from_database(...)`` — the same functions as
the ``interpersonal`` CLI over an exported data set — worked out by the task worker
(:mod:`interpersonal.web.outcomes.tasks`), never in a request: reading every course, session and
measure takes seconds at 10 000 patients and longer than gunicorn's timeout at national scale.
The page shows the latest stored figures for its filters with the time they were worked out, and
asks for fresh ones on request; the CSVs are made from the same stored figures.
"""

from __future__ import annotations

import csv
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from interpersonal.core.outcomes import service
from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission
from interpersonal.web.outcomes import actions, tables
from interpersonal.web.outcomes.dataset import providers, therapists
from interpersonal.web.outcomes.forms import FilterForm
from interpersonal.web.outcomes.models import Figures


def _filter_form(data: Any) -> FilterForm:
    return FilterForm(data or None, providers=providers(), therapists=therapists())


def _refused(form: FilterForm) -> bool:
    """Filters were given but are not valid: none is applied, and the answer must say so (a
    whole-service number must never stand for the filtered one asked for)."""
    return form.is_bound and not form.is_valid()


def _query(form: FilterForm) -> dict[str, str]:
    """The filters as they were typed, when valid: for links and the "fresh figures" form."""
    if not form.is_bound or not form.is_valid():
        return {}
    return {name: str(form.data[name]) for name in form.fields if form.data.get(name)}


def _dashboard_url(query: dict[str, str]) -> str:
    return reverse("outcomes:dashboard") + (f"?{urlencode(query)}" if query else "")


@require_GET
@require_permission(Permission.VIEW_SERVICE_AGGREGATES)
def dashboard(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request.GET)
    filters = form.filters() if request.GET else {}
    key = actions.filter_key(filters)
    if not Figures.objects.filter(filter_key=key).exists():  # a first look: ask for them
        actions.request_figures(filters=filters, by=request.user)
    ready, waiting = actions.latest_ready(key), actions.pending(key)
    last = Figures.objects.filter(filter_key=key).first()
    context: dict[str, Any] = {
        "form": form, "refused": _refused(form), "filtered": bool(filters), "figures": ready, "waiting": waiting,
        "failed": last if last is not None and last.state == Figures.State.FAILED and waiting is None else None,
        "again_fields": _query(form), "query": urlencode(_query(form)),
        "min_paired_for_effect_size": service.MIN_PAIRED_FOR_EFFECT_SIZE, "trial": tables.DIT_TRIAL,
    }
    if ready is not None:
        report, funnel = ready.result["report"], ready.result["funnel"]
        context.update({
            "overall": report["overall"], "metrics": tables.metric_rows(report["overall"]),
            "by_therapy": [(t, tables.protocol_name(t), g) for t, g in report["by_therapy"].items()],
            "by_month": report["by_month"], "funnel": funnel, "benchmark": tables.benchmark(report["by_therapy"]),
            "trend_spec": tables.spec_json(tables.trend_spec(report["by_month"])),
            "funnel_spec": tables.spec_json(tables.funnel_spec(funnel)),
        })
    return render(request, "outcomes/dashboard.html", context, status=400 if _refused(form) else 200)


@require_POST
@require_permission(Permission.VIEW_SERVICE_AGGREGATES)
def refresh(request: HttpRequest) -> HttpResponse:
    form = _filter_form({k: v for k, v in request.POST.items() if k in FilterForm.base_fields})
    if _refused(form):
        return HttpResponse(f"These filters are not valid ({', '.join(form.errors)}): no figures were asked for.\n",
                            status=400, content_type="text/plain; charset=utf-8")
    actions.request_figures(filters=form.filters() if form.is_bound else {}, by=request.user)
    return redirect(_dashboard_url(_query(form)))


@require_GET
@require_permission(Permission.VIEW_SERVICE_AGGREGATES)
def csv_download(request: HttpRequest, table: str) -> HttpResponse:
    if table not in tables.NAMES:
        raise Http404("No such table.")
    form = _filter_form(request.GET)
    if _refused(form):
        return HttpResponse(f"These filters are not valid ({', '.join(form.errors)}): nothing was downloaded.\n",
                            status=400, content_type="text/plain; charset=utf-8")
    ready = actions.latest_ready(actions.filter_key(form.filters() if request.GET else {}))
    if ready is None:  # nothing worked out yet for these filters: the dashboard asks and shows progress
        return redirect(_dashboard_url(_query(form)))
    report = ready.result["report"]
    built = tables.build(report, report["by_month"], ready.result["funnel"])[table]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="outcomes-{table}.csv"'
    writer = csv.writer(response)
    writer.writerow(built.columns)
    writer.writerows(["" if v is None else v for v in row] for row in built.rows)
    return response
