"""Service outcomes: the service lead's dashboard and its tables as CSV.

Aggregates only (therapists by pseudonymous id "T12", no patient record). Every number
comes from ``interpersonal.core.outcomes.service`` over ``from_database(...)``: the same
functions as the ``interpersonal`` CLI over an exported data set. Nothing is cached.
"""

from __future__ import annotations

import csv
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from interpersonal.core.outcomes import service
from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission
from interpersonal.web.outcomes import tables
from interpersonal.web.outcomes.dataset import from_database, providers, therapists
from interpersonal.web.outcomes.forms import FilterForm


def _filter_form(request: HttpRequest) -> FilterForm:
    return FilterForm(request.GET or None, providers=providers(), therapists=therapists())


def _refused(form: FilterForm) -> bool:
    """Filters were given but are not valid: none is applied, and the answer must say so (a
    whole-service number must never stand for the filtered one asked for)."""
    return form.is_bound and not form.is_valid()


def _compute(request: HttpRequest, form: FilterForm | None = None) -> tuple[FilterForm, dict[str, Any]]:
    form = _filter_form(request) if form is None else form
    filters = form.filters() if request.GET else {}
    data = from_database(since=filters.get("since"), until=filters.get("until"))
    report = service.report(data, by="month", **filters)
    # The funnel compares therapists with the whole (filtered) service, so never narrows to one.
    funnel = service.funnel(data, **{k: v for k, v in filters.items() if k != "therapist"})
    return form, {"report": report, "funnel": funnel, "filters": filters}


@require_GET
@require_permission(Permission.VIEW_SERVICE_AGGREGATES)
def dashboard(request: HttpRequest) -> HttpResponse:
    form, r = _compute(request)
    report = r["report"]
    return render(request, "outcomes/dashboard.html", {
        "form": form, "refused": _refused(form), "overall": report["overall"],
        "metrics": tables.metric_rows(report["overall"]),
        "by_therapy": [(t, tables.protocol_name(t), g) for t, g in report["by_therapy"].items()],
        "by_month": report["by_month"], "funnel": r["funnel"], "benchmark": tables.benchmark(report["by_therapy"]),
        "trial": tables.DIT_TRIAL, "min_paired_for_effect_size": service.MIN_PAIRED_FOR_EFFECT_SIZE, "query": request.GET.urlencode(), "filtered": bool(r["filters"]),
        "trend_spec": tables.spec_json(tables.trend_spec(report["by_month"])),
        "funnel_spec": tables.spec_json(tables.funnel_spec(r["funnel"])),
    }, status=400 if _refused(form) else 200)


@require_GET
@require_permission(Permission.VIEW_SERVICE_AGGREGATES)
def csv_download(request: HttpRequest, table: str) -> HttpResponse:
    if table not in tables.NAMES:
        raise Http404("No such table.")
    form = _filter_form(request)
    if _refused(form):
        return HttpResponse(f"These filters are not valid ({', '.join(form.errors)}): nothing was downloaded.\n",
                            status=400, content_type="text/plain; charset=utf-8")
    _, r = _compute(request, form)
    built = tables.build(r["report"], r["report"]["by_month"], r["funnel"])[table]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="outcomes-{table}.csv"'
    writer = csv.writer(response)
    writer.writerow(built.columns)
    writer.writerows(["" if v is None else v for v in row] for row in built.rows)
    return response
