"""The referral inbox for staff: who sees it and what, the referrals it lists and flags, the form
for GP and professional referrals (finding the registered patient first), the referral page and
the possible-duplicate decision; every read and change audited."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.accounts.roles import REACH_PERMISSIONS, Permission, has_permission
from interpersonal.web.assessments.models import RiskAlert
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.patients.models import Patient
from interpersonal.web.referrals import actions, formtokens, panels
from interpersonal.web.referrals.models import Referral, SelfReferral

pytestmark = pytest.mark.django_db

INBOX = "/referrals/"
NEW = "/referrals/new/"


def self_refer(**changes) -> SelfReferral:
    data = {"given_name": "Morgan", "family_name": "Selfton", "dob_day": "14", "dob_month": "3", "dob_year": "1985",
            "phone": "07700 900982", "contact_method": "phone", "leave_message": "yes",
            "gp_practice": "Riverside Surgery", "presenting_problem": "Worrying all the time.", "consent": "on",
            "started": formtokens.start_token(now=time.time() - 60)}
    data.update(changes)
    assert Client().post("/refer/", data).status_code == 302
    return SelfReferral.objects.order_by("-pk").first()


def gp_referral(by, *, days_ago: int = 10, **changes) -> Referral:
    fields = {"given_name": "Gale", "family_name": "Practiceton", "date_of_birth": dt.date(1972, 6, 1),
              "received_on": timezone.localdate() - dt.timedelta(days=days_ago), "source": "gp",
              "referrer": "Dr Example, Riverside Surgery", "presenting_problem": "Low mood."}
    fields.update(changes)
    return actions.record_referral(by=by, **fields)


def screening_alert(referral: Referral) -> RiskAlert:
    """An alert raised at screening (no course). Screening itself is built elsewhere (issue 13,
    part 3); the row is what it will leave, made directly here."""
    return RiskAlert.objects.create(referral=referral, instrument="phq9", items=["9"], raised_at=timezone.now())


# --- who may use it --------------------------------------------------------------------------


def test_triaging_clinicians_work_the_inbox_the_service_lead_sees_a_queue_and_nobody_else_gets_in(
        client_for, therapist, supervisor, service_lead, clinic_admin, records_officer):
    assert client_for(supervisor).get(INBOX).status_code == 200
    assert client_for(supervisor).get(NEW).status_code == 200
    # A therapist works their own caseload; triage is a duty given to senior clinicians (supervisors).
    assert client_for(therapist).get(INBOX).status_code == 403
    assert client_for(therapist).get(NEW).status_code == 403
    assert client_for(service_lead).get(INBOX).status_code == 200
    assert client_for(service_lead).get(NEW).status_code == 403
    for user in (clinic_admin, records_officer):
        assert client_for(user).get(INBOX).status_code == 403
        assert client_for(user).get(NEW).status_code == 403
    assert Client().get(INBOX).status_code == 302  # to sign in


def test_working_the_inbox_opens_records_so_it_is_a_reach_permission():
    """ADR 0008: granting a permission that opens identifiable records takes two people."""
    assert Permission.TRIAGE_REFERRALS in REACH_PERMISSIONS
    assert Permission.VIEW_REFERRAL_QUEUE not in REACH_PERMISSIONS


def test_the_service_lead_sees_waits_and_flags_but_no_name(client_for, service_lead, triager):
    submission = self_refer()
    body = client_for(service_lead).get(INBOX).content.decode()

    assert f"R{submission.referral.pk}" in body
    assert "Self-referral" in body
    for secret in ("Morgan", "Selfton", submission.referral.patient.local_id, "Worrying"):
        assert secret not in body
    assert client_for(service_lead).get(reverse("referrals:detail", args=[submission.referral.pk])).status_code == 403


def test_the_navigation_shows_the_inbox_to_those_who_may_use_it(client_for, triager, service_lead, clinic_admin):
    link = f'href="{INBOX}"'
    assert link in client_for(triager).get("/accounts/me/").content.decode()
    assert link in client_for(service_lead).get("/accounts/me/").content.decode()
    assert link not in client_for(clinic_admin).get("/accounts/me/").content.decode()


# --- the list ----------------------------------------------------------------------------------


def test_the_inbox_lists_referrals_awaiting_triage_the_longest_wait_first(client_for, triager, patient):
    newer = gp_referral(triager, days_ago=3, given_name="Newer")
    older = gp_referral(triager, days_ago=20, given_name="Older", date_of_birth=dt.date(1980, 1, 1))
    mine_in_treatment = patient.referrals.get()  # awaiting triage too (no course yet): listed
    response = client_for(triager).get(INBOX)

    rows = response.context["inbox"].rows
    assert [r.referral.pk for r in rows] == [mine_in_treatment.pk, older.pk, newer.pk]
    assert [r.days_waiting for r in rows] == [60, 20, 3]
    body = response.content.decode()
    assert "20 days" in body
    assert "Practiceton, Older" in body


def test_the_inbox_flags_self_referrals_possible_duplicates_and_risk(client_for, triager):
    first = self_refer()
    second = self_refer()  # the same person again
    screening_alert(first.referral)
    rows = {r.referral.pk: r for r in client_for(triager).get(INBOX).context["inbox"].rows}

    assert rows[first.referral.pk].risk_open
    assert not rows[first.referral.pk].possible_duplicate
    assert rows[second.referral.pk].possible_duplicate
    assert not rows[second.referral.pk].risk_open
    body = client_for(triager).get(INBOX).content.decode()
    assert body.count("Self-referral</span>") == 2
    assert "Possible duplicate" in body
    assert "Risk: open alert" in body


def test_an_acknowledged_alert_is_still_noted(client_for, triager):
    alert = screening_alert(self_refer().referral)
    RiskAlert.objects.filter(pk=alert.pk).update(acknowledged_at=timezone.now(), acknowledged_by=triager)

    row = client_for(triager).get(INBOX).context["inbox"].rows[0]
    assert not row.risk_open
    assert row.risk_noted


def test_filters_by_source_and_status(client_for, supervisor, dit_course):
    submission = self_refer()
    gp = gp_referral(supervisor)
    client = client_for(supervisor)

    def listed(**query):
        return {r.referral.pk for r in client.get(INBOX, query).context["inbox"].rows}

    assert listed(source="self") == {submission.referral.pk}
    assert listed(source="gp") == {gp.pk}
    assert listed(status="in_treatment") == {dit_course.referral_id}  # their supervisee's patient's
    assert listed(status="") >= {submission.referral.pk, gp.pk, dit_course.referral_id}
    assert listed(source="nonsense\x00") == listed()  # not a choice: the default


def test_no_referral_waiting_says_so(client_for, triager):
    assert "none is waiting for triage" in client_for(triager).get(INBOX).content.decode()


def test_a_clinician_sees_no_other_clinicians_patients_beyond_the_inbox(client_for, triager, dit_course):
    """``dit_course``'s referral is in treatment with a therapist this triager does not supervise: not in the front door."""
    client = client_for(triager)

    listed = {r.referral.pk for r in client.get(INBOX, {"status": ""}).context["inbox"].rows}
    assert dit_course.referral_id not in listed
    assert client.get(reverse("referrals:detail", args=[dit_course.referral_id])).status_code == 404


