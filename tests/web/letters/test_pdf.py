"""The letters on paper: a real PDF with the letterhead, the patient's identification, the
scores table and the progress chart (checked with pdftotext)."""

from __future__ import annotations

import subprocess

import pytest
from django.test import override_settings

from interpersonal.web.letters import actions, pdf

# pdftotext comes from poppler-utils, which `make test` installs (scripts/ensure-system-deps):
# without it these tests fail rather than skip.
pytestmark = [pytest.mark.django_db]


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_format_nhs_number_3_3_4():
    assert pdf.format_nhs_number("9434765919") == "943 476 5919"
    assert pdf.format_nhs_number("943 476 5919") == "943 476 5919"
    assert pdf.format_nhs_number(None) == "not recorded"


@override_settings(INTERPERSONAL_LETTERHEAD_NAME="Northshire Talking Therapies",
                   INTERPERSONAL_LETTERHEAD_ADDRESS="Unit 4, Example Park\nNorthtown NT1 1AA")
def test_gp_letter_pdf_has_letterhead_patient_scores_and_chart(ended_dit_course, therapist, tmp_path):
    letter = actions.draft_letter(course=ended_dit_course, kind="gp_discharge", by=therapist)

    content = pdf.render_gp_letter_pdf(letter)

    assert content.startswith(b"%PDF")
    text = pdf_text(content, tmp_path)
    assert "Northshire Talking Therapies" in text
    assert "Northtown NT1 1AA" in text
    assert "943 476 5919" in text
    assert "Example Street Surgery" in text
    assert "DRAFT" in text
    table = " ".join(text.split())
    assert "PHQ-9 18 6 −12 Moderately severe → Mild Improved" in table
    assert "GAD-7 14 5 −9 Moderate → Mild Improved" in table
    # The chart is vector SVG with its own text: the axis titles of the on-screen spec.
    assert "PHQ-9 total" in text
    assert "GAD-7 total" in text
    assert "Page 1 of" in text


def test_final_ending_letter_pdf_has_no_gp_block_and_no_watermark(ended_dit_course, therapist, tmp_path):
    letter = actions.draft_letter(course=ended_dit_course, kind="goodbye", by=therapist)
    letter = actions.finalise_letter(letter=letter, by=therapist)

    text = pdf_text(pdf.render_letter_pdf(letter), tmp_path)

    assert "Dear Pat," in text
    assert "Private and confidential" in text
    assert "DRAFT" not in text
    assert "NHS number" not in text
    assert "PHQ-9 total" not in text


def test_render_gp_letter_pdf_refuses_other_kinds(ended_dit_course, therapist):
    letter = actions.draft_letter(course=ended_dit_course, kind="goodbye", by=therapist)
    with pytest.raises(ValueError, match="GP"):
        pdf.render_gp_letter_pdf(letter)


def test_print_spec_is_the_screen_spec_with_a_fixed_size():
    spec = {"width": "container", "height": 260, "autosize": {"type": "fit-x"}, "layer": [{"mark": "line"}],
            "config": {"axis": {}}}
    printed = pdf.print_spec(spec)
    assert printed["width"] == pdf.CHART_WIDTH
    assert printed["height"] == pdf.CHART_HEIGHT
    assert printed["layer"] == spec["layer"]
    assert spec["width"] == "container"
