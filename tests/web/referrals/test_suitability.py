"""Suitability rules as the service's data, and the clinician's suitability decision.

DOMAIN.md §6: suitability rules are typical service rules, [U] as national rules — encoded as
data, seeded with the defaults (adults 18 or 17 years 9 months; significant or imminent suicide
risk → crisis pathway; psychosis F20–F29, bipolar F31, personality disorder F60, organic F00–F09,
substance misuse F10–F19 → secondary care; already under secondary mental health care → refer
on). The rules suggest; a clinician decides, with a reason; the decision is kept and audited,
and signposting or referring on discharges the referral with its NHS end reason.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from interpersonal.core import pathways
from interpersonal.core.codes import EndReason
from interpersonal.web.assessments.actions import acknowledge_alert
from interpersonal.web.referrals.models import Referral, ScreeningDecision, SuitabilityRule
from interpersonal.web.referrals.screening import decide_suitability, evaluate_referral, save_rule
from web.referrals.screening_helpers import PHQ9_CLEAN_15, PHQ9_ITEM9_ONE, PHQ9_ITEM9_THREE, screen, suitable

# --- the seeded defaults ---------------------------------------------------------------------------


def test_the_defaults_of_domain_md_section_6_are_seeded_unconfirmed(db):
    rules = list(SuitabilityRule.objects.all())

    assert rules
    assert all(not r.confirmed and r.active for r in rules)
    assert all(r.description.startswith("[U]") for r in rules), "every default says it is unconfirmed"
    assert all("DOMAIN.md §6" in r.source for r in rules)


def test_the_seeded_rules_cover_every_rule_of_domain_md_section_6(db):
    """Age, crisis risk, each excluded problem descriptor and secondary care (DOMAIN.md §6)."""
    by_kind: dict[str, list[SuitabilityRule]] = {}
    for r in SuitabilityRule.objects.all():
        by_kind.setdefault(r.kind, []).append(r)

    assert [(r.params, r.outcome) for r in by_kind["min_age"]] == [({"years": 18, "months": 0}, "signpost")]
    crisis = [r for r in by_kind["risk"] if r.params["clinician_judgement"]]
    assert [(r.params["phq9_item9_at_least"], r.outcome) for r in crisis] == [(3, "signpost")]
    codes = {tuple(r.params["codes"]): r.outcome for r in by_kind["problem_descriptor"]}
    assert codes == {("F20-F29",): "refer_on", ("F31",): "refer_on", ("F60",): "refer_on",
                     ("F00-F09",): "refer_on", ("F10-F19",): "review"}  # unmanaged or not: a clinician says
    assert [r.outcome for r in by_kind["secondary_care"]] == ["refer_on"]


def test_every_seeded_rule_is_valid_for_the_core(db):
    for r in SuitabilityRule.objects.all():
        pathways.Rule(id=r.pk, name=r.name, kind=r.kind, params=r.params, outcome=r.outcome)


# --- evaluating one referral -------------------------------------------------------------------------


def test_a_referral_with_no_answers_yet_is_incomplete_not_suitable(referral):
    """Risk never hidden: with no PHQ-9 and no clinician's judgement, the risk rules are not passed."""
    result = evaluate_referral(referral)

    assert result.evaluation.suggestion is pathways.Suggestion.INCOMPLETE
    assert {f.rule.kind for f in result.evaluation.unknown} >= {pathways.RuleKind.RISK, pathways.RuleKind.SECONDARY_CARE}


def test_the_referrals_facts_reach_the_rules(referral, therapist):
    screen(referral, therapist, PHQ9_ITEM9_THREE)

    result = evaluate_referral(referral, clinician_risk=False, under_secondary_care=False, problem_descriptor="F31.1")

    fired = {f.rule.name for f in result.evaluation.fired}
    assert {"Significant or imminent suicide risk", "Thoughts of self-harm at screening (PHQ-9 item 9 above 0)",
            "Bipolar affective disorder (F31)"} <= fired
    assert result.evaluation.suggestion is pathways.Suggestion.SIGNPOST  # the crisis pathway first
    assert result.facts.phq9_item9 == 3


