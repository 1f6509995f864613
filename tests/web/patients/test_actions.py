"""patients.actions: register and update patient records (validated, atomic, audited)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.patients.actions import register_patient, update_patient
from interpersonal.web.patients.models import Patient

VALID_NHS = "943 476 5919"
WRONG_CHECK_DIGIT = "943 476 5918"  # the check digit of 943476591 is 9
OTHER_VALID_NHS = "401 023 2137"


def details(**overrides):
    fields = {
        "given_name": "Rowan", "family_name": "Synthetic", "date_of_birth": dt.date(1979, 11, 2),
        "received_on": timezone.localdate() - dt.timedelta(days=10), "source": "gp",
    }
    fields.update(overrides)
    return fields


def assert_identifiers_only(events, *forbidden: str) -> None:
    blob = json.dumps([e.data for e in events]) + " ".join(e.target_id for e in events)
    for text in forbidden:
        assert text not in blob, f"{text!r} leaked into the audit trail"


def test_register_patient_normalises_nhs_number_allocates_and_audits(therapist, audit_trail):
    patient = register_patient(by=therapist, nhs_number=VALID_NHS, **details())

    assert patient.nhs_number == "9434765919"
    assert patient.therapist == therapist
    assert patient.local_id.startswith("P")
    events = audit_trail.new()
    assert [(e.type, e.target_type, e.target_id, e.patient_id, e.actor_id) for e in events] == [
        ("patient.registered", "patient", str(patient.pk), patient.pk, therapist.pk),
        ("referral.received", "referral", str(patient.referrals.get().pk), patient.pk, therapist.pk),
    ]
    assert_identifiers_only(events, "Rowan", "Synthetic", "9434765919", "1979")


def test_register_patient_nhs_number_wrong_check_digit_creates_nothing(therapist, audit_trail):
    with pytest.raises(ValidationError) as exc:
        register_patient(by=therapist, nhs_number=WRONG_CHECK_DIGIT, **details())

    assert set(exc.value.message_dict) == {"nhs_number"}
    assert "check digit" in exc.value.message_dict["nhs_number"][0]
    assert not Patient.objects.exists()
    assert audit_trail.new() == []


def test_register_patient_future_date_of_birth_refused(therapist, audit_trail):
    with pytest.raises(ValidationError) as exc:
        register_patient(by=therapist, **details(date_of_birth=timezone.localdate() + dt.timedelta(days=1)))

    assert "date_of_birth" in exc.value.message_dict
    assert not Patient.objects.exists()
    assert audit_trail.new() == []


def test_register_patient_future_referral_date_refused(therapist):
    with pytest.raises(ValidationError) as exc:
        register_patient(by=therapist, **details(received_on=timezone.localdate() + dt.timedelta(days=1)))

    assert "received_on" in exc.value.message_dict
    assert not Patient.objects.exists()


def test_register_patient_referral_before_birth_refused(therapist):
    with pytest.raises(ValidationError) as exc:
        register_patient(by=therapist, **details(date_of_birth=dt.date(2000, 1, 1), received_on=dt.date(1999, 1, 1)))

    assert "received_on" in exc.value.message_dict


def test_register_patient_duplicate_nhs_number_refused(therapist, patient, audit_trail):
    with pytest.raises(ValidationError) as exc:
        register_patient(by=therapist, nhs_number="9434765919", **details())

    assert "nhs_number" in exc.value.message_dict
    assert Patient.objects.count() == 1
    assert audit_trail.new() == []


def test_register_patient_unknown_referral_source_refused(therapist):
    with pytest.raises(ValidationError) as exc:
        register_patient(by=therapist, **details(source="friend"))

    assert "source" in exc.value.message_dict


def test_register_patient_blank_name_refused(therapist):
    with pytest.raises(ValidationError) as exc:
        register_patient(by=therapist, **details(given_name="   "))

    assert "given_name" in exc.value.message_dict


@pytest.mark.parametrize("persona", ["service_lead", "clinic_admin"])
def test_register_patient_by_role_without_caseload_refused(request, persona):
    with pytest.raises(ValidationError):
        register_patient(by=request.getfixturevalue(persona), **details())

    assert not Patient.objects.exists()


def test_update_patient_changes_fields_bumps_version_and_audits_field_names(therapist, patient, audit_trail):
    update_patient(patient=patient, by=therapist, expected_version=1, phone="07700 900123", family_name="Renamed")

    patient.refresh_from_db()
    assert (patient.phone, patient.family_name, patient.version) == ("+447700900123", "Renamed", 2)  # stored as E.164 for the SMS gateway
    events = audit_trail.new()
    assert [e.type for e in events] == ["patient.updated"]
    assert sorted(events[0].data["fields"]) == ["family_name", "phone"]
    assert_identifiers_only(events, "07700", "Renamed", "Example", "Pat")


def test_update_patient_with_stale_version_is_refused_and_changes_nothing(therapist, patient, audit_trail):
    update_patient(patient=patient, by=therapist, expected_version=1, phone="07700 900001")  # someone else saves
    audit_trail.mark()

    with pytest.raises(ValidationError, match="Someone else changed"):
        update_patient(patient=patient, by=therapist, expected_version=1, phone="07700 900999", family_name="Stale")

    patient.refresh_from_db()
    assert (patient.phone, patient.family_name, patient.version) == ("+447700900001", "Example", 2)
    assert audit_trail.new() == []


def test_update_patient_wrong_check_digit_changes_nothing(therapist, patient):
    with pytest.raises(ValidationError) as exc:
        update_patient(patient=patient, by=therapist, expected_version=1, nhs_number=WRONG_CHECK_DIGIT)

    assert "nhs_number" in exc.value.message_dict
    patient.refresh_from_db()
    assert (patient.nhs_number, patient.version) == ("9434765919", 1)


def test_update_patient_future_date_of_birth_refused(therapist, patient):
    with pytest.raises(ValidationError) as exc:
        update_patient(patient=patient, by=therapist, expected_version=1,
                       date_of_birth=timezone.localdate() + dt.timedelta(days=3))

    assert "date_of_birth" in exc.value.message_dict
    patient.refresh_from_db()
    assert patient.date_of_birth == dt.date(1985, 3, 14)


def test_update_patient_to_another_patients_nhs_number_is_a_validation_error(therapist, patient):
    """Bug: update_patient has no duplicate check (register_patient has), so the unique
    constraint raises IntegrityError — a 500 in a view — instead of a form error."""
    other = register_patient(by=therapist, nhs_number=OTHER_VALID_NHS, **details())

    with pytest.raises(ValidationError) as exc:
        update_patient(patient=other, by=therapist, expected_version=1, nhs_number=VALID_NHS)

    assert "nhs_number" in exc.value.message_dict
    other.refresh_from_db()
    assert other.nhs_number == "4010232137"


@pytest.mark.parametrize("persona", ["unrelated_therapist", "service_lead", "clinic_admin", "supervisor"])
def test_update_patient_by_someone_who_may_not_change_the_record_refused(request, patient, persona, audit_trail):
    """Bug: update_patient checks nothing about ``by`` (every course action checks the actor),
    so any caller — another team's therapist, a service lead, a read-only supervisor — can
    change a patient's details if a view forgets get_patient_for_user(write=True)."""
    with pytest.raises(ValidationError):
        update_patient(patient=patient, by=request.getfixturevalue(persona), expected_version=1, phone="0000")

    patient.refresh_from_db()
    assert (patient.phone, patient.version) == ("", 1)
    assert audit_trail.new() == []