def test_listing_is_audited_with_the_referrals_shown(client_for, triager, audit_trail):
    submission = self_refer()
    audit_trail.mark()
    client_for(triager).get(INBOX)

    event = AuditEvent.objects.get(type="referrals.listed")
    assert event.actor_id == triager.pk
    assert event.data["referral_ids"] == [submission.referral.pk]
    assert event.data["patient_ids"] == [submission.referral.patient_id]


def test_the_inbox_reads_a_page_in_a_fixed_number_of_queries(client_for, triager, django_assert_max_num_queries):
    for n in range(5):
        self_refer(given_name=f"Person{n}", dob_day=str(n + 1))
        screening_alert(Referral.objects.order_by("-pk").first())
    client = client_for(triager)
    client.get(INBOX)
    with django_assert_max_num_queries(14):
        client.get(INBOX)


# --- recording a referral from a GP or another professional --------------------------------------

POSTED = {"given_name": "Gale", "family_name": "Practiceton", "date_of_birth": "1972-06-01", "nhs_number": "",
          "received_on": "", "source": "gp", "referrer": "Dr Example, Riverside Surgery",
          "presenting_problem": "Low mood since a bereavement.", "problem_descriptor": "F32"}


def posted(**changes):
    return {**POSTED, "received_on": timezone.localdate().isoformat(), **changes}


