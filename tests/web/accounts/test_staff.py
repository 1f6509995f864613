"""Administrators manage staff and teams (and see no clinical content); nobody else can."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from interpersonal.web.accounts import actions
from interpersonal.web.accounts.models import AccessGrant, Team
from interpersonal.web.audit.models import AuditEvent

User = get_user_model()


def test_administrator_adds_a_therapist_whose_access_waits_for_a_clinical_confirmation(
        client_for, clinic_admin, supervisor):
    team = actions.create_team(name="North", by=clinic_admin)
    client = client_for(clinic_admin)

    response = client.post("/accounts/staff/new/", {
        "username": "nina.new", "first_name": "Nina", "last_name": "New",
        "role": "therapist", "team": team.pk, "supervisor": supervisor.pk,
    })

    nina = User.objects.get(username="nina.new")
    assert response.status_code == 200
    assert "needs a second person" in response.content.decode()
    assert (nina.role, nina.team, nina.individual_supervisor) == ("", team, None)
    assert not nina.has_usable_password()
    grant = AccessGrant.objects.get(user=nina)
    assert (grant.status, grant.role, grant.supervisor) == ("pending", "therapist", supervisor)
    event = AuditEvent.objects.get(type="account.created")
    assert event.target_id == str(nina.pk)
    assert "password" not in str(event.data)


def test_the_new_staff_form_has_no_password_for_the_administrator_to_choose(client_for, clinic_admin):
    response = client_for(clinic_admin).get("/accounts/staff/new/")

    assert 'type="password"' not in response.content.decode()


def test_a_taken_username_is_refused_and_nothing_is_created(client_for, clinic_admin, therapist):
    client = client_for(clinic_admin)

    taken = client.post("/accounts/staff/new/", {"username": therapist.username.upper(), "role": "service_lead"})

    assert taken.status_code == 400
    assert "This username is taken." in taken.content.decode()
    assert User.objects.count() == 3  # the administrator, the therapist and their supervisor
    assert not AccessGrant.objects.exists()


def test_administrator_deactivates_a_member_of_staff(client_for, clinic_admin, make_user):
    leaver = make_user("lee.leaver", "therapist")
    client = client_for(clinic_admin)

    response = client.post(f"/accounts/staff/{leaver.pk}/", {"role": "therapist", "first_name": "", "last_name": "",
                                                             "email": ""})

    leaver.refresh_from_db()
    assert response.status_code == 302
    assert leaver.is_active is False
    assert AuditEvent.objects.filter(type="account.updated", target_id=str(leaver.pk)).exists()


def test_a_therapist_with_active_courses_keeps_a_clinical_role(clinic_admin, dit_course, therapist):
    with pytest.raises(ValidationError, match="active courses"):
        actions.update_staff(user=therapist, by=clinic_admin, role="service_lead", first_name="", last_name="",
                             email="", team=None, supervisor=None, is_active=True)


def test_an_administrator_cannot_demote_or_deactivate_themselves(clinic_admin):
    with pytest.raises(ValidationError, match="your own role"):
        actions.update_staff(user=clinic_admin, by=clinic_admin, role="administrator", first_name="", last_name="",
                             email="", team=None, supervisor=None, is_active=False)


def test_an_administrator_cannot_make_anyone_a_records_officer(clinic_admin, therapist):
    """The role opens any patient's record by NHS number: an administrator (no clinical content)
    could otherwise give a second account of their own that access."""
    with pytest.raises(ValidationError, match="Only the system's superuser"):
        actions.create_staff(by=clinic_admin, username="ig.officer", role="records_officer")
    with pytest.raises(ValidationError, match="Only the system's superuser"):
        actions.update_staff(user=therapist, by=clinic_admin, role="records_officer", first_name="", last_name="",
                             email="", team=None, supervisor=None, is_active=True)

    assert not User.objects.filter(role="records_officer").exists()


def test_the_superuser_can_make_a_records_officer_and_it_is_audited(administrator):
    officer = actions.create_staff(by=administrator, username="ig.officer", role="records_officer").user

    event = AuditEvent.objects.get(type="account.created", target_id=str(officer.pk))
    assert (event.data["role"], event.actor_id) == ("records_officer", administrator.pk)


def test_an_administrator_may_edit_an_existing_records_officer_without_granting(clinic_admin, records_officer):
    actions.update_staff(user=records_officer, by=clinic_admin, role="records_officer", first_name="Rae",
                         last_name="Records", email="", team=None, supervisor=None, is_active=False)

    records_officer.refresh_from_db()
    assert (records_officer.first_name, records_officer.is_active) == ("Rae", False)


def test_a_supervisor_must_have_the_supervisor_role(clinic_admin, therapist, make_user):
    other = make_user("t.two", "therapist")
    with pytest.raises(ValidationError):
        actions.update_staff(user=other, by=clinic_admin, role="therapist", first_name="", last_name="", email="",
                             team=None, supervisor=therapist, is_active=True)


@pytest.mark.parametrize("persona", ["therapist", "supervisor", "service_lead"])
def test_only_administrators_manage_staff_and_teams(request, client_for, persona):
    client = client_for(request.getfixturevalue(persona))

    for url in ("/accounts/staff/", "/accounts/staff/new/", "/accounts/teams/"):
        assert client.get(url).status_code == 403, url
    assert client.post("/accounts/teams/", {"name": "Sneaky"}).status_code == 403
    assert not Team.objects.filter(name="Sneaky").exists()
    with pytest.raises(ValidationError):
        actions.create_team(name="Sneaky", by=request.getfixturevalue(persona))


def test_duplicate_team_names_are_refused(clinic_admin):
    actions.create_team(name="South", by=clinic_admin)
    with pytest.raises(ValidationError, match="exists"):
        actions.create_team(name="south", by=clinic_admin)


def test_anyone_signed_in_can_change_their_own_password(client_for, therapist):
    client = client_for(therapist)

    response = client.post("/accounts/password/", {
        "old_password": "a-long-synthetic-password", "new_password1": "another-long-synthetic-pass",
        "new_password2": "another-long-synthetic-pass",
    })

    therapist.refresh_from_db()
    assert response.status_code == 302
    assert therapist.check_password("another-long-synthetic-pass")


# --- an open risk alert stays in front of a clinician whatever happens to accounts (issue 12) ---


def _end_with_alert_left_open(course, therapist):
    from interpersonal.web.assessments.models import RiskAlert
    from interpersonal.web.courses.actions import end_course

    alert = RiskAlert.objects.get(course=course, acknowledged_at__isnull=True)
    end_course(course=course, reason="dropped_out", by=therapist, alerts_left_open="supervisor_to_review", alerts_seen=[alert.pk])
    return alert


def test_a_leaver_with_an_open_alert_and_no_supervisor_cannot_be_deactivated(
        clinic_admin, therapist, dit_course, risk_alert):
    _end_with_alert_left_open(dit_course, therapist)

    with pytest.raises(ValidationError, match="no clinician would see them"):
        actions.update_staff(user=therapist, by=clinic_admin, role="therapist", first_name="", last_name="",
                             email="", team=None, supervisor=None, is_active=False)

    therapist.refresh_from_db()
    assert therapist.is_active is True
    assert therapist.individual_supervisor is not None


def test_a_leaver_whose_supervisor_sees_the_open_alert_can_be_deactivated(
        clinic_admin, therapist, supervisor, dit_course, risk_alert, client_for):
    _end_with_alert_left_open(dit_course, therapist)

    actions.update_staff(user=therapist, by=clinic_admin, role="therapist", first_name="", last_name="",
                         email="", team=None, supervisor=supervisor, is_active=False)

    therapist.refresh_from_db()
    assert therapist.is_active is False
    assert dit_course.patient.local_id in client_for(supervisor).get("/caseload/").content.decode()


def test_the_only_supervisor_who_sees_a_leavers_open_alert_keeps_the_role(
        clinic_admin, therapist, supervisor, dit_course, risk_alert):
    _end_with_alert_left_open(dit_course, therapist)
    actions.update_staff(user=therapist, by=clinic_admin, role="therapist", first_name="", last_name="",
                         email="", team=None, supervisor=supervisor, is_active=False)

    for role, is_active in (("therapist", True), ("supervisor", False), ("service_lead", True)):
        with pytest.raises(ValidationError, match="only clinician who sees them"):
            actions.update_staff(user=supervisor, by=clinic_admin, role=role, first_name="", last_name="",
                                 email="", team=None, supervisor=None, is_active=is_active)


def test_once_the_alert_is_acknowledged_the_leaver_can_go(clinic_admin, therapist, supervisor, dit_course, risk_alert):
    from interpersonal.web.assessments.actions import acknowledge_alert

    alert = _end_with_alert_left_open(dit_course, therapist)
    acknowledge_alert(alert=alert, by=therapist, note="Called; safe, plan agreed.")

    actions.update_staff(user=therapist, by=clinic_admin, role="therapist", first_name="", last_name="",
                         email="", team=None, supervisor=None, is_active=False)

    therapist.refresh_from_db()
    assert therapist.is_active is False


def test_an_edit_from_a_page_loaded_before_a_reset_does_not_restore_the_old_password(clinic_admin, administrator,
                                                                                      make_user):
    """The edit page loaded the account; meanwhile its sign-in was reset. Saving the names must not
    write the old password hash (or role) back."""
    lou = make_user("lou.lead", "service_lead")
    loaded_by_the_page = type(lou).objects.get(pk=lou.pk)
    actions.reset_sign_in(user=lou, by=administrator)

    actions.update_staff(user=loaded_by_the_page, by=clinic_admin, role="service_lead", first_name="Lou",
                         last_name="Lead", email="", team=None, supervisor=None, is_active=True)

    lou.refresh_from_db()
    assert lou.first_name == "Lou"
    assert not lou.has_usable_password()
