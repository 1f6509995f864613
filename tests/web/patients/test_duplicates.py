"""A possible duplicate (same name and date of birth: referrals.actions.find_matches, the inbox's own
matcher) is flagged on registration before anything is saved; the user confirms a different person."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.patients.actions import register_patient
from interpersonal.web.patients.models import Patient

pytestmark = pytest.mark.django_db

# The ``patient`` fixture: Pat Example, born 1985-03-14, NHS number 943 476 5919, ``therapist``'s.
SAME_PERSON = {"given_name": " pat ", "family_name": "EXAMPLE", "date_of_birth": dt.date(1985, 3, 14),
               "received_on": timezone.localdate() - dt.timedelta(days=1), "source": "gp"}
FORM = {"given_name": "Pat", "family_name": "Example", "date_of_birth": "1985-03-14", "nhs_number": "",
        "received_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(), "source": "gp"}


def test_same_name_and_birth_is_refused_as_a_possible_duplicate_and_nothing_is_saved(patient, therapist):
    with pytest.raises(ValidationError) as raised:
        register_patient(by=therapist, **SAME_PERSON)

    assert [e.code for e in raised.value.error_dict["different_person"]] == ["possible_duplicate"]
    assert Patient.objects.count() == 1


def test_confirmed_different_person_is_registered_and_the_match_is_audited_by_id(patient, therapist, audit_trail):
    new = register_patient(by=therapist, different_person=True, **SAME_PERSON)

    assert Patient.objects.count() == 2
    (event,) = [e for e in audit_trail.new() if e.type == "patient.registered_as_different_person"]
    assert (event.patient_id, event.data["possible_duplicate_ids"]) == (new.pk, [patient.pk])


def test_a_different_nhs_number_tells_them_apart_without_asking(patient, therapist):
    new = register_patient(by=therapist, nhs_number="401 023 2137", **SAME_PERSON)
    assert new.pk != patient.pk


def test_the_same_nhs_number_is_refused_even_when_confirmed_different(patient, therapist):
    with pytest.raises(ValidationError) as raised:
        register_patient(by=therapist, different_person=True, nhs_number="943 476 5919", **SAME_PERSON)
    assert "nhs_number" in raised.value.message_dict
    assert Patient.objects.count() == 1


def test_the_form_links_a_match_in_the_users_own_caseload(client_for, therapist, patient):
    response = client_for(therapist).post(reverse("patients:new"), FORM)

    assert response.status_code == 400
    html = response.content.decode()
    assert "Possible duplicate: nothing was saved" in html
    assert reverse("patients:detail", args=[patient.pk]) in html
    assert patient.local_id in html
    assert Patient.objects.count() == 1


def test_the_form_names_nobody_outside_the_users_reach_then_saves_when_confirmed(client_for, unrelated_therapist, patient):
    client = client_for(unrelated_therapist)
    response = client.post(reverse("patients:new"), FORM)

    html = response.content.decode()
    assert response.status_code == 400
    assert "ask a colleague who triages" in html
    assert patient.local_id not in html
    assert reverse("patients:detail", args=[patient.pk]) not in html
    assert "Tess" not in html  # the other patient's clinician is not named either
    assert not AuditEvent.objects.filter(type="patient.viewed", patient_id=patient.pk).exists()

    response = client.post(reverse("patients:new"), FORM | {"different_person": "on"})
    assert response.status_code == 302
    assert Patient.objects.filter(therapist=unrelated_therapist, family_name="Example").count() == 1