def test_a_new_patient_and_referral_wait_in_the_inbox_allocated_to_nobody(client_for, triager, audit_trail):
    response = client_for(triager).post(NEW, posted())

    referral = Referral.objects.get(patient__family_name="Practiceton")
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:detail", args=[referral.pk])
    assert referral.status == Referral.Status.AWAITING_TRIAGE
    assert referral.therapist is None
    assert referral.patient.therapist is None
    assert (referral.source, referral.problem_descriptor) == ("gp", "F32")
    assert {"patient.registered", "referral.received"} <= set(audit_trail.new_types())


def test_a_registered_patient_found_by_nhs_number_gets_the_new_referral(client_for, triager, patient):
    actions.end_referral(referral=patient.referrals.get(), reason="not_suitable", by=triager)
    response = client_for(triager).post(NEW, posted(given_name="Pat", family_name="Example",
                                                      date_of_birth="1985-03-14", nhs_number="943 476 5919"))

    assert response.status_code == 302
    assert Patient.objects.filter(family_name="Example").count() == 1
    assert patient.referrals.count() == 2
    assert AuditEvent.objects.get(type="referral.matched_patient").data["match"] == "nhs_number"


def test_an_nhs_number_with_another_name_is_refused(client_for, triager, patient):
    before = (Patient.objects.count(), Referral.objects.count())
    response = client_for(triager).post(NEW, posted(nhs_number="943 476 5919"))

    assert response.status_code == 400
    assert "registered to" in " ".join(response.context["form"].errors["nhs_number"])
    assert (Patient.objects.count(), Referral.objects.count()) == before


def test_a_patient_with_an_open_referral_gets_no_second_one(client_for, triager, patient):
    before = Referral.objects.count()
    response = client_for(triager).post(NEW, posted(given_name="Pat", family_name="Example",
                                                      date_of_birth="1985-03-14", nhs_number="9434765919"))

    assert response.status_code == 400
    assert "already has an open referral" in response.content.decode()
    assert Referral.objects.count() == before


def test_the_same_name_and_birth_asks_who_it_is_then_records_the_answer(client_for, triager, patient, audit_trail):
    actions.end_referral(referral=patient.referrals.get(), reason="not_suitable", by=triager)
    client = client_for(triager)
    same = posted(given_name="Pat", family_name="Example", date_of_birth="1985-03-14")
    before = (Patient.objects.count(), Referral.objects.count())

    asked = client.post(NEW, same)

    assert asked.status_code == 400
    assert [c.patient.pk for c in asked.context["candidates"]] == [patient.pk]
    assert "Is this someone already registered?" in asked.content.decode()
    assert (Patient.objects.count(), Referral.objects.count()) == before  # nothing recorded yet
    assert AuditEvent.objects.get(type="patients.matched").data["patient_ids"] == [patient.pk]

    chosen = client.post(NEW, {**same, "match": "existing", "existing_patient": str(patient.pk)})
    assert chosen.status_code == 302
    assert patient.referrals.filter(status=Referral.Status.AWAITING_TRIAGE).count() == 1
    assert Patient.objects.count() == before[0]


