"""Letters on paper: HTML (a Django template and a print stylesheet) rendered to A4 PDF by
WeasyPrint, with the service letterhead from settings. The GP letter adds the patient's
identification, a table of first and last scores and the progress charts: the on-screen
Vega-Lite spec (assessments.charts.progress_spec) drawn as inline SVG by vl-convert.

Reads an already-authorised letter; writes nothing (the caller audits the download).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import vl_convert as vlc
import weasyprint
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from interpersonal.core.outcomes import ANXIETY_MEASURE, DEPRESSION_MEASURE
from interpersonal.web.assessments.charts import describe, progress_spec
from interpersonal.web.courses.summary import CourseSummary, summarise
from interpersonal.web.letters import drafting
from interpersonal.web.letters.models import Letter

PRINT_CSS = Path(__file__).parent / "static" / "letters" / "print.css"
CHART_MEASURES = (DEPRESSION_MEASURE, ANXIETY_MEASURE)
CHART_WIDTH, CHART_HEIGHT = 560, 190
CHART_FONT = "DejaVu Sans"
"""The plot's size in CSS pixels (the SVG is scaled to the column's width on paper)."""


def format_nhs_number(value: str | None) -> str:
    """``9434765919`` → ``943 476 5919`` (3-3-4, as the NHS prints it)."""
    digits = "".join(ch for ch in (value or "") if ch.isdigit())
    if len(digits) != 10:
        return value or "not recorded"
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def print_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The screen spec made for paper: a fixed size instead of the container's width."""
    spec = copy.deepcopy(spec)
    spec["width"], spec["height"] = CHART_WIDTH, CHART_HEIGHT
    spec["autosize"] = {"type": "pad"}
    # Measure text in the font the page prints it in (vl-convert lays out the legend with it).
    spec["config"] = {**spec.get("config", {}), "font": CHART_FONT}
    return spec


def chart_svgs(course: Any, summary: CourseSummary) -> list[dict[str, Any]]:
    charts = []
    for series in summary.series:
        if series.instrument.id not in CHART_MEASURES or not any(p.total is not None for p in series.points):
            continue
        spec = print_spec(progress_spec(series.instrument, series.points, planned_sessions=course.planned_sessions))
        svg = vlc.vegalite_to_svg(spec)
        charts.append({"svg": mark_safe(svg), "description": describe(series.instrument, series.points)})  # noqa: S308 - vl-convert's own output
    return charts


def letterhead() -> dict[str, Any]:
    return {
        "name": settings.INTERPERSONAL_LETTERHEAD_NAME,
        "address_lines": [line.strip() for line in settings.INTERPERSONAL_LETTERHEAD_ADDRESS.split("\n") if line.strip()],
        "phone": settings.INTERPERSONAL_LETTERHEAD_PHONE,
        "email": settings.INTERPERSONAL_LETTERHEAD_EMAIL,
    }


def _signed(value: float) -> str:
    text = drafting.num(abs(value))
    return f"+{text}" if value > 0 else f"\u2212{text}" if value < 0 else "0"


def letter_html(letter: Letter) -> str:
    course = letter.course
    patient = course.patient
    gp = letter.kind == Letter.Kind.GP_DISCHARGE
    context: dict[str, Any] = {
        "letter": letter, "course": course, "patient": patient, "gp": gp,
        "letterhead": letterhead(), "draft": not letter.is_final,
        "date": timezone.localtime(letter.finalised_at).date() if letter.finalised_at else timezone.localdate(),
        "nhs_number": format_nhs_number(patient.nhs_number),
        "therapist": course.therapist.get_full_name() or course.therapist.get_username(),
    }
    if gp:
        summary = summarise(course)
        context["score_rows"] = [
            {"row": r, "first": drafting.num(r.first), "last": drafting.num(r.last),
             "change": _signed(r.change) if r.paired else "—"}
            for r in drafting.score_rows(summary)
        ]
        context["charts"] = chart_svgs(course, summary)
        context["summary"] = summary
    return render_to_string("letters/letter_pdf.html", context)


def render_letter_pdf(letter: Letter) -> bytes:
    """Any letter as an A4 PDF (a draft carries a DRAFT watermark)."""
    html = weasyprint.HTML(string=letter_html(letter), base_url=str(Path(__file__).parent))
    return html.write_pdf(stylesheets=[weasyprint.CSS(filename=str(PRINT_CSS))])


def render_gp_letter_pdf(letter: Letter) -> bytes:
    """The discharge letter to the GP as an A4 PDF."""
    if letter.kind != Letter.Kind.GP_DISCHARGE:
        raise ValueError("not a GP discharge letter")
    return render_letter_pdf(letter)


def pdf_filename(letter: Letter) -> str:
    """Names the course and letter, never the patient."""
    draft = "-draft" if not letter.is_final else ""
    return f"course-{letter.course_id}-{letter.kind.replace('_', '-')}-v{letter.number}{draft}.pdf"
