"""Renaming and retiring teams (accounts.actions.rename_team, retire_team): audited, guarded by
the team's version; a retired team takes no new members and its members keep working."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from interpersonal.web.accounts import actions
from interpersonal.web.accounts.forms import EditStaffForm, NewStaffForm
from interpersonal.web.accounts.models import Team
from interpersonal.web.patients.access import patients_visible_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(clinic_admin):
    return actions.create_team(name="North", by=clinic_admin)


def test_a_rename_keeps_members_and_is_audited_without_the_names(team, clinic_admin, therapist, audit_trail):
    therapist.team = team
    therapist.save(update_fields=["team"])

    renamed = actions.rename_team(team=team, name="  North East ", by=clinic_admin, expected_version=team.version)

    assert (renamed.name, renamed.version) == ("North East", 2)
    assert list(renamed.members.all()) == [therapist]
    (event,) = audit_trail.new()
    assert event.type == "team.renamed"
    assert "North" not in str(event.data)


@pytest.mark.parametrize(("name", "error"), [("", "Give the team a name"), ("south", "exists"), ("x" * 101, "At most")])
def test_a_bad_name_is_refused_and_nothing_changes(team, clinic_admin, name, error):
    actions.create_team(name="South", by=clinic_admin)
    with pytest.raises(ValidationError, match=error):
        actions.rename_team(team=team, name=name, by=clinic_admin, expected_version=team.version)
    team.refresh_from_db()
    assert (team.name, team.version) == ("North", 1)


def test_a_rename_from_a_stale_page_never_overwrites_a_newer_one(team, clinic_admin):
    actions.rename_team(team=team, name="First", by=clinic_admin, expected_version=1)
    with pytest.raises(ValidationError, match="Someone else"):
        actions.rename_team(team=team, name="Second", by=clinic_admin, expected_version=1)
    assert Team.objects.get(pk=team.pk).name == "First"


def test_only_administrators_rename_or_retire(team, therapist, service_lead):
    for who in (therapist, service_lead):
        with pytest.raises(ValidationError, match="administrators"):
            actions.rename_team(team=team, name="Mine", by=who, expected_version=1)
        with pytest.raises(ValidationError, match="administrators"):
            actions.retire_team(team=team, by=who, expected_version=1)


def test_a_retired_team_takes_no_new_members_and_its_members_keep_working(
        team, clinic_admin, therapist, unrelated_therapist, patient, audit_trail):
    therapist.team = team
    therapist.save(update_fields=["team"])
    reach = set(patients_visible_to(therapist))

    retired = actions.retire_team(team=team, by=clinic_admin, expected_version=team.version)

    assert retired.is_retired
    assert audit_trail.new_types() == ["team.retired"]
    assert set(patients_visible_to(therapist)) == reach == {patient}
    # An edit of an existing member keeps the team; nobody new joins it.
    actions.update_staff(user=therapist, by=clinic_admin, role="therapist", first_name="Tessa", last_name="Therapist",
                         email="", team=retired, supervisor=therapist.individual_supervisor, is_active=True)
    with pytest.raises(ValidationError, match="retired"):
        actions.update_staff(user=unrelated_therapist, by=clinic_admin, role="therapist", first_name="Uma",
                             last_name="Unrelated", email="", team=retired, supervisor=unrelated_therapist.individual_supervisor,
                             is_active=True)
    with pytest.raises(ValidationError, match="retired"):
        actions.create_staff(by=clinic_admin, username="new.lead", role="service_lead", team=retired)

    back = actions.retire_team(team=retired, by=clinic_admin, expected_version=retired.version, retired=False)
    assert not back.is_retired
    assert actions.create_staff(by=clinic_admin, username="new.lead", role="service_lead", team=back).user.team == back


def test_the_staff_forms_offer_a_retired_team_only_to_its_members(team, clinic_admin, therapist):
    therapist.team = team
    therapist.save(update_fields=["team"])
    actions.retire_team(team=team, by=clinic_admin, expected_version=team.version)

    assert team not in NewStaffForm().fields["team"].queryset
    assert team in EditStaffForm(initial={"team": team}).fields["team"].queryset
    assert team not in EditStaffForm(initial={"team": None}).fields["team"].queryset


def test_the_team_page_renames_and_retires(client_for, clinic_admin, team):
    client = client_for(clinic_admin)
    url = reverse("accounts:team", args=[team.pk])

    assert client.post(url, {"action": "rename", "name": "Central", "version": "1"}).status_code == 302
    stale = client.post(url, {"action": "retire", "version": "1"})
    assert stale.status_code == 400
    assert "Someone else changed this team" in stale.content.decode()
    assert client.post(url, {"action": "retire", "version": "2"}).status_code == 302
    team.refresh_from_db()
    assert (team.name, team.is_retired) == ("Central", True)
    assert "Retired" in client.get(reverse("accounts:teams")).content.decode()