def test_none_of_these_registers_a_new_patient(client_for, triager, patient):
    actions.end_referral(referral=patient.referrals.get(), reason="not_suitable", by=triager)
    response = client_for(triager).post(NEW, posted(given_name="Pat", family_name="Example",
                                                      date_of_birth="1985-03-14", match="new"))

    assert response.status_code == 302
    assert Patient.objects.filter(family_name="Example").count() == 2


def test_choosing_a_patient_who_is_not_a_candidate_is_refused(client_for, triager, patient, other_patient):
    actions.end_referral(referral=patient.referrals.get(), reason="not_suitable", by=triager)
    before = Referral.objects.count()
    response = client_for(triager).post(NEW, posted(given_name="Pat", family_name="Example", date_of_birth="1985-03-14",
                                                      match="existing", existing_patient=str(other_patient.pk)))

    assert response.status_code == 400
    assert Referral.objects.count() == before


@pytest.mark.parametrize(("changes", "field"), [
    ({"given_name": ""}, "given_name"),
    ({"date_of_birth": "0001-01-01"}, "date_of_birth"),
    ({"received_on": "9999-12-31"}, "received_on"),
    ({"source": "carrier-pigeon"}, "source"),
    ({"referrer": "x" * 201}, "referrer"),
])
def test_bad_input_is_an_error_and_changes_nothing(client_for, triager, changes, field):
    before = (Patient.objects.count(), Referral.objects.count())
    response = client_for(triager).post(NEW, posted(**changes))

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert (Patient.objects.count(), Referral.objects.count()) == before


def test_only_clinicians_who_triage_record_referrals_even_through_the_action(service_lead):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="referral inbox"):
        gp_referral(service_lead)
    assert not has_permission(service_lead, Permission.TRIAGE_REFERRALS)


# --- one referral -----------------------------------------------------------------------------


