"""Letters: drafting from the formulation and outcomes, optimistic locking, finalising."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from interpersonal.web.letters import actions
from interpersonal.web.letters.models import Letter, LetterRevision

pytestmark = pytest.mark.django_db


def test_goodbye_draft_holds_the_ipaf_and_the_outcomes_in_plain_words(ended_dit_course, therapist):
    letter = actions.draft_letter(course=ended_dit_course, kind="goodbye", by=therapist)

    assert letter.status == Letter.Status.DRAFT
    assert letter.version == 1
    assert letter.number == 1
    body = letter.body
    assert body.startswith("Dear Pat,")
    for text in ("not good enough and easily dismissed", "critical and hard to please", "ashamed, then quietly angry",
                 "you withdrew and kept your needs to yourself", "your mood sank"):
        assert text in body
    assert "We met for 4 sessions." in body
    assert "went from 18 to 6" in body
    assert "went from 14 to 5" in body
    assert "real improvement" in body
    assert "below the level" in body
    for jargon in ("RCI", "reliable change index", "caseness", "PHQ-9", "GAD-7", "Jacobson"):
        assert jargon not in body


def test_gp_draft_uses_measure_names_and_nhs_talking_therapies_terms(ended_dit_course, therapist):
    body = actions.draft_letter(course=ended_dit_course, kind="gp_discharge", by=therapist).body

    assert "PHQ-9: 18 (Moderately severe) at the start, 6 (Mild) at the end; reliable improvement" in body
    assert "GAD-7: 14" in body
    assert "NHS Talking Therapies outcome: recovered, reliable recovery, reliable improvement." in body
    assert "critical and hard to please" in body


def test_ipt_summary_draft_holds_focal_area_goals_and_formulation(other_patient, unrelated_therapist):
    from interpersonal.web.formulation.models import FocalArea, IptFormulation

    course = other_patient.courses.get()
    formulation = IptFormulation.objects.create(course=course, formulation="Low mood began when the arguments at home grew.")
    FocalArea.objects.create(formulation=formulation, area="role_dispute", dispute_stage="renegotiation",
                             goals="to say what I need without shouting")

    body = actions.draft_letter(course=course, kind="ending_summary", by=unrelated_therapist).body

    assert "We agreed to focus on role dispute (a disagreement at the stage of renegotiation)." in body
    assert "to say what I need without shouting" in body
    assert "arguments at home grew" in body
    assert "not have enough questionnaires" in body


def test_wrong_kind_for_the_therapy_refused(ended_dit_course, therapist):
    with pytest.raises(ValidationError, match="can have"):
        actions.draft_letter(course=ended_dit_course, kind="ending_summary", by=therapist)


def test_second_open_draft_of_a_kind_refused(ended_dit_course, therapist):
    actions.draft_letter(course=ended_dit_course, kind="goodbye", by=therapist)

    with pytest.raises(ValidationError, match="already a draft"):
        actions.draft_letter(course=ended_dit_course, kind="goodbye", by=therapist)
    assert Letter.objects.filter(course=ended_dit_course).count() == 1


def test_only_the_course_therapist_drafts(ended_dit_course, supervisor, unrelated_therapist):
    for user in (supervisor, unrelated_therapist):
        with pytest.raises(ValidationError, match="Only the course's therapist"):
            actions.draft_letter(course=ended_dit_course, kind="goodbye", by=user)


def test_edit_saves_and_bumps_the_version(ended_dit_course, therapist):
    letter = actions.draft_letter(course=ended_dit_course, kind="goodbye", by=therapist)

    saved = actions.edit_letter(letter=letter, by=therapist, expected_version=1, body="Dear Pat,\n\nThank you.")

    assert saved.version == 2
    assert saved.body == "Dear Pat,\n\nThank you.\n"
    assert list(LetterRevision.objects.filter(letter=letter).values_list("version", flat=True)) == [1, 2]


def test_stale_edit_refused_with_what_changed_meanwhile_and_nothing_saved(ended_dit_course, therapist):
    letter = actions.draft_letter(course=ended_dit_course, kind="goodbye", by=therapist)
    original = letter.body
    # The first of two open editors saves...
    first = original.replace("With warm wishes,", "With very warm wishes,")
    actions.edit_letter(letter=letter, by=therapist, expected_version=1, body=first)

    # ...then the second, who opened version 1 too.
    with pytest.raises(actions.StaleLetter) as refused:
        actions.edit_letter(letter=letter, by=therapist, expected_version=1, body=original + "\nP.S. Take care.")

    message = " ".join(refused.value.messages)
    assert "Not saved: Tess Therapist saved this letter" in message
    assert "-With warm wishes," in message
    assert "+With very warm wishes," in message
    letter.refresh_from_db()
    assert letter.version == 2
    assert letter.body == first.strip() + "\n"
    assert "P.S." not in letter.body


def test_changes_between_is_a_short_unified_diff():
    assert actions.changes_between("a\nb\nc", "a\nB\nc") == "@@ -2 +2 @@\n-b\n+B"
    long = actions.changes_between("", "\n".join(str(i) for i in range(100)))
    assert long.splitlines()[-1].startswith("… and ")


def test_finalised_letter_is_immutable(ended_dit_course, therapist):
    letter = actions.draft_letter(course=ended_dit_course, kind="goodbye", by=therapist)
    actions.finalise_letter(letter=letter, by=therapist)

    with pytest.raises(ValidationError, match="final"):
        actions.edit_letter(letter=letter, by=therapist, expected_version=1, body="changed")
    with pytest.raises(ValidationError, match="final"):
        actions.finalise_letter(letter=letter, by=therapist)
    stored = Letter.objects.get(pk=letter.pk)
    stored.body = "changed behind the actions' back"
    with pytest.raises(ValidationError, match="cannot be changed"):
        stored.save()
    stored = Letter.objects.get(pk=letter.pk)
    stored.status = Letter.Status.DRAFT
    with pytest.raises(ValidationError, match="cannot be changed"):
        stored.save()
    with pytest.raises(ValidationError):
        stored.delete()
    assert Letter.objects.get(pk=letter.pk).body == letter.body


def test_new_version_supersedes_the_final_letter(ended_dit_course, therapist):
    letter = actions.draft_letter(course=ended_dit_course, kind="gp_discharge", by=therapist)
    final = actions.finalise_letter(letter=letter, by=therapist)

    second = actions.new_version(letter=final, by=therapist)

    assert second.number == 2
    assert second.status == Letter.Status.DRAFT
    assert second.version == 1
    assert second.supersedes_id == final.pk
    assert second.body == final.body
    with pytest.raises(ValidationError, match="newer version"):
        actions.new_version(letter=final, by=therapist)
    with pytest.raises(ValidationError, match="still a draft"):
        actions.new_version(letter=second, by=therapist)


def test_audit_events_hold_identifiers_never_the_letter_text(ended_dit_course, therapist, audit_trail):
    letter = actions.draft_letter(course=ended_dit_course, kind="goodbye", by=therapist)
    actions.edit_letter(letter=letter, by=therapist, expected_version=1, body="Dear Pat,\n\nA private sentence.")
    actions.finalise_letter(letter=letter, by=therapist)
    actions.record_download(letter=letter, by=therapist)

    events = [e for e in audit_trail.new() if e.type.startswith("letter.")]
    assert [e.type for e in events] == ["letter.generated", "letter.edited", "letter.finalised", "letter.downloaded"]
    for e in events:
        assert e.target_type == "letter"
        assert e.target_id == str(letter.pk)
        assert e.patient_id == ended_dit_course.patient_id
        text = repr(e.data)
        assert "Dear" not in text
        assert "private" not in text
        assert "ashamed" not in text
        assert set(e.data) <= {"course_id", "kind", "number", "version", "status", "supersedes", "document_id"}


def test_edit_refuses_a_body_over_the_bound_and_saves_nothing(ended_dit_course, therapist):
    from interpersonal.web.letters.models import MAX_BODY_CHARS

    letter = actions.draft_letter(course=ended_dit_course, kind="goodbye", by=therapist)

    with pytest.raises(ValidationError, match="a letter can hold at most 20,000"):
        actions.edit_letter(letter=letter, by=therapist, expected_version=1, body="x" * (MAX_BODY_CHARS + 1))

    letter.refresh_from_db()
    assert letter.version == 1
    assert LetterRevision.objects.filter(letter=letter).count() == 1
