"""Granting or widening reach into patient records needs a second person with clinical authority
(ADR 0008); narrowing is immediate; the service lead sees every request."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django_otp.plugins.otp_totp.models import TOTPDevice

from interpersonal.web.accounts import actions
from interpersonal.web.accounts.models import AccessGrant, EnrolmentLink, Role
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.patients.access import patients_visible_to

User = get_user_model()


def edit(user, *, by, **changes):
    fields = {"role": user.role, "first_name": user.first_name, "last_name": user.last_name, "email": user.email,
              "team": user.team, "supervisor": user.individual_supervisor, "is_active": user.is_active, **changes}
    return actions.update_staff(user=user, by=by, **fields)


def test_assigning_a_supervisor_waits_and_gives_no_access_until_confirmed(
        clinic_admin, make_user_other_supervisor, therapist, patient, supervisor):
    result = edit(therapist, by=clinic_admin, supervisor=make_user_other_supervisor)

    therapist.refresh_from_db()
    assert therapist.individual_supervisor == supervisor  # unchanged
    assert patient not in patients_visible_to(make_user_other_supervisor)
    assert result.grant.status == AccessGrant.Status.PENDING
    assert AuditEvent.objects.filter(type="access_grant.requested", target_id=str(result.grant.pk)).exists()


def test_the_new_supervisor_cannot_confirm_a_grant_that_gives_them_access(
        clinic_admin, make_user_other_supervisor, therapist, supervisor):
    grant = edit(therapist, by=clinic_admin, supervisor=make_user_other_supervisor).grant

    with pytest.raises(ValidationError, match="cannot decide"):
        actions.confirm_grant(grant=grant, by=make_user_other_supervisor)

    therapist.refresh_from_db()
    assert therapist.individual_supervisor == supervisor


def test_another_supervisor_confirms_and_the_access_then_takes_effect(
        clinic_admin, make_user_other_supervisor, therapist, patient, supervisor, make_user):
    third = make_user("tia.third", "supervisor")
    grant = edit(therapist, by=clinic_admin, supervisor=make_user_other_supervisor).grant

    result = actions.confirm_grant(grant=grant, by=third)

    therapist.refresh_from_db()
    assert therapist.individual_supervisor == make_user_other_supervisor
    assert patient in patients_visible_to(make_user_other_supervisor)
    assert result.token is None  # the therapist keeps their own sign-in
    assert AccessGrant.objects.get(pk=grant.pk).decided_by == third
    assert AuditEvent.objects.filter(type="access_grant.confirmed", actor_id=third.pk).exists()


@pytest.mark.parametrize("persona", ["clinic_admin", "service_lead", "therapist", "records_officer"])
def test_only_clinical_authority_confirms(request, persona, clinic_admin, make_user):
    grant = actions.create_staff(by=clinic_admin, username="nia.new", role=Role.THERAPIST).grant

    with pytest.raises(ValidationError, match="cannot decide"):
        actions.confirm_grant(grant=grant, by=request.getfixturevalue(persona))

    assert User.objects.get(username="nia.new").role == ""


def test_a_confirmed_new_clinician_gets_a_link_given_to_the_confirmer_not_the_administrator(
        clinic_admin, supervisor):
    created = actions.create_staff(by=clinic_admin, username="nia.new", role=Role.THERAPIST)
    assert created.token is None  # the administrator never holds the clinical account's link

    confirmed = actions.confirm_grant(grant=created.grant, by=supervisor)

    nia = User.objects.get(username="nia.new")
    assert nia.role == Role.THERAPIST
    assert confirmed.token
    assert EnrolmentLink.objects.filter(user=nia, used_at__isnull=True).count() == 1


def test_an_account_the_administrator_enrolled_loses_that_sign_in_when_it_becomes_clinical(
        clinic_admin, supervisor):
    """A service lead's account, whose link the administrator received, then asked to be a
    therapist: on confirmation the password the administrator could know stops working."""
    created = actions.create_staff(by=clinic_admin, username="lou.lead", role=Role.SERVICE_LEAD)
    lou = actions.complete_enrolment(token=created.token, password="the-administrator-knows-this")
    TOTPDevice.objects.create(user=lou, name="admin's phone", confirmed=True)
    grant = edit(lou, by=clinic_admin, role=Role.THERAPIST).grant

    result = actions.confirm_grant(grant=grant, by=supervisor)

    lou.refresh_from_db()
    assert lou.role == Role.THERAPIST
    assert not lou.check_password("the-administrator-knows-this")
    assert not TOTPDevice.objects.filter(user=lou).exists()
    assert result.token


def test_declining_changes_nothing_and_a_grant_is_decided_once(clinic_admin, supervisor, make_user_other_supervisor):
    grant = actions.create_staff(by=clinic_admin, username="nia.new", role=Role.SUPERVISOR).grant

    actions.decline_grant(grant=grant, by=supervisor)

    assert User.objects.get(username="nia.new").role == ""
    assert AuditEvent.objects.filter(type="access_grant.declined", actor_id=supervisor.pk).exists()
    with pytest.raises(ValidationError, match="already declined"):
        actions.confirm_grant(grant=grant, by=make_user_other_supervisor)


def test_letting_a_clinician_sign_in_again_waits_for_confirmation(clinic_admin, make_user):
    leaver = make_user("lee.leaver", "therapist", is_active=False)

    result = edit(leaver, by=clinic_admin, is_active=True)

    leaver.refresh_from_db()
    assert leaver.is_active is False
    assert result.grant.is_active is True


def test_giving_a_leaver_a_new_supervisor_waits_because_their_patients_stay_theirs(
        clinic_admin, make_user, make_user_other_supervisor):
    leaver = make_user("lee.leaver", "therapist", is_active=False)

    result = edit(leaver, by=clinic_admin, supervisor=make_user_other_supervisor)

    leaver.refresh_from_db()
    assert leaver.individual_supervisor is None
    assert result.grant.supervisor == make_user_other_supervisor


def test_a_later_change_withdraws_a_waiting_request_so_it_cannot_undo_it(clinic_admin, therapist, supervisor,
                                                                      make_user_other_supervisor, make_user):
    third = make_user("tia.third", "supervisor")
    grant = edit(therapist, by=clinic_admin, supervisor=make_user_other_supervisor).grant
    therapist.refresh_from_db()
    edit(therapist, by=clinic_admin, is_active=False)  # they leave before anyone confirms

    with pytest.raises(ValidationError, match="already withdrawn"):
        actions.confirm_grant(grant=grant, by=third)

    therapist.refresh_from_db()
    assert (therapist.is_active, therapist.individual_supervisor) == (False, supervisor)


def test_narrowing_takes_effect_at_once(clinic_admin, therapist, supervisor, patient):
    result = edit(therapist, by=clinic_admin, supervisor=None)

    assert result.grant is None
    assert patient not in patients_visible_to(supervisor)


def test_the_superuser_grants_directly_and_receives_the_link(administrator, supervisor):
    result = actions.create_staff(by=administrator, username="nia.new", role=Role.THERAPIST, supervisor=supervisor)

    assert (result.user.role, result.user.individual_supervisor, result.grant) == (Role.THERAPIST, supervisor, None)
    assert result.token


def test_resetting_a_clinicians_sign_in_waits_and_then_removes_their_devices(clinic_admin, therapist, supervisor,
                                                                          make_user_other_supervisor):
    TOTPDevice.objects.create(user=therapist, name="phone", confirmed=True)

    requested = actions.reset_sign_in(user=therapist, by=clinic_admin)
    therapist.refresh_from_db()
    assert requested.token is None
    assert therapist.has_usable_password()

    confirmed = actions.confirm_grant(grant=requested.grant, by=make_user_other_supervisor)

    therapist.refresh_from_db()
    assert not therapist.has_usable_password()
    assert not TOTPDevice.objects.filter(user=therapist).exists()
    assert confirmed.token


@pytest.mark.parametrize("role", ["administrator", "service_lead"])
def test_an_administrator_alone_cannot_take_over_another_administrator_or_the_service_lead(
        clinic_admin, supervisor, make_user, role):
    other = make_user("ola.other", role)
    TOTPDevice.objects.create(user=other, name="phone", confirmed=True)

    requested = actions.reset_sign_in(user=other, by=clinic_admin)

    other.refresh_from_db()
    assert requested.token is None
    assert requested.code
    assert other.has_usable_password()
    assert not actions.may_decide(clinic_admin, requested.grant)  # not the one who asked
    assert not actions.may_decide(supervisor, requested.grant)  # an administrator's matter


@pytest.mark.parametrize("role", ["administrator", "service_lead"])
def test_another_administrator_confirms_such_a_reset_and_the_holder_needs_both_halves(
        clinic_admin, make_user, role):
    other = make_user("ola.other", role)
    second = make_user("abe.second", "administrator")
    TOTPDevice.objects.create(user=other, name="phone", confirmed=True)
    requested = actions.reset_sign_in(user=other, by=clinic_admin)

    confirmed = actions.confirm_grant(grant=requested.grant, by=second)

    other.refresh_from_db()
    assert not other.has_usable_password()
    assert not TOTPDevice.objects.filter(user=other).exists()
    with pytest.raises(ValidationError, match="code"):
        actions.complete_enrolment(token=confirmed.token, password="a-passphrase-the-second-admin-chose")
    assert actions.complete_enrolment(token=confirmed.token, code=requested.code,
                                      password="the-holders-own-passphrase") == other


def test_an_administrator_cannot_touch_the_superusers_sign_in_or_role(clinic_admin, administrator):
    with pytest.raises(ValidationError, match="superuser"):
        actions.reset_sign_in(user=administrator, by=clinic_admin)
    with pytest.raises(ValidationError, match="superuser"):
        edit(administrator, by=clinic_admin, role=Role.SUPERVISOR)

    administrator.refresh_from_db()
    assert administrator.check_password("correct-horse-battery-staple")


def test_the_service_lead_sees_pending_and_decided_requests(client_for, clinic_admin, supervisor, service_lead):
    pending = actions.create_staff(by=clinic_admin, username="nia.new", role=Role.THERAPIST).grant
    decided = actions.create_staff(by=clinic_admin, username="ned.new", role=Role.THERAPIST).grant
    actions.decline_grant(grant=decided, by=supervisor)

    page = client_for(service_lead).get("/accounts/grants/").content.decode()

    assert "nia.new" in page
    assert "ned.new" in page
    assert "Declined" in page
    assert f"/accounts/grants/{pending.pk}/" not in page  # the service lead is told, does not decide


def test_a_supervisor_confirms_through_the_page_and_is_shown_the_link_once(client_for, clinic_admin, supervisor):
    grant = actions.create_staff(by=clinic_admin, username="nia.new", role=Role.THERAPIST).grant
    client = client_for(supervisor)

    response = client.post(f"/accounts/grants/{grant.pk}/", {"decision": "confirm"})

    assert response.status_code == 200
    assert "/accounts/enrol/" in response.content.decode()
    assert User.objects.get(username="nia.new").role == Role.THERAPIST


def test_a_therapist_cannot_open_or_decide_a_request(client_for, clinic_admin, therapist):
    grant = actions.create_staff(by=clinic_admin, username="nia.new", role=Role.THERAPIST).grant
    client = client_for(therapist)

    assert client.get("/accounts/grants/").status_code == 403
    assert client.post(f"/accounts/grants/{grant.pk}/", {"decision": "confirm"}).status_code == 403
    assert User.objects.get(username="nia.new").role == ""


def test_the_service_lead_reads_a_request_but_cannot_decide_it(client_for, clinic_admin, service_lead):
    grant = actions.create_staff(by=clinic_admin, username="nia.new", role=Role.THERAPIST).grant
    client = client_for(service_lead)

    page = client.get(f"/accounts/grants/{grant.pk}/")
    decided = client.post(f"/accounts/grants/{grant.pk}/", {"decision": "confirm"})

    assert page.status_code == 200
    assert "Record the decision" not in page.content.decode()
    assert decided.status_code == 403
    assert AccessGrant.objects.get(pk=grant.pk).status == AccessGrant.Status.PENDING


def test_the_request_page_shows_now_against_asked_for_and_which_values_change(
        client_for, clinic_admin, therapist, supervisor, make_user_other_supervisor, make_user):
    moved = edit(therapist, by=clinic_admin, supervisor=make_user_other_supervisor).grant
    leaver = make_user("liam.leaver", "therapist", supervisor=supervisor, is_active=False)
    back = edit(leaver, by=clinic_admin, is_active=True).grant
    client = client_for(make_user("tia.third", "supervisor"))

    moved_page = client.get(f"/accounts/grants/{moved.pk}/").content.decode()
    back_page = client.get(f"/accounts/grants/{back.pk}/").content.decode()

    assert (f'<th scope="row">Supervisor</th><td>{supervisor.display_name}</td>'
            f"<td>{make_user_other_supervisor.display_name} (would read this person's cases)</td><td>Yes</td>"
            in moved_page)
    assert "would read this person's cases" not in back_page  # their supervisor is not changing
    assert "<th scope=\"row\">May sign in</th><td>No</td><td>Yes</td><td>Yes</td>" in back_page
    assert "<th scope=\"row\">Role</th><td>Therapist</td><td>Therapist</td><td>No</td>" in back_page


def test_the_navigation_counts_waiting_requests_for_confirmers_and_the_service_lead(
        client_for, clinic_admin, supervisor, service_lead, therapist, make_user_other_supervisor):
    actions.create_staff(by=clinic_admin, username="nia.new", role=Role.THERAPIST)
    edit(therapist, by=clinic_admin, supervisor=make_user_other_supervisor)  # otto gains by it: not his to decide

    def badge(user):
        page = client_for(user).get("/accounts/me/").content.decode()
        start = page.find('<span class="badge">')
        return page[start:start + 60] if start >= 0 else ""

    assert badge(service_lead).startswith('<span class="badge">2<')
    assert badge(supervisor).startswith('<span class="badge">2<')
    assert badge(make_user_other_supervisor).startswith('<span class="badge">1<')
    assert badge(therapist) == ""


def test_the_reset_page_says_the_account_works_until_confirmed_and_how_to_lock_it(client_for, clinic_admin,
                                                                                  therapist):
    page = client_for(clinic_admin).get(f"/accounts/staff/{therapist.pk}/reset/").content.decode()

    assert "keep working" in page
    assert "locks it at once" in page
