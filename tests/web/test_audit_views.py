"""The audit trail page: administrators only, filters, pagination, no clinical text."""

from __future__ import annotations

import pytest
from django.urls import reverse

from interpersonal.web.audit import log

pytestmark = pytest.mark.django_db


def test_admin_sees_events_and_filters_by_patient(client_for, clinic_admin, therapist, patient):
    client = client_for(clinic_admin)
    html = client.get(reverse("audit:list")).content.decode()
    assert "patient.registered" in html
    assert "Example" not in html
    filtered = client.get(reverse("audit:list"), {"patient": patient.pk, "type": "patient."})
    assert filtered.status_code == 200
    assert "patient.registered" in filtered.content.decode()
    none = client.get(reverse("audit:list"), {"actor": "nobody"}).content.decode()
    assert "No events match" in none


def test_bad_filter_is_400(client_for, clinic_admin):
    response = client_for(clinic_admin).get(reverse("audit:list"), {"date_from": "2026-11-02", "date_to": "2026-11-01"})
    assert response.status_code == 400
    assert "before its start" in response.content.decode()


def test_paginated_by_50(client_for, clinic_admin):
    for i in range(60):
        log.record("test.event", actor=clinic_admin, target=("thing", i))
    client = client_for(clinic_admin)
    first = client.get(reverse("audit:list"), {"type": "test."}).content.decode()
    assert first.count("<code>test.event</code>") == 50
    assert "page 1 of 2" in first
    second = client.get(reverse("audit:list"), {"type": "test.", "page": 2}).content.decode()
    assert second.count("<code>test.event</code>") == 10


@pytest.mark.parametrize("persona", ["therapist", "supervisor", "service_lead"])
def test_other_roles_get_403(request, client_for, persona):
    assert client_for(request.getfixturevalue(persona)).get(reverse("audit:list")).status_code == 403