def test_an_inactive_rule_is_not_checked(referral, therapist, service_lead):
    rule = SuitabilityRule.objects.get(kind="secondary_care")
    save_rule(by=service_lead, rule=rule, **_fields(rule, active=False))

    result = evaluate_referral(referral, clinician_risk=False, under_secondary_care=True)

    assert rule.pk not in {f.rule.id for f in result.evaluation.findings}


# --- the decision ------------------------------------------------------------------------------------


def test_a_suitable_decision_is_kept_with_the_rules_who_and_when(referral, therapist, audit_trail):
    screen(referral, therapist, PHQ9_CLEAN_15)
    audit_trail.mark()

    row = suitable(referral, therapist)

    assert (row.decision, row.decided_by, row.clinician_risk, row.under_secondary_care) == (
        "suitable", therapist, False, False)
    assert row.suggestion == "suitable"
    assert row.fired_rule_ids == []
    assert len(row.findings) == SuitabilityRule.objects.filter(active=True).count()
    assert row.phq9_item9 == 0
    referral.refresh_from_db()
    assert (referral.status, referral.version) == (Referral.Status.AWAITING_TRIAGE, 2)
    [event] = audit_trail.new()
    assert (event.type, event.actor_id, event.patient_id) == ("referral.screening_decided", therapist.pk,
                                                              referral.patient_id)
    assert event.data["decision"] == "suitable"
    assert event.data["fired_rule_ids"] == []
    assert "reason" not in event.data  # identifiers and codes only (ADR 0004)


@pytest.mark.parametrize(("decision", "end_reason", "nhs_code"), [
    ("signposted", EndReason.SIGNPOSTED, 11),
    ("referred_on", EndReason.REFERRED_ON, 13),
    ("not_suitable", EndReason.NOT_SUITABLE, 10),
])
def test_a_discharging_decision_ends_the_referral_with_its_end_code(referral, therapist, audit_trail, decision,
                                                                     end_reason, nhs_code):
    """NHS Talking Therapies end codes: 13 referred on [V]; 10, 11 unconfirmed (core.codes)."""
    row = suitable(referral, therapist, decision=decision, reason="Psychosis: to the early intervention team.",
                   problem_descriptor="F20")

    referral.refresh_from_db()
    assert (referral.status, referral.end_reason, row.end_reason) == ("discharged", end_reason.value, end_reason.value)
    assert end_reason.nhs_code == nhs_code
    assert [e.type for e in audit_trail.new()] == ["referral.screening_decided", "referral.discharged"]
    assert audit_trail.new()[-1].data["nhs_end_code"] == nhs_code


def test_a_clinician_may_decide_against_the_suggestion_and_both_are_kept(referral, therapist):
    row = suitable(referral, therapist, problem_descriptor="F31", reason="Bipolar disorder, stable for years; "
                                                                        "depression is the problem now.")

    assert (row.decision, row.suggestion) == ("suitable", "refer_on")
    assert [f["name"] for f in row.findings if f["fired"]] == ["Bipolar affective disorder (F31)"]
    assert row.fired_rule_ids == [SuitabilityRule.objects.get(name__startswith="Bipolar").pk]


def test_the_problem_descriptor_is_updated_with_the_decision(referral, therapist):
    suitable(referral, therapist, problem_descriptor="f41.1")

    referral.refresh_from_db()
    assert referral.problem_descriptor == "F41.1"


def test_a_discharging_decision_waits_until_every_risk_alert_is_acknowledged(referral, therapist):
    """Risk is never left behind a discharge: acknowledge it, saying what was done, first."""
    alert = screen(referral, therapist, PHQ9_ITEM9_ONE).risk_alert

    with pytest.raises(ValidationError, match="open risk alert"):
        suitable(referral, therapist, decision="signposted", reason="Crisis team", clinician_risk=True)
    referral.refresh_from_db()
    assert referral.is_open
    assert not ScreeningDecision.objects.exists()

    acknowledge_alert(alert=alert, by=therapist, note="Crisis line details given; crisis team called.")
    suitable(referral, therapist, decision="signposted", reason="Crisis team", clinician_risk=True)
    referral.refresh_from_db()
    assert referral.end_reason == "signposted"


