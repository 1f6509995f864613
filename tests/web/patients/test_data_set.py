"""The NHS Talking Therapies data set's person characteristics on the patient: recorded through
patients.actions (validated, audited by field name only), shown, and in the subject access copy."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.patients.actions import update_patient
from interpersonal.web.patients.models import Patient
from interpersonal.web.privacy import subject_access

pytestmark = pytest.mark.django_db

RECORDED = {
    "gender_identity": "3", "ethnic_category": "N", "preferred_language": "so", "interpreter_required": True,
    "disabilities": ["09", "02"], "employment_status": "02",
    "contact_by_phone": True, "contact_by_sms": False, "contact_by_email": None, "contact_by_letter": True,
}


def test_a_new_patient_has_every_characteristic_not_yet_asked(patient):
    assert (patient.gender_identity, patient.ethnic_category, patient.preferred_language, patient.employment_status) == ("",) * 4
    assert patient.disabilities == []
    assert patient.interpreter_required is None
    assert patient.contact_by_sms is None


def test_recording_the_data_set_stores_codes_and_audits_field_names_only(patient, therapist, audit_trail):
    update_patient(patient=patient, by=therapist, expected_version=patient.version, **RECORDED)

    patient.refresh_from_db()
    assert patient.disabilities == ["02", "09"]  # sorted (core.demographics.clean_disabilities)
    assert (patient.ethnic_category, patient.contact_by_sms, patient.contact_by_email) == ("N", False, None)
    (event,) = audit_trail.new()
    assert event.type == "patient.updated"
    assert set(event.data["fields"]) == set(RECORDED) - {"contact_by_email"}  # None was None already: unchanged
    assert "so" not in json.dumps(event.data["fields"]).replace("disabilities", "")  # names, never the values


@pytest.mark.parametrize(("field", "value"), [
    ("ethnic_category", "Q"),  # not an ETHNIC CATEGORY code
    ("gender_identity", "male"),
    ("preferred_language", "klingon"),
    ("employment_status", "09"),
    ("disabilities", ["NN", "02"]),  # "no disability" and a disability
    ("disabilities", ["99"]),
    ("disabilities", "02"),  # a string, not a list of codes
    ("contact_by_sms", "maybe"),
])
def test_a_wrong_code_is_refused_naming_the_field_and_nothing_changes(patient, therapist, field, value):
    before = patient.version
    with pytest.raises(ValidationError) as raised:
        update_patient(patient=patient, by=therapist, expected_version=before, **{field: value})
    assert field in raised.value.message_dict
    patient.refresh_from_db()
    assert patient.version == before


def test_the_edit_page_records_the_data_set_and_the_record_shows_it(client_for, therapist, patient):
    client = client_for(therapist)
    data = {
        "given_name": "Pat", "family_name": "Example", "date_of_birth": "1985-03-14", "version": patient.version,
        "gender_identity": "2", "ethnic_category": "99", "preferred_language": "q4", "interpreter_required": "yes",
        "disabilities": ["02", "10"], "employment_status": "08",
        "contact_by_phone": "no", "contact_by_sms": "yes", "contact_by_email": "", "contact_by_letter": "yes",
    }
    assert client.post(reverse("patients:edit", args=[patient.pk]), data).status_code == 302
    patient.refresh_from_db()
    assert (patient.interpreter_required, patient.contact_by_phone, patient.contact_by_email) == (True, False, None)

    html = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Female (including trans woman) (2)" in html
    assert "British Sign Language (q4)" in html
    assert "Hearing (02)" in html
    assert "Speech (10)" in html
    assert "Retired (08)" in html
    # The edit form shows what was saved (yes / no / not yet asked round-trips).
    form = client.get(reverse("patients:edit", args=[patient.pk])).context["form"]
    assert (form.initial["contact_by_phone"], form.initial["contact_by_email"]) == ("no", "")


def test_a_bad_code_posted_to_the_register_form_is_a_400_and_saves_nothing(client_for, therapist):
    data = {"given_name": "Robin", "family_name": "Sample", "date_of_birth": "1990-05-01", "received_on": "2026-10-01",
            "source": "self", "ethnic_category": "Q", "disabilities": ["NN", "02"]}
    response = client_for(therapist).post(reverse("patients:new"), data)
    assert response.status_code == 400
    assert not Patient.objects.filter(family_name="Sample").exists()
    assert not AuditEvent.objects.filter(type="patient.registered").exists()


def test_the_subject_access_copy_holds_the_data_set_with_labels(patient, therapist):
    update_patient(patient=patient, by=therapist, expected_version=patient.version, **RECORDED)
    copy = subject_access.collect(patient)

    (details,) = copy["records"]["patients.Patient"]
    assert {k: details[k] for k in RECORDED} == RECORDED | {"disabilities": ["02", "09"]}
    (section,) = [s for s in subject_access.pdf_sections(copy) if s["label"] == "patients.Patient"]
    shown = json.dumps(section["entries"])
    assert "Hearing (02); Sight (09)" in shown
    assert "African" in shown


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_outcomes_data_set_carries_the_codes_and_reads_back(patient, therapist, tmp_path, fmt):
    from interpersonal.core.outcomes import dataset as core_dataset
    from interpersonal.web.outcomes.dataset import from_database

    update_patient(patient=patient, by=therapist, expected_version=patient.version, **RECORDED)
    core_dataset.write(from_database(), tmp_path, format=fmt)

    referrals = core_dataset.read(tmp_path).referrals.collect()
    (row,) = referrals.to_dicts()
    assert {k: row[k] for k in ("gender_identity", "ethnic_category", "preferred_language", "interpreter_required",
                                "disability_codes", "employment_status")} == {
        "gender_identity": "3", "ethnic_category": "N", "preferred_language": "so", "interpreter_required": True,
        "disability_codes": "02;09", "employment_status": "02"}
    assert "Example" not in str(row)  # pseudonymous: no name
