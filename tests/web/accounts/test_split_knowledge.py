"""A link that opens a clinical account is split knowledge (ADR 0008): the confirmer receives the
link, the requesting administrator the enrolment code, and only both together enrol — so neither
can take over the account alone. A records officer's account is the superuser's alone."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from interpersonal.web.accounts import actions, enrolment
from interpersonal.web.accounts.models import AccessGrant, EnrolmentLink, Role
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.patients.access import patients_visible_to

User = get_user_model()
PASSWORD = "a-passphrase-of-the-confirmers-choosing"


def test_a_supervisor_cannot_confirm_a_reset_of_the_records_officer(clinic_admin, supervisor, records_officer):
    requested = actions.reset_sign_in(user=records_officer, by=clinic_admin)

    assert not actions.may_decide(supervisor, requested.grant)
    with pytest.raises(ValidationError, match="cannot decide"):
        actions.confirm_grant(grant=requested.grant, by=supervisor)

    records_officer.refresh_from_db()
    assert records_officer.has_usable_password()
    assert not EnrolmentLink.objects.filter(user=records_officer).exists()


def test_only_the_superuser_confirms_a_reset_of_the_records_officer(clinic_admin, administrator, records_officer):
    requested = actions.reset_sign_in(user=records_officer, by=clinic_admin)

    confirmed = actions.confirm_grant(grant=requested.grant, by=administrator)

    assert confirmed.token
    assert actions.complete_enrolment(token=confirmed.token, code=requested.code, password=PASSWORD) == records_officer


def test_the_confirmer_alone_cannot_enrol_as_the_clinician_whose_reset_they_confirmed(
        clinic_admin, therapist, make_user_other_supervisor, patient):
    requested = actions.reset_sign_in(user=therapist, by=clinic_admin)
    confirmed = actions.confirm_grant(grant=requested.grant, by=make_user_other_supervisor)

    with pytest.raises(ValidationError, match="code"):
        actions.complete_enrolment(token=confirmed.token, password=PASSWORD)
    with pytest.raises(ValidationError, match="code is not right"):
        actions.complete_enrolment(token=confirmed.token, code="AAAA-AAAA", password=PASSWORD)

    therapist.refresh_from_db()
    assert not therapist.check_password(PASSWORD)
    assert patient not in patients_visible_to(make_user_other_supervisor)


def test_the_requester_alone_holds_only_a_code_and_no_link(clinic_admin, therapist):
    requested = actions.reset_sign_in(user=therapist, by=clinic_admin)

    assert requested.code
    assert requested.token is None
    assert not EnrolmentLink.objects.filter(user=therapist, used_at__isnull=True).exists()
    assert requested.code.replace("-", "") not in str(list(AuditEvent.objects.values_list("data", flat=True)))
    assert AccessGrant.objects.get(pk=requested.grant.pk).code_hash == enrolment.hash_code(requested.code)


def test_the_holder_with_both_halves_enrols(clinic_admin, therapist, make_user_other_supervisor):
    requested = actions.reset_sign_in(user=therapist, by=clinic_admin)
    confirmed = actions.confirm_grant(grant=requested.grant, by=make_user_other_supervisor)

    enrolled = actions.complete_enrolment(token=confirmed.token, code=requested.code.lower(), password=PASSWORD)

    therapist.refresh_from_db()
    assert enrolled == therapist
    assert therapist.check_password(PASSWORD)


def test_a_new_clinicians_link_needs_the_code_the_administrator_was_shown(clinic_admin, supervisor):
    created = actions.create_staff(by=clinic_admin, username="nia.new", role=Role.THERAPIST)
    confirmed = actions.confirm_grant(grant=created.grant, by=supervisor)

    with pytest.raises(ValidationError, match="code"):
        actions.complete_enrolment(token=confirmed.token, password=PASSWORD)
    assert actions.complete_enrolment(token=confirmed.token, code=created.code, password=PASSWORD).username == "nia.new"


def test_letting_a_leaver_in_again_needs_the_code_too(clinic_admin, supervisor, make_user):
    leaver = make_user("liam.leaver", "therapist", is_active=False)
    requested = actions.update_staff(user=leaver, by=clinic_admin, role=Role.THERAPIST, first_name="", last_name="",
                                     email="", team=None, supervisor=None, is_active=True)
    confirmed = actions.confirm_grant(grant=requested.grant, by=supervisor)

    assert requested.code
    assert confirmed.token
    with pytest.raises(ValidationError, match="code"):
        actions.complete_enrolment(token=confirmed.token, password=PASSWORD)


def test_wrong_codes_are_audited_and_void_the_link_after_the_last_try(clinic_admin, therapist,
                                                                    make_user_other_supervisor):
    requested = actions.reset_sign_in(user=therapist, by=clinic_admin)
    confirmed = actions.confirm_grant(grant=requested.grant, by=make_user_other_supervisor)

    for _ in range(enrolment.MAX_CODE_TRIES):
        with pytest.raises(ValidationError, match="code is not right"):
            actions.complete_enrolment(token=confirmed.token, code="ZZZZ-ZZZZ", password=PASSWORD)

    assert enrolment.valid_link(confirmed.token) is None
    with pytest.raises(ValidationError, match="expired or has already been used"):
        actions.complete_enrolment(token=confirmed.token, code=requested.code, password=PASSWORD)
    refused = AuditEvent.objects.filter(type="account.enrolment_code_refused", target_id=str(therapist.pk))
    assert refused.count() == enrolment.MAX_CODE_TRIES
    assert refused.order_by("-pk").first().data["link_voided"] is True


def test_a_request_without_a_code_cannot_hand_a_clinical_link_to_its_confirmer(clinic_admin, therapist, supervisor,
                                                                              make_user_other_supervisor):
    """A reset asked for before codes existed: confirming it would give the confirmer alone the account."""
    grant = actions.reset_sign_in(user=therapist, by=clinic_admin).grant
    AccessGrant.objects.filter(pk=grant.pk).update(code_hash="")

    with pytest.raises(ValidationError, match="no enrolment code"):
        actions.confirm_grant(grant=grant, by=make_user_other_supervisor)

    assert AccessGrant.objects.get(pk=grant.pk).status == AccessGrant.Status.PENDING


def test_a_non_clinical_accounts_link_needs_no_code(clinic_admin):
    created = actions.create_staff(by=clinic_admin, username="lou.lead", role=Role.SERVICE_LEAD)

    assert created.code is None
    assert actions.complete_enrolment(token=created.token, password=PASSWORD).username == "lou.lead"


def test_the_enrol_page_asks_for_the_code_and_refuses_a_wrong_one(client, clinic_admin, therapist,
                                                                  make_user_other_supervisor):
    requested = actions.reset_sign_in(user=therapist, by=clinic_admin)
    confirmed = actions.confirm_grant(grant=requested.grant, by=make_user_other_supervisor)
    path = f"/accounts/enrol/{confirmed.token}/"

    assert "Enrolment code" in client.get(path).content.decode()
    wrong = client.post(path, {"code": "ZZZZ-ZZZZ", "new_password1": PASSWORD, "new_password2": PASSWORD})
    right = client.post(path, {"code": requested.code, "new_password1": PASSWORD, "new_password2": PASSWORD})

    assert wrong.status_code == 400
    assert "That code is not right" in wrong.content.decode()
    assert right.status_code == 200
    therapist.refresh_from_db()
    assert therapist.check_password(PASSWORD)


def test_the_requesting_administrator_is_shown_the_code_once(client_for, clinic_admin, therapist):
    response = client_for(clinic_admin).post(f"/accounts/staff/{therapist.pk}/reset/", {"confirm": "on"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "enrolment-code" in page
    assert "/accounts/enrol/" not in page
    assert "keep working" in page
