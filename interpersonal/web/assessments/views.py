from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interpersonal.core import measures
from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission
from interpersonal.web.assessments import actions
from interpersonal.web.assessments.alerts import unanswered_risk_prompts
from interpersonal.web.assessments.models import RiskAlert
from interpersonal.web.courses.access import courses_visible_to, get_course_for_user

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
        "risk_unanswered": unanswered_risk_prompts(instrument, result.risk_unanswered) if result else [],
        "variants": form.variants() if result else {},
    }
    return render(request, "assessments/score.html", context, status=status)


@require_POST
@require_permission(Permission.HOLD_CASELOAD)
def acknowledge_alert(request: HttpRequest, pk: int) -> HttpResponse:
    """A clinician responsible for the case acknowledges a risk alert with a note."""
    from interpersonal.web.courses.views import render_course

    course_id = (RiskAlert.objects.filter(pk=pk, course__in=courses_visible_to(request.user))
                 .values_list("course_id", flat=True).first())
    if course_id is None:
        raise Http404("No such alert")
    course = get_course_for_user(request.user, course_id)
    alert = RiskAlert.objects.select_related("course__therapist").get(pk=pk)
    try:
        actions.acknowledge_alert(alert=alert, by=request.user, note=request.POST.get("note", ""))
    except ValidationError as exc:
        return render_course(request, course, status=400, ack_errors={alert.pk: exc.messages},
                             ack_note=request.POST.get("note", ""))
    if request.POST.get("back") == "alert":
        return redirect(reverse("assessments:alert", args=[alert.pk]))
    return redirect(reverse("courses:detail", args=[course.pk]) + "#alerts")