def test_a_suitable_decision_is_allowed_with_a_risk_alert_open_and_the_alert_stays_open(referral, therapist):
    alert = screen(referral, therapist, PHQ9_ITEM9_ONE).risk_alert

    suitable(referral, therapist)

    alert.refresh_from_db()
    assert alert.open


@pytest.mark.parametrize(("change", "field"), [
    ({"decision": "maybe"}, "decision"),
    ({"reason": ""}, "reason"),
    ({"reason": "x" * 5001}, "reason"),
    ({"reason": "a\x00b"}, "reason"),
    ({"clinician_risk": None}, "clinician_risk"),
    ({"under_secondary_care": "no"}, "under_secondary_care"),
    ({"problem_descriptor": "depression"}, "problem_descriptor"),
])
def test_a_bad_decision_is_refused_and_changes_nothing(referral, therapist, change, field):
    with pytest.raises(ValidationError) as caught:
        suitable(referral, therapist, **change)

    assert field in caught.value.message_dict
    referral.refresh_from_db()
    assert (referral.version, referral.status) == (1, "awaiting_triage")
    assert not ScreeningDecision.objects.exists()


def test_a_decision_on_a_stale_copy_is_refused(referral, therapist):
    suitable(referral, therapist)

    with pytest.raises(ValidationError, match="Someone else changed"):
        decide_suitability(referral=referral, decision="referred_on", reason="Reconsidered", by=therapist,
                           clinician_risk=False, under_secondary_care=True, expected_version=1)
    assert ScreeningDecision.objects.count() == 1


def test_no_decision_once_in_treatment(referral, therapist):
    from interpersonal.web.courses.actions import start_course

    start_course(patient=referral.patient, protocol="ipt", therapist=therapist, by=therapist)

    with pytest.raises(ValidationError, match="in treatment"):
        suitable(referral, therapist)


@pytest.mark.parametrize("persona", ["unrelated_therapist", "service_lead", "clinic_admin", "records_officer"])
def test_only_the_referrals_clinicians_or_a_triager_decide(request, referral, persona):
    with pytest.raises(ValidationError):
        suitable(referral, request.getfixturevalue(persona))
    assert not ScreeningDecision.objects.exists()


def test_a_clinician_who_triages_decides_for_an_unallocated_referral(unallocated, make_user_other_supervisor):
    row = suitable(unallocated, make_user_other_supervisor)

    assert row.decided_by == make_user_other_supervisor


# --- the decision page ----------------------------------------------------------------------------------


