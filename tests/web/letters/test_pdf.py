"""The letters on paper: a real PDF with the letterhead, the patient's identification, the
scores table and the progress chart (checked with pdftotext)."""

from __future__ import annotations

import re
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


def test_final_ending_letter_pdf_has_no_gp_block_and_no_watermark(ended_dit_course, therapist, tmp_path, complete):
    letter = complete(actions.draft_letter(course=ended_dit_course, kind="goodbye", by=therapist))
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


def test_gp_letter_says_when_the_last_phq9_left_item_9_unanswered(ended_dit_course, therapist, tmp_path):
    """Issue 12: a missing risk item is shown wherever the score is shown. The last PHQ-9 is
    prorated from 8 items; the GP must not read its total as 'no risk'."""
    import datetime as dt

    from django.utils import timezone

    from interpersonal.web.assessments.actions import record_measurement
    from interpersonal.web.courses.actions import record_session

    session = record_session(course=ended_dit_course, by=therapist, attendance=5, duration_minutes=50,
                             scheduled_at=timezone.now() - dt.timedelta(days=1))
    without_item_9 = {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1, "6": 1, "7": 0, "8": 0}
    record_measurement(course=ended_dit_course, instrument="phq9", answers=without_item_9, by=therapist,
                       session=session, recorded_at=session.scheduled_at)

    letter = actions.draft_letter(course=ended_dit_course, kind="gp_discharge", by=therapist)
    text = " ".join(pdf_text(pdf.render_gp_letter_pdf(letter), tmp_path).split())

    said = ("At the last PHQ-9, item 9 (thoughts of being better off dead or of self-harm) was not answered: "
            "the risk at that time is not known from the questionnaire.")
    assert said in " ".join(letter.body.split())
    assert re.search(r"PHQ-9 18 7 ?\* −11", text)  # the prorated last total, marked
    assert f"* {said}" in text
    assert "GAD-7 14 5 −9" in text  # the GAD-7 has no risk item: no mark


def test_gp_letter_pdf_states_the_risk_and_the_alerts_in_the_letter(ended_dit_course, therapist, risk_alert,
                                                                     complete, tmp_path):
    """The risk is in the letter's text on paper, above the scores, not only in an attachment.
    Looked at rendered to PNG (pdftoppm -png -r 60) when written: it reads as a letter."""
    letter = actions.finalise_letter(letter=complete(
        actions.draft_letter(course=ended_dit_course, kind="gp_discharge", by=therapist)), by=therapist)

    text = " ".join(pdf_text(pdf.render_gp_letter_pdf(letter), tmp_path).split())

    assert "1 risk alert is still open at the time of writing" in text
    assert "Risk alerts during the course (1):" in text
    assert "It is still open (not yet acknowledged)." in text
    assert text.index("Risk alerts during the course") < text.index("Outcome measures")
    assert "[[" not in text
    assert "DRAFT" not in text
