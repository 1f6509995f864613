from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from interpersonal.core import measures

from . import describe
from .forms import ScoreForm, item_rows


def _instrument_or_404(instrument_id: str) -> measures.Instrument:
    try:
        return measures.get(instrument_id)
    except measures.UnknownInstrument:
        raise Http404(f"No instrument {instrument_id!r}") from None


def _context(instrument: measures.Instrument) -> dict[str, object]:
    return {"instrument": instrument, "unconfirmed": describe.unconfirmed_settings(instrument)}


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    rows = [_context(i) for i in measures.catalogue()]
    return render(request, "assessments/catalogue.html", {"rows": rows})


@require_GET
def detail(request: HttpRequest, instrument_id: str) -> HttpResponse:
    instrument = _instrument_or_404(instrument_id)
    context = _context(instrument) | {
        "items": item_rows(instrument),
        "scoring_rule": describe.scoring_rule(instrument),
        "missing_rule": describe.missing_rule(instrument),
        "rounding_unconfirmed": describe.rounding_unconfirmed(instrument),
        "caseness": describe.threshold(instrument.caseness) if instrument.caseness else None,
        "remission": describe.threshold(instrument.remission) if instrument.remission else None,
    }
    return render(request, "assessments/detail.html", context)


@require_http_methods(["GET", "POST"])
def score(request: HttpRequest, instrument_id: str) -> HttpResponse:
    instrument = _instrument_or_404(instrument_id)
    form = ScoreForm(instrument, request.POST if request.method == "POST" else None)
    status = 400 if form.is_bound and not form.is_valid() else 200
    result = form.score
    context = _context(instrument) | {
        "form": form,
        "result": result,
        "missing": describe.components(instrument, result.missing) if result else [],
        "variants": form.variants() if result else {},
    }
    return render(request, "assessments/score.html", context, status=status)