def test_checking_against_the_rules_saves_nothing_and_shows_the_suggestion(referral, therapist, client_for):
    response = client_for(therapist).post(reverse("screening:decide", args=[referral.pk]), {
        "check": "1", "clinician_risk": "yes", "under_secondary_care": "no", "problem_descriptor": "F32",
        "version": "1"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "Signpost elsewhere" in body
    assert "The screening clinician judged the risk significant or imminent" in body
    assert not ScreeningDecision.objects.exists()


def test_the_decision_page_records_the_decision(referral, therapist, client_for):
    response = client_for(therapist).post(reverse("screening:decide", args=[referral.pk]), {
        "decide": "1", "clinician_risk": "no", "under_secondary_care": "yes", "problem_descriptor": "F32",
        "decision": "referred_on", "reason": "Under the community mental health team already.", "version": "1"})

    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.end_reason) == ("discharged", "referred_on")


def test_the_decision_page_needs_a_decision_and_a_reason(referral, therapist, client_for):
    response = client_for(therapist).post(reverse("screening:decide", args=[referral.pk]), {
        "decide": "1", "clinician_risk": "no", "under_secondary_care": "no", "version": "1"})

    assert response.status_code == 400
    assert "Choose the decision." in response.content.decode()
    assert not ScreeningDecision.objects.exists()


# --- the rules pages ------------------------------------------------------------------------------------


def _fields(rule, **change):
    return {"name": rule.name, "kind": rule.kind, "params": rule.params, "outcome": rule.outcome,
            "message": rule.message, "description": rule.description, "source": rule.source,
            "confirmed": rule.confirmed, "active": rule.active, "position": rule.position} | change


def _form(rule, **change):
    data = {"name": rule.name, "kind": rule.kind, "outcome": rule.outcome, "message": rule.message,
            "description": rule.description, "source": rule.source, "position": str(rule.position),
            "version": str(rule.version), "active": "on",
            "years": rule.params.get("years", ""), "months": rule.params.get("months", ""),
            "phq9_item9_at_least": rule.params.get("phq9_item9_at_least") or "",
            "codes": ", ".join(rule.params.get("codes", []))}
    if rule.params.get("clinician_judgement"):
        data["clinician_judgement"] = "on"
    return data | change


def test_every_clinician_reads_the_rules_and_sees_which_are_unconfirmed(db, therapist, client_for):
    response = client_for(therapist).get(reverse("screening:rules"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "[U] unconfirmed" in body
    assert "Psychosis (F20–F29)" in body
    assert reverse("screening:rule_new") not in body  # reading, not editing


def test_the_service_lead_changes_a_rule_to_17_years_9_months(db, service_lead, client_for, audit_trail):
    """DOMAIN.md §6: 'adults (≥ 17 y 9 m or ≥ 18 by service)'."""
    rule = SuitabilityRule.objects.get(kind="min_age")
    client = client_for(service_lead)
    audit_trail.mark()

    response = client.post(reverse("screening:rule_edit", args=[rule.pk]),
                           _form(rule, years="17", months="9", confirmed="on"))

    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.params, rule.confirmed, rule.version) == ({"years": 17, "months": 9}, True, 2)
    [event] = audit_trail.new()
    assert (event.type, event.data["changed"]) == ("suitability_rule.changed", ["params", "confirmed"])


def test_an_administrator_adds_a_rule(db, clinic_admin, client_for):
    response = client_for(clinic_admin).post(reverse("screening:rule_new"), {
        "name": "Eating disorders", "kind": "problem_descriptor", "outcome": "refer_on", "codes": "F50",
        "message": "Refer to the eating disorders service.", "position": "95", "active": "on"})

    assert response.status_code == 302
    rule = SuitabilityRule.objects.get(name="Eating disorders")
    assert (rule.params, rule.confirmed) == ({"codes": ["F50"]}, False)


@pytest.mark.parametrize(("change", "field"), [
    ({"kind": "problem_descriptor", "codes": "depression"}, "codes"),
    ({"kind": "min_age", "years": "0", "months": "0"}, "years"),
    ({"kind": "risk", "phq9_item9_at_least": ""}, "phq9_item9_at_least"),
    ({"message": ""}, "message"),
])
def test_a_bad_rule_is_refused_and_changes_nothing(db, service_lead, client_for, change, field):
    rule = SuitabilityRule.objects.get(kind="risk", outcome="review")

    response = client_for(service_lead).post(reverse("screening:rule_edit", args=[rule.pk]), _form(rule, **change))

    assert response.status_code == 400
    assert field in response.context["form"].errors or response.context["form"].non_field_errors()
    rule.refresh_from_db()
    assert rule.version == 1


def test_a_rule_changed_meanwhile_is_not_overwritten(db, service_lead, clinic_admin, client_for):
    rule = SuitabilityRule.objects.get(kind="secondary_care")
    save_rule(by=clinic_admin, rule=rule, **_fields(rule, message="Liaise with the care coordinator."))

    response = client_for(service_lead).post(reverse("screening:rule_edit", args=[rule.pk]),
                                             _form(rule, message="Refer back to the CMHT."))

    assert response.status_code == 400
    assert "Someone else changed this rule" in response.content.decode()
    rule.refresh_from_db()
    assert rule.message == "Liaise with the care coordinator."


@pytest.mark.parametrize("persona", ["therapist", "supervisor", "records_officer"])
def test_clinicians_and_records_officers_may_not_change_the_rules(request, db, persona, client_for):
    user = request.getfixturevalue(persona)
    rule = SuitabilityRule.objects.first()

    assert client_for(user).post(reverse("screening:rule_edit", args=[rule.pk]), _form(rule, name="x")).status_code == 403
    with pytest.raises(ValidationError, match="service lead"):
        save_rule(by=user, rule=rule, **_fields(rule, name="x"))
    rule.refresh_from_db()
    assert rule.version == 1
