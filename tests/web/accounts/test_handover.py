"""Handing a caseload over (accounts.actions.hand_over_caseload): active courses, open referrals and
allocations move, open risk alerts with them; the receiving clinician's reach widens, so an
administrator's hand-over waits for a second person with clinical authority (ADR 0008)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from interpersonal.web.accounts import actions
from interpersonal.web.accounts.models import AccessGrant
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.courses.access import caseload_for
from interpersonal.web.courses.actions import end_course, start_course
from interpersonal.web.patients.access import patients_visible_to
from interpersonal.web.patients.actions import register_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(make_user, make_user_other_supervisor):
    """The clinician taking the caseload on, supervised by the other supervisor."""
    return make_user("nina.next", "therapist", first_name="Nina", last_name="Next", supervisor=make_user_other_supervisor)


def test_an_administrators_hand_over_moves_nothing_until_a_supervisor_who_does_not_gain_confirms(
        clinic_admin, therapist, receiver, supervisor, make_user_other_supervisor, dit_course, risk_alert):
    patient = dit_course.patient
    result = actions.hand_over_caseload(from_therapist=therapist, to_therapist=receiver, by=clinic_admin)

    grant = result.grant
    assert (grant.kind, grant.status, grant.handover_from_id) == (AccessGrant.Kind.CASELOAD_HANDOVER, "pending", therapist.pk)
    dit_course.refresh_from_db()
    assert dit_course.therapist_id == therapist.pk
    assert patient not in patients_visible_to(receiver)
    # Neither the receiver nor their supervisor (who would read the cases too) decides.
    assert not actions.may_decide(receiver, grant)
    assert not actions.may_decide(make_user_other_supervisor, grant)
    assert not actions.may_decide(clinic_admin, grant)

    actions.confirm_grant(grant=grant, by=supervisor)

    dit_course.refresh_from_db()
    referral = dit_course.referral
    patient.refresh_from_db()
    assert (dit_course.therapist_id, referral.therapist_id, patient.therapist_id) == (receiver.pk,) * 3
    assert dit_course.version == 2  # a page opened before the hand-over cannot write over it
    # The open risk alert moved with the course: it is on the receiver's caseload.
    assert list(caseload_for(receiver)) == [dit_course]
    assert risk_alert.course_id == dit_course.pk
    assert patient in patients_visible_to(make_user_other_supervisor)
    event = AuditEvent.objects.get(type="caseload.handed_over")
    assert (event.data["from_id"], event.data["to_id"], event.data["course_ids"]) == (
        therapist.pk, receiver.pk, [dit_course.pk])
    assert AuditEvent.objects.filter(type="patient.handed_over", patient_id=patient.pk).exists()


def test_an_ended_course_without_an_open_alert_stays_with_its_therapist(administrator, therapist, receiver, patient):
    other = register_patient(by=therapist, given_name="Ned", family_name="Ended", date_of_birth=patient.date_of_birth,
                             received_on=patient.referrals.get().received_on, source="gp")
    ended = start_course(patient=other, protocol="dit", therapist=therapist, by=therapist,
                         started_on=patient.referrals.get().received_on)
    end_course(course=ended, reason="completed", by=therapist)
    ended.referral.refresh_from_db()
    assert not ended.referral.is_open

    actions.hand_over_caseload(from_therapist=therapist, to_therapist=receiver, by=administrator)  # the superuser: now

    ended.refresh_from_db()
    assert ended.therapist_id == therapist.pk
    patient.refresh_from_db()
    assert patient.therapist_id == receiver.pk  # the open referral's patient moved


def test_a_hand_over_to_someone_who_cannot_hold_it_is_refused(clinic_admin, therapist, receiver, service_lead, dit_course):
    with pytest.raises(ValidationError, match="another clinician"):
        actions.hand_over_caseload(from_therapist=therapist, to_therapist=therapist, by=clinic_admin)
    with pytest.raises(ValidationError, match="active clinician"):
        actions.hand_over_caseload(from_therapist=therapist, to_therapist=service_lead, by=clinic_admin)
    receiver.is_active = False
    receiver.save(update_fields=["is_active"])
    with pytest.raises(ValidationError, match="active clinician"):
        actions.hand_over_caseload(from_therapist=therapist, to_therapist=receiver, by=clinic_admin)
    assert not AccessGrant.objects.exists()


def test_nothing_to_hand_over_and_a_second_request_are_refused(clinic_admin, therapist, receiver, unrelated_therapist, dit_course):
    with pytest.raises(ValidationError, match="no active course"):
        actions.hand_over_caseload(from_therapist=receiver, to_therapist=therapist, by=clinic_admin)
    actions.hand_over_caseload(from_therapist=therapist, to_therapist=receiver, by=clinic_admin)
    with pytest.raises(ValidationError, match="already waiting"):
        actions.hand_over_caseload(from_therapist=therapist, to_therapist=unrelated_therapist, by=clinic_admin)


def test_only_administrators_hand_over(therapist, receiver, supervisor, dit_course):
    for who in (therapist, supervisor):
        with pytest.raises(ValidationError, match="administrators"):
            actions.hand_over_caseload(from_therapist=therapist, to_therapist=receiver, by=who)


def test_the_page_counts_the_cases_without_naming_patients_and_records_the_request(
        client_for, clinic_admin, therapist, receiver, dit_course):
    client = client_for(clinic_admin)
    url = reverse("accounts:staff_handover", args=[therapist.pk])

    html = client.get(url).content.decode()
    assert "1 course" in html
    assert dit_course.patient.family_name not in html
    response = client.post(url, {"to_therapist": receiver.pk, "confirm": "on"})
    assert response.status_code == 200
    assert "Until then nothing moves" in response.content.decode()
    assert AccessGrant.objects.get().user_id == receiver.pk
