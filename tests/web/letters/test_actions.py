"""Letters: drafting from the formulation and outcomes, optimistic locking, finalising."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

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


def test_finalised_letter_is_immutable(ended_dit_course, therapist, complete):
    letter = complete(actions.draft_letter(course=ended_dit_course, kind="goodbye", by=therapist))
    actions.finalise_letter(letter=letter, by=therapist)

    with pytest.raises(ValidationError, match="final"):
        actions.edit_letter(letter=letter, by=therapist, expected_version=letter.version, body="changed")
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


def test_new_version_supersedes_the_final_letter(ended_dit_course, therapist, complete):
    letter = complete(actions.draft_letter(course=ended_dit_course, kind="gp_discharge", by=therapist))
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


# -- prompts left by the first draft ---------------------------------------------------------

def test_placeholders_lists_each_prompt_and_a_half_deleted_one():
    body = "Dear Pat,\n\n[[What you hope\nfor the patient.]]\n\nWith [[sic]] wishes [[ unfinished"

    assert actions.placeholders(body) == ["[[What you hope for the patient.]]", "[[sic]]",
                                          "an unfinished prompt (a [[ or ]] without its pair)"]
    assert actions.placeholders("Dear Pat, [single brackets] are the therapist's own.") == []
    assert actions.unfinished("Dear Pat,\n\nAll written.") is None


@pytest.mark.parametrize("kind", ["goodbye", "gp_discharge"])
def test_every_first_draft_has_prompts_and_cannot_be_finalised_until_they_are_replaced(ended_dit_course, therapist,
                                                                                      kind, complete):
    letter = actions.draft_letter(course=ended_dit_course, kind=kind, by=therapist)
    prompts = actions.placeholders(letter.body)
    assert prompts  # the plan and what the therapist hopes are the therapist's to write

    with pytest.raises(ValidationError) as refused:
        actions.finalise_letter(letter=letter, by=therapist, expected_version=letter.version)

    assert "still has" in str(refused.value)
    assert prompts[0] in str(refused.value)  # the message names what remains
    assert not Letter.objects.get(pk=letter.pk).is_final
    final = actions.finalise_letter(letter=complete(letter), by=therapist)
    assert final.is_final


def test_finalise_with_text_saves_it_first_and_a_refusal_saves_nothing(ended_dit_course, therapist):
    letter = actions.draft_letter(course=ended_dit_course, kind="goodbye", by=therapist)
    still_prompting = letter.body.replace("With warm wishes", "With all good wishes")

    with pytest.raises(ValidationError, match="still has 1 prompt"):
        actions.finalise_letter(letter=letter, by=therapist, expected_version=1, body=still_prompting)

    stored = Letter.objects.get(pk=letter.pk)
    assert (stored.version, stored.body, stored.is_final) == (1, letter.body, False)
    assert LetterRevision.objects.filter(letter=letter).count() == 1

    written = actions.PLACEHOLDER.sub("I hope you keep going to the walking group.", still_prompting)
    final = actions.finalise_letter(letter=letter, by=therapist, expected_version=1, body=written)

    assert final.is_final
    assert final.version == 2
    assert "walking group" in final.body
    assert "With all good wishes" in final.body


# -- the drafts read as letters ---------------------------------------------------------------

FIELD_LABEL = re.compile(r"^(?:[A-Z][a-z]+(?: [a-z]+){0,3}): ", re.MULTILINE)
"""A line that starts like a form's field ("Presenting problem: …", "Goals: …")."""


def test_letters_to_the_patient_speak_to_them_as_a_clinician_writes(ended_dit_course, therapist, other_patient,
                                                                   unrelated_therapist):
    from interpersonal.web.formulation.models import FocalArea, IptFormulation

    ipt = other_patient.courses.get()
    formulation = IptFormulation.objects.create(course=ipt, formulation="Low mood began when the arguments at home grew.")
    FocalArea.objects.create(formulation=formulation, area="role_dispute", dispute_stage="renegotiation",
                             goals="to say what I need without shouting")
    goodbye = actions.draft_letter(course=ended_dit_course, kind="goodbye", by=therapist).body
    summary = actions.draft_letter(course=ipt, kind="ending_summary", by=unrelated_therapist).body

    for body in (goodbye, summary):
        prose = actions.PLACEHOLDER.sub("", body)
        assert FIELD_LABEL.search(prose) is None, FIELD_LABEL.search(prose)
        assert re.search(r"\byou\b", prose)
        assert re.search(r"\byour\b", prose)
        assert "the patient" not in prose  # only the prompts to the therapist say "the patient"
        assert "NHS 111" in prose  # where to turn if things get worse (settings.INTERPERSONAL_CRISIS_MESSAGE)
        assert prose.rstrip().endswith("therapist")
    assert "The goal you set yourself was “to say what I need without shouting”." in summary
    assert "Your goals were" not in summary
    assert "How we understood what was happening:" not in summary
    assert "You often found yourself feeling not good enough and easily dismissed, while other people seemed " \
           "critical and hard to please." in goodbye


# -- risk in the GP letter --------------------------------------------------------------------

