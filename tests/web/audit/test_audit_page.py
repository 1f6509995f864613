"""The audit trail page shows every kind of event, identifiers only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from interpersonal.web import bounds
from interpersonal.web.assessments.actions import acknowledge_alert


def test_audit_page_lists_risk_alert_events(risk_alert, therapist, clinic_admin, client_for):
    """Regression: ``{% for k, v in e.data.items %}`` resolves ``data["items"]`` first — the
    item list of a risk_alert.raised event — so the page 500'd once any alert was raised."""
    response = client_for(clinic_admin).get(reverse("audit:list"))

    assert response.status_code == 200
    assert "risk_alert.raised" in response.content.decode()


def test_audit_page_shows_no_clinical_text(risk_alert, therapist, clinic_admin, client_for):
    acknowledge_alert(alert=risk_alert, by=therapist, note="Spoke to Pat's sister about the overdose plan")

    body = client_for(clinic_admin).get(reverse("audit:list"), {"type": "risk_alert.acknowledged"}).content.decode()

    assert "sister" not in body
    assert "overdose" not in body
    assert "Pat Example" not in body


def test_audit_page_refused_to_clinicians(therapist, supervisor, service_lead, client_for):
    for user in (therapist, supervisor, service_lead):
        assert client_for(user).get(reverse("audit:list")).status_code == 403


@pytest.mark.parametrize("field", ["date_from", "date_to"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31"])
def test_a_date_outside_the_plausible_window_is_a_form_error_not_a_500(clinic_admin, client_for, field, day):
    """Regression: ``date_to=9999-12-31`` overflowed the end-of-day sum and answered 500."""
    response = client_for(clinic_admin).get(reverse("audit:list"), {field: day})

    assert response.status_code == 400
    assert "Give a date from 1 January 2000, and not more than a year ahead." in response.content.decode()


def test_the_window_runs_from_2000_to_a_year_ahead(clinic_admin, client_for):
    client = client_for(clinic_admin)
    ahead = bounds.CLINICAL.latest()

    assert client.get(reverse("audit:list"), {"date_from": "2000-01-01", "date_to": ahead.isoformat()}).status_code == 200
    beyond = (ahead + dt.timedelta(days=1)).isoformat()
    assert client.get(reverse("audit:list"), {"date_to": beyond}).status_code == 400


def test_a_patient_id_beyond_the_column_is_a_form_error(clinic_admin, client_for):
    response = client_for(clinic_admin).get(reverse("audit:list"), {"patient": str(2**63)})

    assert response.status_code == 400
