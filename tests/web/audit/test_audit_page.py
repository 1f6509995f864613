"""The audit trail page shows every kind of event, identifiers only."""

from __future__ import annotations

from django.urls import reverse

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
