"""Removing someone's authenticator app without a shell (accounts.actions.reset_second_factor):
the devices go, the password stays the holder's, they enrol again at their next sign-in. For an
account that reaches patient records a second person confirms first (ADR 0008); never one's own."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from interpersonal.web.accounts import actions, mfa
from interpersonal.web.accounts.models import AccessGrant

pytestmark = pytest.mark.django_db


def phone(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_the_superuser_removes_a_therapists_app_at_once_and_the_password_stays(administrator, therapist, audit_trail):
    phone(therapist)
    password = therapist.password

    result = actions.reset_second_factor(user=therapist, by=administrator)

    assert (result.grant, result.token, result.code) == (None, None, None)
    assert not mfa.has_confirmed_device(therapist)  # the gate now sends them to set up a new app
    therapist.refresh_from_db()
    assert therapist.password == password
    (event,) = audit_trail.new()
    assert (event.type, event.target_id, event.data["devices_removed"]) == (
        "account.second_factor_reset", str(therapist.pk), 1)


def test_an_administrator_asks_and_a_supervisor_who_does_not_gain_confirms(
        clinic_admin, therapist, make_user_other_supervisor):
    device = phone(therapist)

    result = actions.reset_second_factor(user=therapist, by=clinic_admin)

    assert result.grant.kind == AccessGrant.Kind.SECOND_FACTOR_RESET
    assert result.code is None  # no link is issued, so nothing to split
    assert TOTPDevice.objects.filter(pk=device.pk).exists()  # keeps working until confirmed
    assert not actions.may_decide(clinic_admin, result.grant)

    done = actions.confirm_grant(grant=result.grant, by=make_user_other_supervisor)

    assert done.token is None
    assert not TOTPDevice.objects.filter(user=therapist).exists()
    therapist.refresh_from_db()
    assert (therapist.role, therapist.is_active) == ("therapist", True)


def test_a_second_request_while_one_waits_is_refused(clinic_admin, therapist):
    actions.reset_second_factor(user=therapist, by=clinic_admin)
    with pytest.raises(ValidationError, match="already waiting"):
        actions.reset_second_factor(user=therapist, by=clinic_admin)


def test_an_administrators_app_is_removed_once_another_administrator_confirms(clinic_admin, make_user, supervisor):
    other = make_user("ola.otheradmin", "administrator")
    phone(other)
    grant = actions.reset_second_factor(user=other, by=clinic_admin).grant

    assert not actions.may_decide(supervisor, grant)  # reads no patient: administrators decide
    third = make_user("tim.thirdadmin", "administrator")
    actions.confirm_grant(grant=grant, by=third)
    assert not TOTPDevice.objects.filter(user=other).exists()


def test_nobody_removes_their_own_app(clinic_admin, administrator):
    phone(clinic_admin)
    with pytest.raises(ValidationError, match="your own"):
        actions.reset_second_factor(user=clinic_admin, by=clinic_admin)
    with pytest.raises(ValidationError, match="your own"):
        actions.reset_second_factor(user=administrator, by=administrator)
    assert TOTPDevice.objects.filter(user=clinic_admin).exists()


def test_only_the_superuser_resets_the_superusers_app(clinic_admin, administrator):
    phone(administrator)
    with pytest.raises(ValidationError, match="superuser"):
        actions.reset_second_factor(user=administrator, by=clinic_admin)
    assert TOTPDevice.objects.filter(user=administrator).exists()


def test_a_therapist_cannot_remove_anyones_app(therapist, unrelated_therapist):
    phone(unrelated_therapist)
    with pytest.raises(ValidationError, match="administrators"):
        actions.reset_second_factor(user=unrelated_therapist, by=therapist)
    assert TOTPDevice.objects.filter(user=unrelated_therapist).exists()


def test_the_page_asks_for_a_check_then_records_the_request(client_for, clinic_admin, therapist):
    phone(therapist)
    client = client_for(clinic_admin)
    url = reverse("accounts:staff_reset_mfa", args=[therapist.pk])

    assert "1 device now" in client.get(url).content.decode()
    assert client.post(url, {"confirm": ""}).status_code == 400  # the check box is required
    assert not AccessGrant.objects.exists()
    response = client.post(url, {"confirm": "on"})
    assert response.status_code == 200
    assert "needs a second person" in response.content.decode()
    assert AccessGrant.objects.get().kind == AccessGrant.Kind.SECOND_FACTOR_RESET
