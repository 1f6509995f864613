"""Patient pages through the test client: happy paths, bad input (400, nothing saved), denials."""

from __future__ import annotations

import pytest
from django.urls import reverse

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.patients.models import Patient

pytestmark = pytest.mark.django_db

NEW = {
    "given_name": "Robin", "family_name": "Sample", "date_of_birth": "1990-05-01", "nhs_number": "",
    "received_on": "2026-10-01", "source": "self",
}


def test_list_shows_own_patients(client_for, therapist, patient):
    response = client_for(therapist).get(reverse("patients:list"))
    assert response.status_code == 200
    assert "Example, Pat" in response.content.decode()


def test_search_with_a_nul_finds_without_it(client_for, therapist, patient, nul_refused_as_postgresql_does):
    """Found by tests/web/test_fuzz_endpoints.py: ``?q`` went to the database with its NUL, which
    PostgreSQL refuses (a 500). The NUL is dropped from the search."""
    response = client_for(therapist).get(reverse("patients:list"), {"q": "Exa\x00mple"})

    assert response.status_code == 200
    assert [p.pk for p in response.context["patients"]] == [patient.pk]


def test_register_redirects_to_the_new_record(client_for, therapist):
    response = client_for(therapist).post(reverse("patients:new"), NEW)
    created = Patient.objects.get(family_name="Sample")
    assert response.status_code == 302
    assert response.url == reverse("patients:detail", args=[created.pk])
    assert created.therapist == therapist


def test_nhs_number_with_a_wrong_check_digit_is_400_and_saves_nothing(client_for, therapist):
    response = client_for(therapist).post(reverse("patients:new"), NEW | {"nhs_number": "943 476 5918"})
    assert response.status_code == 400
    assert "NHS number" in response.content.decode()
    assert not Patient.objects.filter(family_name="Sample").exists()


def test_detail_is_audited(client_for, therapist, patient):
    response = client_for(therapist).get(reverse("patients:detail", args=[patient.pk]))
    assert response.status_code == 200
    assert AuditEvent.objects.filter(type="patient.viewed", patient_id=patient.pk, actor_id=therapist.pk).exists()


def test_edit_saves_with_the_current_version(client_for, therapist, patient):
    data = NEW | {"given_name": "Patricia", "family_name": "Example", "version": patient.version}
    response = client_for(therapist).post(reverse("patients:edit", args=[patient.pk]), data)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.given_name == "Patricia"


def test_stale_edit_says_someone_else_changed_it(client_for, therapist, patient):
    from interpersonal.web.patients.actions import update_patient

    stale_version = patient.version
    update_patient(patient=patient, by=therapist, expected_version=stale_version, phone="0100 000 0000")
    data = NEW | {"given_name": "Mine", "family_name": "Example", "version": stale_version}
    response = client_for(therapist).post(reverse("patients:edit", args=[patient.pk]), data)
    assert response.status_code == 400
    assert "Someone else changed this record" in response.content.decode()
    patient.refresh_from_db()
    assert patient.given_name == "Pat"


def test_edit_form_carries_the_version(client_for, therapist, patient):
    html = client_for(therapist).get(reverse("patients:edit", args=[patient.pk])).content.decode()
    assert 'name="version"' in html
    assert f'value="{patient.version}"' in html


def test_supervisor_reads_but_may_not_edit(client_for, supervisor, patient):
    client = client_for(supervisor)
    assert client.get(reverse("patients:detail", args=[patient.pk])).status_code == 200
    assert client.get(reverse("patients:edit", args=[patient.pk])).status_code == 403
    data = NEW | {"version": patient.version}
    assert client.post(reverse("patients:edit", args=[patient.pk]), data).status_code == 403


def test_unrelated_therapist_gets_404(client_for, unrelated_therapist, patient):
    client = client_for(unrelated_therapist)
    assert client.get(reverse("patients:detail", args=[patient.pk])).status_code == 404
    assert client.get(reverse("patients:edit", args=[patient.pk])).status_code == 404
    assert "Example" not in client.get(reverse("patients:list")).content.decode()


@pytest.mark.parametrize("persona", ["service_lead", "clinic_admin"])
def test_non_clinicians_get_403(request, client_for, persona, patient):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("patients:list")).status_code == 403
    assert client.get(reverse("patients:detail", args=[patient.pk])).status_code == 403
