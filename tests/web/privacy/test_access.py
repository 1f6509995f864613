"""A records officer reaches a record only through an audited search (issue 12): the records pages
take a short-lived link made for that officer, never a bare or sequential id."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.privacy import access
from interpersonal.web.privacy.access import RECORD_LINK_MAX_AGE, get_record_for_officer, record_link
from tests.web.signed import altered

PAGES = ("privacy:patient", "privacy:subject_access", "privacy:erase")


def _open(client: Client, name: str, ref: str):
    url = reverse(name, args=[ref])
    if name == "privacy:subject_access":
        return client.post(url, {"format": "json", "reference": "SAR-2026-1"})
    return client.get(url)


def _main(body: str) -> str:
    return body[body.index("<h1>"):body.index("</main>")]


def _assert_gone(response, patient) -> None:
    body = response.content.decode()
    assert response.status_code == 404
    assert "Find the record again" in body
    assert patient.family_name not in body
    assert patient.local_id not in body


@pytest.mark.parametrize("name", PAGES)
def test_a_records_page_by_bare_id_is_not_found(patient, records_officer, client_for, name):
    """Regression: /records/patients/<id>/ opened any record by its sequential id, with no search."""
    response = _open(client_for(records_officer), name, str(patient.pk))

    _assert_gone(response, patient)
    assert not AuditEvent.objects.filter(type__in=["records.patient_viewed", "records.erase_viewed",
                                                   "patient.subject_access"]).exists()


def test_browsing_ids_in_sequence_opens_nothing(patient, other_patient, records_officer, client_for):
    client = client_for(records_officer)

    statuses = {client.get(f"/records/patients/{n}/").status_code for n in range(1, 31)}

    assert statuses == {404}
    assert not AuditEvent.objects.filter(type="records.patient_viewed").exists()


@pytest.mark.parametrize("name", PAGES)
def test_a_link_made_for_another_officer_is_not_found(patient, records_officer, make_user, client_for, name):
    colleague = make_user("rita.records", "records_officer", first_name="Rita", last_name="Records")

    response = _open(client_for(colleague), name, record_link(records_officer, patient.pk))

    _assert_gone(response, patient)


@pytest.mark.parametrize("name", PAGES)
def test_an_expired_link_is_not_found(patient, records_officer, client_for, name):
    with mock.patch.object(access.signing.time, "time", return_value=time.time() - RECORD_LINK_MAX_AGE - 1):
        expired = record_link(records_officer, patient.pk)

    _assert_gone(_open(client_for(records_officer), name, expired), patient)


def test_a_link_just_within_the_hour_opens_the_record(patient, records_officer, client_for):
    with mock.patch.object(access.signing.time, "time", return_value=time.time() - RECORD_LINK_MAX_AGE + 60):
        recent = record_link(records_officer, patient.pk)

    assert _open(client_for(records_officer), "privacy:patient", recent).status_code == 200


@pytest.mark.parametrize("name", PAGES)
def test_an_altered_link_is_not_found(patient, other_patient, records_officer, client_for, name):
    payload, rest = record_link(records_officer, other_patient.pk).split(":", 1)
    forged_payload = record_link(records_officer, patient.pk).split(":", 1)[0]  # the payload of another link

    for ref in (f"{forged_payload}:{rest}", "x" * 300, "not-a-link", altered(f"{payload}:{rest}")):
        _assert_gone(_open(client_for(records_officer), name, ref), patient)


def test_every_way_a_link_fails_is_the_same_page_as_no_record(patient, records_officer, make_user, client_for):
    client = client_for(records_officer)
    erased = record_link(records_officer, 10**9)  # a record that does not exist (or was erased)
    others = record_link(make_user("rita.records", "records_officer"), patient.pk)

    responses = [client.get(reverse("privacy:patient", args=[ref])) for ref in (erased, others, str(patient.pk))]

    assert {r.status_code for r in responses} == {404}
    assert len({_main(r.content.decode()) for r in responses}) == 1  # the page around it carries per-request nonces


def test_the_search_gives_a_link_for_this_officer_only(patient, records_officer, client_for):
    location = client_for(records_officer).post(reverse("privacy:find"), {"identifier": patient.local_id})["Location"]
    ref = location.rstrip("/").rsplit("/", 1)[1]

    assert get_record_for_officer(records_officer, ref) == patient
    assert str(patient.pk) != ref
    assert AuditEvent.objects.filter(type="records.searched", actor_id=records_officer.pk, patient_id=patient.pk).exists()


def test_the_record_page_links_its_actions_with_the_same_reference(patient, records_officer, client_for):
    ref = record_link(records_officer, patient.pk)

    body = client_for(records_officer).get(reverse("privacy:patient", args=[ref])).content.decode()

    assert reverse("privacy:subject_access", args=[ref]) in body
    assert reverse("privacy:erase", args=[ref]) in body


def test_a_link_is_refused_to_other_roles_before_it_is_read(patient, records_officer, therapist, client_for):
    ref = record_link(records_officer, patient.pk)

    assert client_for(therapist).get(reverse("privacy:patient", args=[ref])).status_code == 403


def _refusals(officer) -> list[tuple[str, int | None, int | None]]:
    events = AuditEvent.objects.filter(type=access.LINK_REFUSED_EVENT, actor_id=officer.pk).order_by("id")
    return [(e.data["reason"], e.patient_id, e.data.get("made_for")) for e in events]


def test_walking_record_ids_leaves_one_audited_refusal_per_address(patient, records_officer, client_for):
    """Regression (issue 12 review): refused links left no trace, so walking /records/patients/1..N/
    was invisible in the audit trail."""
    client = client_for(records_officer)

    for n in range(1, 11):
        client.get(f"/records/patients/{n}/")

    assert _refusals(records_officer) == [("bare_id", None, None)] * 10


@pytest.mark.parametrize("name", PAGES)
def test_replaying_a_colleagues_link_is_audited_with_the_record_and_the_colleague(
        patient, records_officer, make_user, client_for, name):
    colleague = make_user("rita.records", "records_officer", first_name="Rita", last_name="Records")

    _open(client_for(colleague), name, record_link(records_officer, patient.pk))

    assert _refusals(colleague) == [("other_officer", patient.pk, records_officer.pk)]
    event = AuditEvent.objects.get(type=access.LINK_REFUSED_EVENT)
    assert (event.actor_username, event.target_type, event.target_id) == ("rita.records", "user", str(colleague.pk))


def test_each_way_a_link_fails_is_audited_with_its_reason_and_never_the_link(patient, records_officer, client_for):
    with mock.patch.object(access.signing.time, "time", return_value=time.time() - RECORD_LINK_MAX_AGE - 1):
        expired = record_link(records_officer, patient.pk)
    genuine = record_link(records_officer, patient.pk)
    links = {
        "bare_id": str(patient.pk),
        "not_a_link": "x" * 300,
        "bad_signature": altered(genuine),
        "expired": expired,
        "no_record": record_link(records_officer, 10**9),
    }
    client = client_for(records_officer)

    for ref in links.values():
        assert client.get(reverse("privacy:patient", args=[ref])).status_code == 404

    assert _refusals(records_officer) == [("bare_id", None, None), ("not_a_link", None, None),
                                          ("bad_signature", None, None), ("expired", None, None),
                                          ("no_record", 10**9, None)]
    stored = " ".join(str(e.data) + e.target_id for e in AuditEvent.objects.filter(type=access.LINK_REFUSED_EVENT))
    assert not any(ref in stored for ref in links.values() if not ref.isdigit())
    assert {r.value for r in access.Refusal} == {*links, "other_officer"}


def test_an_opened_record_records_no_refusal(patient, records_officer, client_for):
    client_for(records_officer).get(reverse("privacy:patient", args=[record_link(records_officer, patient.pk)]))

    assert _refusals(records_officer) == []
