"""Triage of a suitable referral to a step (2 or 3) and a therapy of that step, informed by the
NICE NG222 severity of the latest PHQ-9 (less severe below 16, more severe at 16 or more: NICE
NG222, 2022, "Terms used in this guideline"; DOMAIN.md §6 [V]), with the reason, the patient's
preference and optionally the clinician to allocate. The referral then waits; it may be
triaged again while it waits (audited, version-checked).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from interpersonal.core import protocols
from interpersonal.web.courses.actions import start_course
from interpersonal.web.referrals.models import Referral, Triage
from interpersonal.web.referrals.screening import triage_referral, triaged_protocol
from web.referrals.screening_helpers import PHQ9_CLEAN_15, PHQ9_CLEAN_16, screen, suitable


@pytest.fixture
def suitable_referral(referral, therapist):
    suitable(referral, therapist)
    referral.refresh_from_db()
    return referral


def triage(referral, by, **kw):
    referral.refresh_from_db()
    fields = {"step": 3, "therapy": "ipt", "reason": "Interpersonal problems; prefers not to have CBT.",
              "preferred_therapy": "ipt", "preference": "Talking about my relationships."} | kw
    return triage_referral(referral=referral, by=by, **fields)


def test_triage_to_a_step_and_therapy_sets_the_referral_waiting(suitable_referral, therapist, audit_trail):
    row = triage(suitable_referral, therapist)

    referral = Referral.objects.get(pk=suitable_referral.pk)
    assert (referral.status, referral.step, referral.therapy, referral.triaged_by) == ("waiting", 3, "ipt", therapist)
    assert referral.triage_reason == "Interpersonal problems; prefers not to have CBT."
    assert referral.patient_preference == "Talking about my relationships."
    assert (row.step, row.therapy, row.preferred_therapy, row.by) == (3, "ipt", "ipt", therapist)
    [event] = audit_trail.new()
    assert (event.type, event.data["step"], event.data["therapy"]) == ("referral.triaged", 3, "ipt")
    assert "reason" not in event.data
    assert "preference" not in event.data


def test_the_chosen_preference_is_kept_when_the_patient_gave_no_words(suitable_referral, therapist):
    triage(suitable_referral, therapist, preferred_therapy="no_preference", preference="")

    suitable_referral.refresh_from_db()
    assert suitable_referral.patient_preference == "No preference"


@pytest.mark.parametrize(("step", "therapy"), [(2, "dit"), (2, "ipt"), (3, "lit")])
def test_a_therapy_of_another_step_is_refused_and_changes_nothing(suitable_referral, therapist, step, therapy):
    with pytest.raises(ValidationError) as caught:
        triage(suitable_referral, therapist, step=step, therapy=therapy)

    message = caught.value.message_dict["therapy"][0]
    assert f"is a step {protocols.get(therapy).step} therapy, not step {step}" in message
    referral = Referral.objects.get(pk=suitable_referral.pk)
    assert (referral.status, referral.therapy, referral.version) == ("awaiting_triage", "", suitable_referral.version)
    assert not Triage.objects.exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"step": 4, "therapy": "ipt"}, "step"),
    ({"step": True}, "step"),
    ({"therapy": "hypnosis"}, "therapy"),
    ({"reason": ""}, "reason"),
    ({"reason": "x" * 5001}, "reason"),
    ({"preferred_therapy": "anything"}, "preferred_therapy"),
    ({"preference": "x" * 5001}, "preference"),
])
def test_a_bad_triage_is_refused_and_changes_nothing(suitable_referral, therapist, change, field):
    with pytest.raises(ValidationError) as caught:
        triage(suitable_referral, therapist, **change)

    assert field in caught.value.message_dict
    assert Referral.objects.get(pk=suitable_referral.pk).status == "awaiting_triage"
    assert not Triage.objects.exists()


def test_triage_needs_a_suitable_decision_first(referral, therapist):
    with pytest.raises(ValidationError, match="suitability decision"):
        triage(referral, therapist)
    assert not Triage.objects.exists()


def test_a_clinician_without_a_caseload_cannot_be_allocated(suitable_referral, therapist, service_lead):
    with pytest.raises(ValidationError) as caught:
        triage(suitable_referral, therapist, therapist=service_lead)
    assert "therapist" in caught.value.message_dict


def test_triage_may_allocate_another_clinician(suitable_referral, therapist, unrelated_therapist):
    triage(suitable_referral, therapist, therapist=unrelated_therapist)

    suitable_referral.refresh_from_db()
    assert suitable_referral.therapist == unrelated_therapist


# --- re-triage while waiting ----------------------------------------------------------------------------


def test_re_triage_while_waiting_is_audited_and_keeps_the_earlier_triage(suitable_referral, therapist, audit_trail):
    triage(suitable_referral, therapist)
    triage(suitable_referral, therapist, step=2, therapy="lit", reason="Prefers guided self-help first.",
           preferred_therapy="lit")

    referral = Referral.objects.get(pk=suitable_referral.pk)
    assert (referral.step, referral.therapy, referral.status) == (2, "lit", "waiting")
    assert list(Triage.objects.order_by("at", "id").values_list("therapy", flat=True)) == ["ipt", "lit"]
    assert [e.type for e in audit_trail.new()] == ["referral.triaged", "referral.retriaged"]


def test_re_triage_on_a_stale_copy_is_refused(suitable_referral, therapist):
    shown = Referral.objects.get(pk=suitable_referral.pk).version
    triage(suitable_referral, therapist)

    with pytest.raises(ValidationError, match="Someone else changed"):
        triage_referral(referral=suitable_referral, by=therapist, step=2, therapy="lit", reason="Changed my mind",
                        preferred_therapy="no_preference", expected_version=shown)
    assert Referral.objects.get(pk=suitable_referral.pk).therapy == "ipt"


def test_no_triage_once_in_treatment(suitable_referral, therapist):
    triage(suitable_referral, therapist)
    start_course(patient=suitable_referral.patient, protocol="ipt", therapist=therapist, by=therapist)

    with pytest.raises(ValidationError, match="in treatment"):
        triage(suitable_referral, therapist, step=2, therapy="lit")


def test_the_course_starts_with_the_triaged_therapy(suitable_referral, therapist):
    triage(suitable_referral, therapist, step=3, therapy="dit", preferred_therapy="no_preference")
    suitable_referral.refresh_from_db()

    protocol = triaged_protocol(suitable_referral)

    assert protocol is not None
    assert (protocol.id, protocol.step) == ("dit", 3)


def test_an_untriaged_referral_has_no_triaged_protocol(referral):
    assert triaged_protocol(referral) is None


# --- NICE NG222 severity -------------------------------------------------------------------------------


@pytest.mark.parametrize(("answers", "total", "severity"), [
    (PHQ9_CLEAN_15, 15, "less_severe"),  # NG222: PHQ-9 below 16 is "less severe"
    (PHQ9_CLEAN_16, 16, "more_severe"),  # NG222: 16 or more is "more severe"
])
def test_the_ng222_severity_shown_is_kept_with_the_triage(referral, therapist, answers, total, severity):
    screen(referral, therapist, answers)
    suitable(referral, therapist)

    row = triage(referral, therapist)

    assert (row.phq9_total, row.severity) == (total, severity)


def test_without_a_phq9_the_severity_is_unknown(suitable_referral, therapist):
    assert triage(suitable_referral, therapist).severity == ""


def test_the_triage_page_shows_the_ng222_severity_and_its_source(referral, therapist, client_for):
    screen(referral, therapist, PHQ9_CLEAN_16)

    body = client_for(therapist).get(reverse("screening:triage", args=[referral.pk])).content.decode()

    assert "More severe (PHQ-9 16 or more)" in body
    assert "NICE NG222" in body


# --- the page and who may use it ----------------------------------------------------------------------


def test_the_triage_page_triages(suitable_referral, therapist, client_for):
    response = client_for(therapist).post(reverse("screening:triage", args=[suitable_referral.pk]), {
        "step": "3", "therapy": "dit", "reason": "Long-standing relational pattern.",
        "preferred_therapy": "no_preference", "preference": "", "therapist": "",
        "version": str(suitable_referral.version)})

    assert response.status_code == 302
    assert Referral.objects.get(pk=suitable_referral.pk).therapy == "dit"


def test_the_triage_page_refuses_a_mismatch_with_a_clear_error(suitable_referral, therapist, client_for):
    response = client_for(therapist).post(reverse("screening:triage", args=[suitable_referral.pk]), {
        "step": "2", "therapy": "dit", "reason": "x y z", "preferred_therapy": "no_preference",
        "version": str(suitable_referral.version)})

    assert response.status_code == 400
    assert "is a step 3 therapy, not step 2" in response.content.decode()
    assert not Triage.objects.exists()


def test_a_clinician_who_triages_may_triage_an_unallocated_referral(unallocated, supervisor, therapist):
    suitable(unallocated, supervisor)

    triage(unallocated, supervisor, therapist=therapist)

    unallocated.refresh_from_db()
    assert (unallocated.status, unallocated.therapist) == ("waiting", therapist)


def test_a_therapist_who_does_not_triage_gets_404_for_someone_elses_referral(referral, unrelated_therapist, client_for):
    client = client_for(unrelated_therapist)

    for name in ("screening:referral", "screening:triage", "screening:decide", "screening:contact", "screening:send"):
        assert client.get(reverse(name, args=[referral.pk])).status_code == 404, name
    with pytest.raises(ValidationError):
        suitable(referral, unrelated_therapist)


@pytest.mark.parametrize("persona", ["service_lead", "clinic_admin", "records_officer"])
def test_roles_without_a_caseload_are_refused_before_any_lookup(request, referral, persona, client_for):
    client = client_for(request.getfixturevalue(persona))

    for name in ("screening:referral", "screening:triage", "screening:decide"):
        assert client.get(reverse(name, args=[referral.pk])).status_code == 403, name


def test_once_in_treatment_only_the_cases_clinicians_see_the_referral(suitable_referral, therapist, supervisor,
                                                                     make_user_other_supervisor, client_for):
    """A clinician who triages sees the queue (awaiting triage, waiting) — not a referral in treatment."""
    page = reverse("screening:referral", args=[suitable_referral.pk])
    assert client_for(make_user_other_supervisor).get(page).status_code == 200
    triage(suitable_referral, therapist)
    start_course(patient=suitable_referral.patient, protocol="ipt", therapist=therapist, by=therapist)

    assert client_for(make_user_other_supervisor).get(page).status_code == 404
    assert client_for(supervisor).get(page).status_code == 200  # the therapist's own supervisor reads it
    assert client_for(supervisor).post(reverse("screening:triage", args=[suitable_referral.pk]), {}).status_code == 403