def test_update_patient_unknown_field_refused(therapist, patient):
    with pytest.raises(ValidationError, match="Unknown fields: therapist"):
        update_patient(patient=patient, by=therapist, expected_version=1, therapist=None)


def test_audit_event_for_registration_has_no_patient_details(therapist, patient):
    event = AuditEvent.objects.get(type="patient.registered")

    assert_identifiers_only([event], "Pat", "Example", "9434765919", "1985-03-14")
    assert event.actor_username == therapist.username
    assert event.actor_role == "therapist"


def test_a_new_patients_local_id_comes_from_its_own_row(therapist):
    first = register_patient(by=therapist, **details())
    second = register_patient(by=therapist, **details(given_name="Second"))

    assert first.local_id == f"P{first.pk:06d}"
    assert Patient.objects.get(pk=second.pk).local_id == f"P{second.pk:06d}"


def test_an_erased_patients_local_id_is_never_given_to_someone_else(therapist, records_officer):
    """Letters and screens printed the erased patient's local ID: it must not come to name another person."""
    from interpersonal.web.privacy.erasure import erase_patient

    newest = register_patient(by=therapist, **details())
    erase_patient(newest.pk, by=records_officer, reason="entered_in_error", reference="IG-1")

    successor = register_patient(by=therapist, **details(given_name="Next"))

    assert successor.local_id != newest.local_id
