"""Supervision relationships (issue 15): only a *current* relationship gives a supervisor reach;
adding one waits for a second person; ending one stops reach that day; an unrelated user is denied."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from interpersonal.web.accounts import actions as account_actions
from interpersonal.web.accounts.models import AccessGrant
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.courses.access import courses_visible_to, may_acknowledge_alerts
from interpersonal.web.patients.access import patients_visible_to
from interpersonal.web.referrals.screening_access import referrals_visible_to
from interpersonal.web.supervision.models import SupervisionRelationship

TODAY = timezone.localdate


def _reads(user, course) -> bool:
    return (courses_visible_to(user).filter(pk=course.pk).exists()
            and patients_visible_to(user).filter(pk=course.patient_id).exists()
            and referrals_visible_to(user).filter(pk=course.referral_id).exists())


def test_a_current_supervisor_reads_the_supervisees_course_and_an_unrelated_one_does_not(
        dit_course, supervisor, make_user_other_supervisor, unrelated_therapist):
    assert _reads(supervisor, dit_course)
    assert not courses_visible_to(make_user_other_supervisor).filter(pk=dit_course.pk).exists()
    assert not patients_visible_to(unrelated_therapist).filter(pk=dit_course.patient_id).exists()


def test_an_ended_relationship_stops_reach_on_its_end_day(dit_course, supervisor, therapist, clinic_admin,
                                                          make_user_other_supervisor):
    # A second supervisor keeps the active case seen, so ending the first one is allowed.
    SupervisionRelationship.objects.create(supervisor=make_user_other_supervisor, supervisee=therapist,
                                           kind="group", started=TODAY() - dt.timedelta(days=10),
                                           confirmed_at=timezone.now())
    relationship = SupervisionRelationship.objects.get(supervisor=supervisor, supervisee=therapist)

    account_actions.end_supervision(relationship=relationship, ended=TODAY(), by=clinic_admin)

    assert not _reads_any(supervisor, dit_course)  # the former supervisor is denied that day
    assert not may_acknowledge_alerts(supervisor, dit_course)
    assert _reads(make_user_other_supervisor, dit_course)
    assert AuditEvent.objects.filter(type="supervision.ended", target_id=str(relationship.pk)).exists()


def _reads_any(user, course) -> bool:
    return (courses_visible_to(user).filter(pk=course.pk).exists()
            or patients_visible_to(user).filter(pk=course.patient_id).exists()
            or referrals_visible_to(user).filter(pk=course.referral_id).exists())


def test_a_relationship_ending_tomorrow_still_gives_reach_today(dit_course, supervisor, therapist):
    SupervisionRelationship.objects.filter(supervisor=supervisor).update(ended=TODAY() + dt.timedelta(days=1))
    assert _reads(supervisor, dit_course)


def test_a_relationship_starting_tomorrow_gives_no_reach_today(dit_course, make_user_other_supervisor, therapist):
    SupervisionRelationship.objects.create(supervisor=make_user_other_supervisor, supervisee=therapist,
                                           started=TODAY() + dt.timedelta(days=1), confirmed_at=timezone.now())
    assert not _reads_any(make_user_other_supervisor, dit_course)


def test_ending_the_only_supervision_of_a_leaver_with_an_active_case_is_refused(dit_course, supervisor, therapist,
                                                                                clinic_admin):
    type(therapist).objects.filter(pk=therapist.pk).update(is_active=False)
    relationship = SupervisionRelationship.objects.get(supervisor=supervisor, supervisee=therapist)

    with pytest.raises(ValidationError, match="no clinician would see them"):
        account_actions.end_supervision(relationship=relationship, ended=TODAY(), by=clinic_admin)
    relationship.refresh_from_db()
    assert relationship.ended is None


def test_adding_a_supervisor_waits_for_confirmation_and_gives_no_reach_until_then(
        dit_course, therapist, make_user_other_supervisor, clinic_admin, supervisor):
    result = account_actions.add_supervision(supervisee=therapist, supervisor=make_user_other_supervisor,
                                             kind="accreditation", started=TODAY(), by=clinic_admin,
                                             cases=[dit_course])

    assert result.grant is not None
    assert result.grant.kind == AccessGrant.Kind.SUPERVISION
    assert not _reads_any(make_user_other_supervisor, dit_course)
    assert not account_actions.may_decide(make_user_other_supervisor, result.grant)  # gains by it
    account_actions.confirm_grant(grant=result.grant, by=supervisor)
    assert _reads(make_user_other_supervisor, dit_course)
    relationship = result.grant.relationship
    assert list(relationship.cases.all()) == [dit_course]
    assert AuditEvent.objects.filter(type="supervision.started", target_id=str(relationship.pk)).exists()


def test_a_declined_supervision_never_gives_reach(dit_course, therapist, make_user_other_supervisor, clinic_admin,
                                                   supervisor):
    grant = account_actions.add_supervision(supervisee=therapist, supervisor=make_user_other_supervisor,
                                            kind="group", started=TODAY(), by=clinic_admin).grant
    account_actions.decline_grant(grant=grant, by=supervisor)
    assert not _reads_any(make_user_other_supervisor, dit_course)


def test_the_staff_form_changes_the_individual_supervisor_and_keeps_history(therapist, supervisor,
                                                                            make_user_other_supervisor, administrator):
    account_actions.update_staff(user=therapist, by=administrator, role="therapist", first_name="Tess",
                                 last_name="Therapist", email="", team=None, supervisor=make_user_other_supervisor,
                                 is_active=True)

    assert therapist.individual_supervisor == make_user_other_supervisor
    old = SupervisionRelationship.objects.get(supervisor=supervisor, supervisee=therapist)
    assert old.ended == TODAY()  # kept, ended today


def test_named_cases_must_be_the_supervisees_own(dit_course, other_patient, unrelated_therapist,
                                                  make_user_other_supervisor, clinic_admin, therapist):
    theirs = other_patient.courses.get()
    with pytest.raises(ValidationError, match="own cases"):
        account_actions.add_supervision(supervisee=therapist, supervisor=make_user_other_supervisor,
                                        kind="accreditation", started=TODAY(), by=clinic_admin, cases=[theirs])


def test_only_an_administrator_adds_supervision(therapist, make_user_other_supervisor, supervisor):
    with pytest.raises(ValidationError, match="Only administrators"):
        account_actions.add_supervision(supervisee=therapist, supervisor=make_user_other_supervisor, kind="group",
                                        started=TODAY(), by=supervisor)


def test_the_staff_page_lists_supervisors_past_and_present(client_for, clinic_admin, therapist, supervisor):
    from django.urls import reverse

    SupervisionRelationship.objects.create(supervisor=supervisor, supervisee=therapist, kind="group",
                                           started=TODAY() - dt.timedelta(days=300),
                                           ended=TODAY() - dt.timedelta(days=200), confirmed_at=timezone.now())
    page = client_for(clinic_admin).get(reverse("accounts:staff_edit", args=[therapist.pk])).content.decode()
    assert page.count("Sam Supervisor") >= 2
    assert "Current" in page
    assert "Group" in page


def test_the_end_page_ends_a_relationship_with_a_date(client_for, clinic_admin, therapist, supervisor):
    from django.urls import reverse

    relationship = SupervisionRelationship.objects.get(supervisee=therapist)
    response = client_for(clinic_admin).post(reverse("supervision:relationship_end", args=[relationship.pk]),
                                             {"ended": TODAY().isoformat()})
    assert response.status_code == 302
    relationship.refresh_from_db()
    assert relationship.ended == TODAY()


def test_the_end_page_refuses_a_date_before_the_start(client_for, clinic_admin, therapist):
    from django.urls import reverse

    relationship = SupervisionRelationship.objects.get(supervisee=therapist)
    response = client_for(clinic_admin).post(reverse("supervision:relationship_end", args=[relationship.pk]),
                                             {"ended": (relationship.started - dt.timedelta(days=1)).isoformat()})
    assert response.status_code == 400
    assert "on or after the day it started" in response.content.decode()