def test_gp_draft_states_current_risk_and_every_alert_of_the_course_in_the_body(ended_dit_course, therapist,
                                                                               supervisor):
    """The GP is told the risk in the letter itself: the latest answers to the risk items, every
    alert raised (what, when), whether it was acknowledged and what was done, and which are open."""
    import datetime as dt

    from django.utils import timezone

    from interpersonal.web.assessments.actions import acknowledge_alert, record_measurement
    from interpersonal.web.courses.actions import record_session
    from tests.conftest import PHQ9_ITEM9_ONE

    first = record_session(course=ended_dit_course, by=therapist, attendance=5, duration_minutes=50,
                           scheduled_at=timezone.now() - dt.timedelta(days=3))
    raised = record_measurement(course=ended_dit_course, instrument="phq9", answers=PHQ9_ITEM9_ONE, by=therapist,
                                session=first, recorded_at=first.scheduled_at).risk_alert
    acknowledge_alert(alert=raised, by=supervisor, note="Spoke to Pat by phone the same day; no plans, safety plan agreed")
    last = record_session(course=ended_dit_course, by=therapist, attendance=5, duration_minutes=50,
                          scheduled_at=timezone.now() - dt.timedelta(days=1))
    record_measurement(course=ended_dit_course, instrument="phq9", answers={**PHQ9_ITEM9_ONE, "9": 2}, by=therapist,
                       session=last, recorded_at=last.scheduled_at)

    body = actions.draft_letter(course=ended_dit_course, kind="gp_discharge", by=therapist).body
    text = " ".join(body.split())

    assert body.index("Current risk: ") < body.index("Outcome measures")  # risk comes first, in the body
    assert "1 risk alert is still open at the time of writing" in text
    assert (f"At the last PHQ-9, on {last.scheduled_at.astimezone(timezone.get_current_timezone()).day} "
            in text)
    assert "item 9 (thoughts of being better off dead or of self-harm) was answered 2 (“more than half the days”)" in text
    assert "Risk alerts during the course (2):" in text
    assert ("an alert was raised by the PHQ-9: item 9 (thoughts of being better off dead or of self-harm) answered 1 "
            f"(“several days”). {supervisor.display_name} acknowledged it on") in text
    assert "Spoke to Pat by phone the same day; no plans, safety plan agreed." in text
    assert "answered 2 (“more than half the days”). It is still open (not yet acknowledged)." in text
    assert "[[Your assessment of Pat's current risk" in text  # the therapist's own assessment is required


def test_gp_draft_says_when_no_alert_was_raised(ended_dit_course, therapist):
    body = actions.draft_letter(course=ended_dit_course, kind="gp_discharge", by=therapist).body

    assert "No risk alert was raised during the course." in body
    assert "still open" not in body
    assert "item 9 (thoughts of being better off dead or of self-harm) was answered 0 (“not at all”)" in body


def test_gp_draft_gives_the_ipaf_as_a_sentence_quoting_the_formulation(ended_dit_course, therapist):
    body = actions.draft_letter(course=ended_dit_course, kind="gp_discharge", by=therapist).body

    assert ("The work focused on an interpersonal affective focus (IPAF), agreed with Pat: Pat's sense of self as "
            "“not good enough and easily dismissed”, in relation to others experienced as “critical and hard to "
            "please”, with the feeling “ashamed, then quietly angry”") in body
    assert "self: " not in body
    assert "defensive function: " not in body


def test_gp_draft_includes_alerts_raised_at_screening_and_from_an_unsent_questionnaire(ended_dit_course, therapist):
    """An alert of the course's referral raised at screening is part of the risk history; one raised
    as the patient saved a risk answer (no measurement yet) met the threshold — never "not answered"."""
    import datetime as dt

    from django.utils import timezone

    from interpersonal.web.assessments.actions import raise_alert

    at_screening = timezone.now() - dt.timedelta(days=60)
    raise_alert(referral=ended_dit_course.referral, instrument="phq9", items=["9"], by=therapist, raised_at=at_screening)
    raise_alert(course=ended_dit_course, instrument="gad7", items=["9"], by=therapist)  # not a risk item of the GAD-7

    body = " ".join(actions.draft_letter(course=ended_dit_course, kind="gp_discharge", by=therapist).body.split())

    assert "Risk alerts during the course (2):" in body
    assert (f"On {timezone.localdate(at_screening).day} {timezone.localdate(at_screening):%B %Y} at screening, before "
            "treatment, an alert was raised by the PHQ-9: item 9 (thoughts of being better off dead or of self-harm) "
            "answered at or above its risk threshold, in a questionnaire not yet sent. It is still open") in body
    assert "item 9 (risk item) answered at or above its risk threshold" in body  # an unknown item is still said
    assert "2 risk alerts are still open at the time of writing" in body
    assert " not answered" not in body


def test_the_gp_letter_states_the_latest_risk_assessments_level_and_date(ended_dit_course, therapist):
    from interpersonal.web.assessments.actions import record_risk_assessment

    due = timezone.localdate() + dt.timedelta(days=14)
    first = record_risk_assessment(course=ended_dit_course, by=therapist, reviews=None, review_due=due,
                                   assessment={"overall_level": "medium", "formulation": "Passive ideation."},
                                   safety_plan={})
    record_risk_assessment(course=ended_dit_course, by=therapist, reviews=first, review_due=due,
                           assessment={"overall_level": "low", "formulation": "Settled."}, safety_plan={})
    today = timezone.localdate()

    body = actions.draft_letter(course=ended_dit_course, kind="gp_discharge", by=therapist).body
    text = " ".join(body.split())

    assert (f"The latest risk assessment ({today.day} {today:%b %Y}, by Tess Therapist) judged the overall risk "
            f"level Low; its review is due by {due.day} {due:%b %Y}.") in text
    assert text.index("The latest risk assessment") < text.index("Outcome measures")
