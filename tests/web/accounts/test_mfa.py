"""Staff second factor (TOTP): setup, verify, and the gate in front of every staff page."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from interpersonal.web.questionnaires.actions import issue_link

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def require_mfa(settings):
    settings.INTERPERSONAL_REQUIRE_MFA = True


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_therapist_without_a_device_is_sent_to_setup_from_every_page(therapist):
    client = signed_in(therapist)

    for path in ("/", "/caseload/", "/accounts/me/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/mfa/setup/"), path


def test_setup_shows_an_inline_svg_qr_code_and_the_secret(therapist):
    response = signed_in(therapist).get("/accounts/mfa/setup/")

    html = response.content.decode()
    device = TOTPDevice.objects.get(user=therapist)
    assert response.status_code == 200
    assert "<svg" in html
    assert 'style="' not in html.split('<main', 1)[-1]  # nothing the Content Security Policy would block
    assert not device.confirmed
    assert len(html.split('class="mfa-secret">')[1].split("<")[0].replace(" ", "")) == 32


def test_setup_confirmed_with_a_correct_code_opens_the_pages(therapist):
    client = signed_in(therapist)
    client.get("/accounts/mfa/setup/")
    device = TOTPDevice.objects.get(user=therapist)

    response = client.post("/accounts/mfa/setup/", {"code": code_for(device)})

    device.refresh_from_db()
    assert response.status_code == 302
    assert device.confirmed
    assert client.get("/accounts/me/").status_code == 200


def test_setup_refuses_a_wrong_code(therapist):
    client = signed_in(therapist)
    client.get("/accounts/mfa/setup/")
    device = TOTPDevice.objects.get(user=therapist)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"

    response = client.post("/accounts/mfa/setup/", {"code": wrong})

    device.refresh_from_db()
    assert response.status_code == 400
    assert not device.confirmed
    assert client.get("/accounts/me/")["Location"].startswith("/accounts/mfa/setup/")


def test_setup_cannot_add_a_second_device_before_verifying(therapist):
    confirmed_device(therapist)

    response = signed_in(therapist).get("/accounts/mfa/setup/")

    assert response["Location"].startswith("/accounts/mfa/verify/")
    assert TOTPDevice.objects.filter(user=therapist).count() == 1


def test_user_with_a_device_is_sent_to_verify_and_a_correct_code_lets_them_in(supervisor):
    device = confirmed_device(supervisor)
    client = signed_in(supervisor)
    assert client.get("/accounts/me/")["Location"].startswith("/accounts/mfa/verify/")

    response = client.post("/accounts/mfa/verify/", {"code": code_for(device)})

    assert response.status_code == 302
    assert client.get("/accounts/me/").status_code == 200


def test_verify_returns_to_the_page_asked_for_and_never_off_site(supervisor, therapist):
    device = confirmed_device(supervisor)
    other_device = confirmed_device(therapist)
    client = signed_in(supervisor)
    sent_to = client.get("/accounts/me/")["Location"]
    assert sent_to == "/accounts/mfa/verify/?next=%2Faccounts%2Fme%2F"

    response = client.post(sent_to, {"code": code_for(device)})
    elsewhere = signed_in(therapist).post("/accounts/mfa/verify/?next=https://evil.example/",
                                         {"code": code_for(other_device)})

    assert response["Location"] == "/accounts/me/"
    assert elsewhere["Location"] == "/"


@pytest.mark.parametrize("next_", ["x", "home2", "a:b", "patients:list"])
def test_verify_with_a_next_that_is_not_a_path_goes_home(therapist, next_):
    """Found by tests/web/test_fuzz_forms.py: after the right code, a ``?next`` that is not a path
    (no "/" or ".") reached ``redirect()``, which tried it as a URL pattern name: NoReverseMatch, a
    500 (or, for a real name, a page the user did not ask for). Only a path on this site is followed."""
    device = confirmed_device(therapist)

    response = signed_in(therapist).post(f"/accounts/mfa/verify/?{urlencode({'next': next_})}",
                                         {"code": code_for(device)})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_verify_refuses_a_wrong_code(supervisor):
    device = confirmed_device(supervisor)
    client = signed_in(supervisor)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"

    response = client.post("/accounts/mfa/verify/", {"code": wrong})

    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert client.get("/accounts/me/")["Location"].startswith("/accounts/mfa/verify/")


def test_service_lead_and_administrator_are_asked_too(service_lead, administrator):
    for user in (service_lead, administrator):
        assert signed_in(user).get("/accounts/me/")["Location"].startswith("/accounts/mfa/setup/")


def test_user_without_a_role_is_not_asked(make_user):
    user = make_user("no.role", role="")

    assert signed_in(user).get("/accounts/me/").status_code == 200


def test_setting_off_relaxes_the_requirement(therapist, settings):
    settings.INTERPERSONAL_REQUIRE_MFA = False

    assert signed_in(therapist).get("/accounts/me/").status_code == 200


def test_unverified_staff_may_still_sign_out_reach_healthz_static_and_patient_pages(therapist, dit_course):
    _, token = issue_link(course=dit_course, instruments=["phq9"], by=therapist)
    client = signed_in(therapist)

    assert client.get("/healthz").status_code == 200
    static = client.get("/static/interpersonal/site.css")
    # response.close() sends request_finished, whose close_old_connections would drop the
    # database connection inside the test's transaction (on PostgreSQL); the test client
    # guards its own requests the same way.
    request_finished.disconnect(close_old_connections)
    try:
        static.close()
    finally:
        request_finished.connect(close_old_connections)
    assert static.status_code == 200
    assert client.get(f"/q/{token}/").status_code == 200
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"


def test_anonymous_visitors_still_go_to_the_login_page(db):
    response = Client().get("/caseload/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- Audit of the second factor (issue 7) ---------------------------------------------------

def stored_text(event) -> str:
    """Every stored value of the event, as one string to search for secrets."""
    return " ".join(str(getattr(event, f.attname)) for f in type(event)._meta.concrete_fields)


def wrong_code_for(device: TOTPDevice) -> str:
    return f"{(int(code_for(device)) + 1) % 1_000_000:06d}"


def test_enrolling_a_device_is_audited_once_without_the_code_or_secret(therapist, audit_trail):
    client = signed_in(therapist)
    client.get("/accounts/mfa/setup/")
    device = TOTPDevice.objects.get(user=therapist)
    code = code_for(device)
    audit_trail.mark()

    client.post("/accounts/mfa/setup/", {"code": code})

    [event] = audit_trail.new()
    assert event.type == "mfa.enrolled"
    assert event.actor_id == therapist.pk
    assert (event.target_type, event.target_id) == ("user", str(therapist.pk))
    assert event.data == {"device": device.pk}
    assert code not in stored_text(event)
    assert device.key not in stored_text(event)


def test_a_wrong_code_at_setup_is_audited_once_without_the_code(therapist, audit_trail):
    client = signed_in(therapist)
    client.get("/accounts/mfa/setup/")
    device = TOTPDevice.objects.get(user=therapist)
    wrong = wrong_code_for(device)
    audit_trail.mark()

    client.post("/accounts/mfa/setup/", {"code": wrong})

    [event] = audit_trail.new()
    assert event.type == "mfa.failed"
    assert event.actor_id == therapist.pk
    assert (event.target_type, event.target_id) == ("user", str(therapist.pk))
    assert event.data == {"device": device.pk, "stage": "setup"}
    assert wrong not in stored_text(event)


def test_a_verification_is_audited_once_without_the_code(supervisor, audit_trail):
    device = confirmed_device(supervisor)
    client = signed_in(supervisor)
    code = code_for(device)
    audit_trail.mark()

    client.post("/accounts/mfa/verify/", {"code": code})

    [event] = audit_trail.new()
    assert event.type == "mfa.verified"
    assert event.actor_id == supervisor.pk
    assert (event.target_type, event.target_id) == ("user", str(supervisor.pk))
    assert event.data == {"device": device.pk}
    assert code not in stored_text(event)
    assert device.key not in stored_text(event)


def test_a_wrong_code_at_verify_is_audited_once_without_the_code(supervisor, audit_trail):
    device = confirmed_device(supervisor)
    client = signed_in(supervisor)
    wrong = wrong_code_for(device)
    audit_trail.mark()

    client.post("/accounts/mfa/verify/", {"code": wrong})

    [event] = audit_trail.new()
    assert event.type == "mfa.failed"
    assert event.actor_id == supervisor.pk
    assert (event.target_type, event.target_id) == ("user", str(supervisor.pk))
    assert event.data == {"stage": "verify"}
    assert wrong not in stored_text(event)


def test_a_malformed_code_is_refused_by_the_form_and_writes_nothing(supervisor, audit_trail):
    confirmed_device(supervisor)
    client = signed_in(supervisor)
    audit_trail.mark()

    response = client.post("/accounts/mfa/verify/", {"code": "12"})

    assert response.status_code == 400
    assert audit_trail.new() == []


def test_a_session_verified_with_a_removed_app_is_sent_to_set_up_a_new_one(therapist, administrator):
    """Removing someone's authenticator app (accounts.actions.reset_second_factor) ends what the old
    app opened: a session verified with it is asked to enrol again at its next request."""
    from interpersonal.web.accounts.actions import reset_second_factor

    device = confirmed_device(therapist)
    client = signed_in(therapist)
    client.post("/accounts/mfa/verify/", {"code": code_for(device)})
    assert client.get("/accounts/me/").status_code == 200

    reset_second_factor(user=therapist, by=administrator)

    assert client.get("/accounts/me/")["Location"].startswith("/accounts/mfa/setup/")