def test_the_referral_page_shows_what_was_received_and_its_history(client_for, triager, audit_trail):
    submission = self_refer(preference="Mornings")
    referral = submission.referral
    audit_trail.mark()
    response = client_for(triager).get(reverse("referrals:detail", args=[referral.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    for shown in ("Morgan Selfton", "Worrying all the time.", "Mornings", submission.reference, "Riverside Surgery",
                  "+447700900982", "Self-referral", "Sent with the self-referral form", "Referral received"):
        assert shown in body, shown
    assert "self-referral form" in body  # the history's actor
    viewed = AuditEvent.objects.get(type="referral.viewed")
    assert (viewed.actor_id, viewed.patient_id) == (triager.pk, referral.patient_id)


def test_a_person_who_asked_for_no_message_is_shown_prominently(client_for, triager):
    referral = self_refer(leave_message="no").referral
    body = client_for(triager).get(reverse("referrals:detail", args=[referral.pk])).content.decode()

    assert "do not leave a message saying who we are" in body


def test_panels_registered_by_other_parts_of_the_pathway_render_on_the_page(client_for, triager, monkeypatch):
    monkeypatch.setattr(panels, "PANELS", [])
    panels.register(panels.Panel("screening", "referrals/_flags.html",
                                 lambda request, referral: {"row": {"referral": referral, "risk_open": True}}))
    referral = self_refer().referral

    body = client_for(triager).get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Risk: open alert" in body


def test_a_referral_awaiting_triage_is_open_to_every_clinician_who_triages(client_for, supervisor):
    referral = self_refer().referral

    assert client_for(supervisor).get(reverse("referrals:detail", args=[referral.pk])).status_code == 200


def test_the_supervisor_reads_a_supervisees_treated_referral_but_cannot_act(client_for, supervisor, dit_course):
    client = client_for(supervisor)
    url = reverse("referrals:detail", args=[dit_course.referral_id])

    assert client.get(url).status_code == 200
    assert "You may read this referral but not act on it." in client.get(url).content.decode()
    assert client.post(reverse("referrals:decide_duplicate", args=[dit_course.referral_id]),
                       {"same_person": "yes", "version": "1"}).status_code == 403


# --- possible duplicates ------------------------------------------------------------------------


def test_the_duplicate_panel_names_the_other_record_and_records_the_decision(client_for, triager, patient):
    submission = self_refer(given_name="Pat", family_name="Example")  # born 14 Mar 1985, like ``patient``
    client = client_for(triager)
    url = reverse("referrals:detail", args=[submission.referral.pk])
    body = client.get(url).content.decode()
    assert "Possible duplicate" in body
    assert patient.local_id in body
    assert "who has an open referral" in body

    decided = client.post(reverse("referrals:decide_duplicate", args=[submission.referral.pk]),
                          {"same_person": "yes", "version": str(submission.version)})

    assert decided.status_code == 302
    submission.refresh_from_db()
    assert (submission.duplicate, submission.duplicate_decided_by) == (SelfReferral.Duplicate.DUPLICATE, triager)
    event = AuditEvent.objects.get(type="self_referral.duplicate_decided")
    assert event.data == {"same_person": True, "duplicate_of": patient.pk}
    body = client.get(url).content.decode()
    assert "ask the records officer to erase" in body
    assert "Possible duplicate checked (the same person)" in body
    row = client.get(INBOX).context["inbox"].rows
    assert any(r.confirmed_duplicate for r in row)


def test_a_stale_decision_is_refused(client_for, triager, supervisor):
    self_refer()
    submission = self_refer()
    url = reverse("referrals:decide_duplicate", args=[submission.referral.pk])
    client_for(supervisor).post(url, {"same_person": "no", "version": "1"})

    client = client_for(triager)
    response = client.post(url, {"same_person": "yes", "version": "1"}, follow=True)

    submission.refresh_from_db()
    assert submission.duplicate == SelfReferral.Duplicate.NOT_DUPLICATE
    assert "Someone else decided" in response.content.decode()


def test_a_referral_without_a_duplicate_flag_has_nothing_to_decide(client_for, triager):
    referral = self_refer().referral
    response = client_for(triager).post(reverse("referrals:decide_duplicate", args=[referral.pk]),
                                          {"same_person": "yes", "version": "1"}, follow=True)

    assert "not flagged as a possible duplicate" in response.content.decode()
    assert not AuditEvent.objects.filter(type="self_referral.duplicate_decided").exists()


def test_erasing_the_duplicate_leaves_the_other_record_whole(triager, patient, records_officer):
    """Same person: the records officer erases the second record. No foreign key joins the two,
    so the erasure does not reach the first patient's record (privacy.erasure refuses entangled rows)."""
    from interpersonal.web.privacy.erasure import erase_patient

    submission = self_refer(given_name="Pat", family_name="Example")
    actions.decide_duplicate(referral=submission.referral, same_person=True, by=triager, expected_version=1)
    duplicate = submission.referral.patient
    erase_patient(duplicate.pk, reason="entered_in_error", reference="IG-1", by=records_officer)

    assert not Patient.objects.filter(pk=duplicate.pk).exists()
    assert not SelfReferral.objects.exists()
    assert patient.referrals.count() == 1


# --- the pathway panel -----------------------------------------------------------------------


def test_the_referral_page_shows_its_screening_triage_and_open_risk(client_for, supervisor):
    referral = self_refer().referral
    screening_alert(referral)

    body = client_for(supervisor).get(reverse("referrals:detail", args=[referral.pk])).content.decode()

    assert "Screening, triage and waiting" in body
    assert "1 open risk alert" in body
    assert "Not triaged yet" in body
    assert reverse("screening:referral", args=[referral.pk]) in body


def test_the_allocated_therapist_reads_their_referral_page_but_not_the_inbox(client_for, therapist, patient):
    referral = patient.referrals.get()
    client = client_for(therapist)

    assert client.get(reverse("referrals:detail", args=[referral.pk])).status_code == 200
    assert client.get(INBOX).status_code == 403
