"""The records officer's erasure and retention pages (issue 7): confirm by typing the local ID,
refusals explained and nothing changed, the audit trail kept and still verifying."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.audit import chain
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.patients.models import Patient
from interpersonal.web.privacy.access import record_link


@pytest.fixture
def old_patient(therapist):
    """Referred 25 years ago and never seen since: past the 20-year retention period."""
    from interpersonal.web.patients.actions import register_patient
    from interpersonal.web.referrals.actions import end_referral

    received = timezone.localdate() - dt.timedelta(days=365 * 25 + 7)
    patient = register_patient(by=therapist, given_name="Olwen", family_name="Longago",
                               date_of_birth=dt.date(1950, 5, 5), received_on=received, source="gp")
    end_referral(referral=patient.referrals.get(), reason="not_assessed", by=therapist, ended_on=received)
    return patient


def _erase(client, officer, patient, **overrides):
    data = {"reason": "entered_in_error", "reference": "IG-2026-3", "confirm": patient.local_id,
            "version": str(patient.version), **overrides}
    return client.post(reverse("privacy:erase", args=[record_link(officer, patient.pk)]), data)


def test_the_page_shows_what_would_go_and_when_each_reason_applies(dit_course, records_officer, client_for):
    patient = dit_course.patient

    response = client_for(records_officer).get(reverse("privacy:erase", args=[record_link(records_officer, patient.pk)]))

    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["counts"]["patients.Patient"] == 1
    assert response.context["counts"]["courses.Course"] == 1
    problems = {r["value"]: r["problems"] for r in response.context["reasons"]}
    assert problems["entered_in_error"] == []
    assert any("active course" in p for p in problems["erasure_request"])
    assert any("must be kept until" in p for p in problems["retention_expired"])
    assert "Type the record&#x27;s local ID to confirm" in body
    # The page names the patient, so showing it is audited like the record's own page.
    viewed = AuditEvent.objects.get(type="records.erase_viewed")
    assert (viewed.actor_id, viewed.patient_id) == (records_officer.pk, patient.pk)


def test_erasing_a_record_entered_in_error(dit_course, records_officer, client_for):
    patient = dit_course.patient
    client = client_for(records_officer)

    response = _erase(client, records_officer, patient)

    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:find")
    assert not Patient.objects.filter(pk=patient.pk).exists()
    event = AuditEvent.objects.get(type="patient.erased")
    assert (event.actor_id, event.patient_id, event.data["reason"], event.data["reference"]) == (
        records_officer.pk, patient.pk, "entered_in_error", "IG-2026-3")
    assert AuditEvent.objects.filter(type="patient.registered", patient_id=patient.pk).exists()
    assert chain.verify() == []
    page = client.get(response["Location"])
    assert f"Record {patient.local_id} was erased" in page.content.decode()


@pytest.mark.parametrize(("overrides", "message"), [
    ({"confirm": "P999999"}, "Type the local ID exactly as shown"),
    ({"reference": ""}, "Enter the case reference"),
    ({"reason": "because"}, "Select a valid choice"),
])
def test_a_mistake_in_the_form_erases_nothing(dit_course, records_officer, client_for, overrides, message):
    patient = dit_course.patient

    response = _erase(client_for(records_officer), records_officer, patient, **overrides)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Patient.objects.filter(pk=patient.pk).exists()
    assert not AuditEvent.objects.filter(type="patient.erased").exists()
    assert AuditEvent.objects.filter(type="records.erase_viewed", patient_id=patient.pk).count() == 1


def test_a_refusal_is_explained_and_erases_nothing(dit_course, records_officer, client_for):
    patient = dit_course.patient

    response = _erase(client_for(records_officer), records_officer, patient, reason="retention_expired")

    assert response.status_code == 409
    body = response.content.decode()
    assert "The record was not erased" in body
    assert "active course of therapy" in body
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_a_record_changed_meanwhile_is_not_erased(dit_course, records_officer, client_for):
    patient = dit_course.patient
    stale = patient.version
    Patient.objects.filter(pk=patient.pk).update(version=stale + 1)

    response = _erase(client_for(records_officer), records_officer, patient, version=str(stale))

    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_the_retention_page_lists_records_past_retention_only(old_patient, dit_course, records_officer, client_for):
    response = client_for(records_officer).get(reverse("privacy:retention"))

    assert response.status_code == 200
    assert [r.patient_id for r, _ in response.context["rows"]] == [old_patient.pk]
    body = response.content.decode()
    assert old_patient.local_id in body
    assert dit_course.patient.local_id not in body
    listed = AuditEvent.objects.get(type="records.retention_listed", actor_id=records_officer.pk)
    assert listed.data["patient_ids"] == [old_patient.pk]
    # Each row links to its record with a link made for this officer by this audited list.
    (_, ref), = response.context["rows"]
    assert reverse("privacy:patient", args=[ref]) in body
    assert client_for(records_officer).get(reverse("privacy:patient", args=[ref])).status_code == 200


def test_a_record_past_retention_is_erased_for_that_reason(old_patient, records_officer, client_for):
    response = _erase(client_for(records_officer), records_officer, old_patient, reason="retention_expired")

    assert response.status_code == 302
    assert not Patient.objects.filter(pk=old_patient.pk).exists()
    assert AuditEvent.objects.get(type="patient.erased").data["reason"] == "retention_expired"
