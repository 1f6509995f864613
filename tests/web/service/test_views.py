"""The waiting-list pages: what each role sees, the forms, and what each read writes to the audit trail.

The lead's pages name no patient (referrals by number only); a clinician's own list names theirs
and no one else's, and its read is audited with the patient ids it showed.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.referrals.models import Referral
from interpersonal.web.service import actions
from interpersonal.web.service.models import GradeCost, OptInInvitation, StaffGrade, StaffProfile
from web.service.conftest import day, received, treated
from web.service.conftest import waiting as waiting_referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(therapist, unrelated_therapist):
    """A waiting list across two clinicians: one awaiting triage, two waiting for DIT (one past its
    opt-in date), one waiting for a second treatment, and a finished referral."""
    triage = received(therapist, received_ago=10)
    mine = waiting_referral(therapist, received_ago=50)
    theirs = waiting_referral(unrelated_therapist, received_ago=30)
    actions.invite_to_opt_in(referral=mine, channel="letter", by=therapist, sent_on=day(20))
    second = treated(therapist, received_ago=60, sessions=(40,))
    treated(therapist, received_ago=100, sessions=(90, 80), ended_ago=70)
    return {"triage": triage, "mine": mine, "theirs": theirs, "second": second}


def _names(*referrals):
    return [f"{r.patient.given_name} {r.patient.family_name}" for r in referrals]


@pytest.mark.parametrize("name", ["service:waiting", "service:opt_in", "service:operations", "service:costs"])
def test_the_leads_pages_name_no_patient(lead_client, service, name):
    response = lead_client.get(reverse(name))

    assert response.status_code == 200
    body = response.content.decode()
    for text in _names(*service.values()) + [r.patient.local_id for r in service.values()]:
        assert text not in body


def test_the_waiting_list_shows_queues_forecast_and_standards(lead_client, service):
    body = lead_client.get(reverse("service:waiting")).content.decode()

    assert "Awaiting screening and triage" in body
    assert "Step 3: Dynamic Interpersonal Therapy (DIT)" in body
    assert "waiting for the second treatment appointment" in body
    assert "Forecast breaches by week" in body
    assert "75% within 6 weeks" in body
    assert "NHS England" in body


def test_a_queue_lists_referrals_by_number_in_queue_order(lead_client, service, audit_trail):
    response = lead_client.get(reverse("service:queue", args=["3-dit"]))

    body = response.content.decode()
    assert body.index(f"R{service['mine'].pk}") < body.index(f"R{service['theirs'].pk}")  # 50 days before 30
    [event] = [e for e in audit_trail.new() if e.type == "waiting_queue.viewed"]
    assert event.data["referral_ids"] == [service["mine"].pk, service["theirs"].pk]
    assert event.patient_id is None


def test_an_unknown_queue_is_empty_and_a_malformed_one_not_found(lead_client, service):
    assert lead_client.get(reverse("service:queue", args=["2-cbt"])).status_code == 200
    assert lead_client.get(reverse("service:queue", args=["<script>"])).status_code == 404


def test_the_opt_in_page_lists_and_discharges_by_number(lead_client, service):
    mine = service["mine"]
    body = lead_client.get(reverse("service:opt_in")).content.decode()
    assert f'value="{mine.pk}:{mine.version}"' in body

    response = lead_client.post(reverse("service:discharge"), {"referral": [f"{mine.pk}:{mine.version}"],
                                                               "confirm": "on"})

    assert response.status_code == 302
    assert response["Location"] == reverse("service:opt_in")
    assert Referral.objects.get(pk=mine.pk).status == Referral.Status.DISCHARGED


def test_discharge_needs_the_confirmation_and_a_referral(lead_client, service):
    mine = service["mine"]
    for data in ({"referral": [f"{mine.pk}:{mine.version}"]}, {"confirm": "on"}):
        response = lead_client.post(reverse("service:discharge"), data)
        assert response.status_code == 400
    assert Referral.objects.get(pk=mine.pk).is_open


def test_a_clinicians_own_list_names_their_patients_only_and_is_audited(therapist_client, therapist, service,
                                                                       audit_trail):
    response = therapist_client.get(reverse("service:my_waiting"))

    body = response.content.decode()
    for name in _names(service["triage"], service["mine"], service["second"]):
        assert name in body
    assert _names(service["theirs"])[0] not in body
    [event] = [e for e in audit_trail.new() if e.type == "waiting_list.viewed"]
    assert set(event.data["patient_ids"]) == {service[k].patient_id for k in ("triage", "mine", "second")}


def test_a_clinician_discharges_their_own_from_their_list(therapist_client, service):
    mine = service["mine"]

    response = therapist_client.post(reverse("service:discharge"), {"referral": [f"{mine.pk}:{mine.version}"],
                                                                    "confirm": "on"})

    assert response["Location"] == reverse("service:my_waiting")
    assert Referral.objects.get(pk=mine.pk).end_reason == "not_assessed"


def test_a_clinician_cannot_discharge_someone_elses(client, unrelated_therapist, service):
    client.force_login(unrelated_therapist)
    mine = service["mine"]

    client.post(reverse("service:discharge"), {"referral": [f"{mine.pk}:{mine.version}"], "confirm": "on"})

    assert Referral.objects.get(pk=mine.pk).is_open


def test_invite_by_letter_then_print_it(therapist_client, service, audit_trail):
    triage = service["triage"]

    response = therapist_client.post(reverse("service:invite", args=[triage.pk]), {"channel": "letter"})

    assert response.status_code == 302
    assert response["Location"] == reverse("service:letter", args=[triage.pk])
    letter = therapist_client.get(response["Location"]).content.decode()
    invitation = OptInInvitation.objects.get(referral=triage)
    assert f"{triage.patient.given_name} {triage.patient.family_name}" in letter
    assert f"{invitation.respond_by.day} {invitation.respond_by:%B %Y}" in letter
    assert "116 123" in letter  # the crisis message is on every letter
    assert "opt_in.letter_viewed" in audit_trail.new_types()


def test_the_invite_form_offers_only_the_channels_the_patient_has(therapist_client, service):
    body = therapist_client.get(reverse("service:invite", args=[service["triage"].pk])).content.decode()

    assert 'value="letter"' in body
    assert 'value="email"' not in body
    response = therapist_client.post(reverse("service:invite", args=[service["triage"].pk]), {"channel": "email"})
    assert response.status_code == 400
    assert not OptInInvitation.objects.filter(referral=service["triage"]).exists()


def test_record_the_opt_in_page(therapist_client, service):
    mine = service["mine"]

    response = therapist_client.post(reverse("service:opted_in", args=[mine.pk]), {"opted_in_on": ""})

    assert response.status_code == 302
    assert OptInInvitation.objects.get(referral=mine).opted_in_on is not None


@pytest.mark.parametrize("name", ["service:invite", "service:letter", "service:opted_in"])
def test_another_clinicians_referral_is_not_found(client, unrelated_therapist, service, name):
    client.force_login(unrelated_therapist)

    assert client.get(reverse(name, args=[service["mine"].pk])).status_code == 404


def test_the_supervisor_reads_but_does_not_invite(client, supervisor, service):
    client.force_login(supervisor)
    url = reverse("service:invite", args=[service["triage"].pk])

    assert client.get(url).status_code == 200
    assert client.post(url, {"channel": "letter"}).status_code == 403
    assert not OptInInvitation.objects.filter(referral=service["triage"]).exists()


def test_costs_settings_add_a_grade_and_a_cost_and_set_capacity(lead_client, therapist):
    lead_client.post(reverse("service:costs"), {"form": "grade", "grade-name": "Band 7"})
    grade = StaffGrade.objects.get()
    response = lead_client.post(reverse("service:costs"), {
        "form": "cost", "cost-grade": grade.pk, "cost-cost_per_session": "82.50",
        "cost-effective_from": day(10).isoformat(), "cost-source": "synthetic"})
    assert response.status_code == 302
    assert GradeCost.objects.get().cost_per_session == 82.5

    response = lead_client.post(reverse("service:staff_profile", args=[therapist.pk]),
                                {"grade": grade.pk, "weekly_capacity": "22", "version": "0"})

    assert response.status_code == 302
    assert StaffProfile.objects.get(user=therapist).weekly_capacity == 22
    assert AuditEvent.objects.filter(type="service.staff_profile_changed").exists()


def test_a_stale_capacity_form_is_refused_and_keeps_the_newer_value(lead_client, therapist):
    url = reverse("service:staff_profile", args=[therapist.pk])
    lead_client.post(url, {"weekly_capacity": "10", "version": "0"})

    response = lead_client.post(url, {"weekly_capacity": "12", "version": "0"})

    assert response.status_code == 400
    assert "Someone else" in response.content.decode()
    assert StaffProfile.objects.get(user=therapist).weekly_capacity == 10


def test_staff_profile_is_for_clinicians_only(lead_client, service_lead):
    assert lead_client.get(reverse("service:staff_profile", args=[service_lead.pk])).status_code == 404


def test_an_incomplete_costs_form_changes_nothing(lead_client):
    response = lead_client.post(reverse("service:costs"), {"form": "other"})

    assert response.status_code == 400
    assert not StaffGrade.objects.exists()


def test_the_lead_pages_take_a_bounded_number_of_queries(lead_client, therapist, django_assert_max_num_queries):
    for n in range(10):
        waiting_referral(therapist, received_ago=10 + n)
        treated(therapist, received_ago=100 + n, sessions=(90, 80), ended_ago=70)
    pages = {"service:waiting": 12, "service:operations": 12, "service:opt_in": 12}
    for name, most in pages.items():
        with django_assert_max_num_queries(most):
            assert lead_client.get(reverse(name)).status_code == 200
