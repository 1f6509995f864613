"""Service outcomes: the service lead's dashboard and its tables as CSV.

Aggregates only: no patient record. Every number is an SQL aggregate over the per-referral
summaries kept at write time (:mod:`interpersonal.web.outcomes.aggregates`), equal to what
``interpersonal.core.outcomes.service`` answers over ``from_database(...)`` — the same functions
as the ``interpersonal`` CLI over an exported data set — and current to the last recorded
contact or score. A few grouped queries: fast enough for the request (docs/performance.md,
"Outcomes dashboard"). Therapists are named for the service lead, pseudonymous ("T12") for any
other role (:mod:`interpersonal.web.outcomes.access`).
"""

from __future__ import annotations

import csv
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from interpersonal.core.outcomes import service
from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission
from interpersonal.web.outcomes import access, aggregates, tables
from interpersonal.web.outcomes.dataset import providers, therapist_rows
from interpersonal.web.outcomes.forms import FilterForm


def _filter_form(request: HttpRequest) -> tuple[FilterForm, dict[str, str]]:
    """The filters from the query string, and the therapists' names if the user may see them."""
    rows = therapist_rows()
    ids = [f"T{pk}" for pk, *_ in rows]
    names = access.therapist_names(request.user, ids, rows)
    choices = sorted(((t, names[t]) for t in ids), key=lambda c: c[1].casefold()) if names else ids
    data = {k: v for k, v in request.GET.items() if k in FilterForm.base_fields}
    return FilterForm(data or None, providers=providers(), therapists=choices, named=bool(names)), names


def _refused(form: FilterForm) -> bool:
    """Filters were given but are not valid: none is applied, and the answer must say so (a
    whole-service number must never stand for the filtered one asked for)."""
    return form.is_bound and not form.is_valid()


def _query(form: FilterForm) -> dict[str, str]:
    """The filters as they were typed, when valid: for the CSV and table links."""
    if not form.is_bound or not form.is_valid():
        return {}
    return {name: str(form.data[name]) for name in form.fields if form.data.get(name)}


def _figures(filters: dict[str, Any], names: dict[str, str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    report = aggregates.report(**filters)
    rows = aggregates.funnel(**{k: v for k, v in filters.items() if k != "therapist"})
    return report, tables.funnel_rows(rows, names)


def _nothing(overall: dict[str, Any]) -> bool:
    """No referral received, ended or seen in treatment under these filters: say so, not zeros."""
    return not (overall["referrals"] or overall["finished"] or overall["treatment_contacts"])


def _page_number(text: str | None) -> int:
    return int(text) if text and text.isdigit() and len(text) < 7 else 1


def _pager(query: dict[str, str], page: dict[str, Any]) -> dict[str, str | None]:
    """Query strings of the therapist table's first, previous, next and last pages (None where
    there is no such page), keeping the filters and the order."""
    def link(number: int) -> str:
        return urlencode({**query, "sort": page["sort"], "page": number})

    here, last = page["page"], page["pages"]
    return {"first": link(1) if here > 1 else None, "previous": link(here - 1) if here > 1 else None,
            "next": link(here + 1) if here < last else None, "last": link(last) if here < last else None}


@require_GET
@require_permission(Permission.VIEW_SERVICE_AGGREGATES)
def dashboard(request: HttpRequest) -> HttpResponse:
    form, names = _filter_form(request)
    filters = form.filters() if form.is_bound else {}
    report, funnel = _figures(filters, names)
    overall, query = report["overall"], _query(form)
    page = tables.funnel_page(funnel, request.GET.get("sort", "signal"), _page_number(request.GET.get("page")))
    context: dict[str, Any] = {
        "form": form, "refused": _refused(form), "filtered": bool(filters), "query": urlencode(query),
        "nothing": _nothing(overall), "named": any(r["therapist_name"] for r in funnel),
        "min_paired_for_effect_size": service.MIN_PAIRED_FOR_EFFECT_SIZE, "trial": tables.DIT_TRIAL,
        "overall": overall, "metrics": tables.metric_rows(overall),
        "by_therapy": [(t, tables.protocol_name(t), g) for t, g in report["by_therapy"].items()],
        "by_month": report["by_month"], "funnel": page, "outliers": tables.outliers(funnel),
        "labelled_max": tables.LABELLED_MAX,
        "benchmark": tables.benchmark(report["by_therapy"]),
        "trend_spec": tables.spec_json(tables.trend_spec(report["by_month"])),
        "funnel_spec": tables.spec_json(tables.funnel_spec(funnel)),
        "pager": _pager(query, page),
    }
    for column in page["columns"]:
        column["href"] = urlencode({**query, "sort": column["next"]})
    return render(request, "outcomes/dashboard.html", context, status=400 if _refused(form) else 200)


@require_GET
@require_permission(Permission.VIEW_SERVICE_AGGREGATES)
def csv_download(request: HttpRequest, table: str) -> HttpResponse:
    if table not in tables.NAMES:
        raise Http404("No such table.")
    form, names = _filter_form(request)
    if _refused(form):
        return HttpResponse(f"These filters are not valid ({', '.join(form.errors)}): nothing was downloaded.\n",
                            status=400, content_type="text/plain; charset=utf-8")
    report, funnel = _figures(form.filters() if form.is_bound else {}, names)
    built = tables.build(report, report["by_month"], funnel)[table]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="outcomes-{table}.csv"'
    writer = csv.writer(response)
    writer.writerow(built.columns)
    writer.writerows(["" if v is None else v for v in row] for row in built.rows)
    return response
