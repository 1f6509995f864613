"""Access functions: who may read or change which patient and course (STYLE.md 6)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from interpersonal.web.courses.access import (
    caseload_for,
    courses_visible_to,
    get_course_for_user,
    may_acknowledge_alerts,
)
from interpersonal.web.patients.access import get_patient_for_user, patients_visible_to

NO_CLINICAL_ACCESS = ["service_lead", "clinic_admin", "administrator"]


def test_therapist_sees_own_patient_and_course(therapist, patient, dit_course, other_patient):
    assert list(patients_visible_to(therapist)) == [patient]
    assert list(courses_visible_to(therapist)) == [dit_course]
    assert list(caseload_for(therapist)) == [dit_course]
    assert get_patient_for_user(therapist, patient.pk, write=True) == patient
    assert get_course_for_user(therapist, dit_course.pk, write=True) == dit_course


def test_unrelated_therapist_gets_404_for_another_therapists_patient_and_course(unrelated_therapist, patient, dit_course, other_patient):
    assert patient not in patients_visible_to(unrelated_therapist)
    assert dit_course not in courses_visible_to(unrelated_therapist)
    for write in (False, True):
        with pytest.raises(Http404):
            get_patient_for_user(unrelated_therapist, patient.pk, write=write)
        with pytest.raises(Http404):
            get_course_for_user(unrelated_therapist, dit_course.pk, write=write)


def test_unrelated_therapist_still_sees_their_own_caseload(unrelated_therapist, other_patient, patient):
    assert list(patients_visible_to(unrelated_therapist)) == [other_patient]
    assert list(caseload_for(unrelated_therapist)) == [other_patient.courses.get()]


def test_supervisor_reads_supervisees_patient_and_course(supervisor, patient, dit_course):
    assert get_patient_for_user(supervisor, patient.pk) == patient
    assert get_course_for_user(supervisor, dit_course.pk) == dit_course
    assert list(courses_visible_to(supervisor)) == [dit_course]


def test_supervisor_may_not_change_supervisees_records(supervisor, patient, dit_course):
    with pytest.raises(PermissionDenied):
        get_course_for_user(supervisor, dit_course.pk, write=True)
    with pytest.raises(PermissionDenied):
        get_patient_for_user(supervisor, patient.pk, write=True)

    assert list(patients_visible_to(supervisor, write=True)) == []
    assert list(courses_visible_to(supervisor, write=True)) == []


def test_supervisors_caseload_excludes_supervisees_courses(supervisor, dit_course):
    assert list(caseload_for(supervisor)) == []


def test_other_supervisor_gets_404(make_user_other_supervisor, patient, dit_course):
    with pytest.raises(Http404):
        get_patient_for_user(make_user_other_supervisor, patient.pk)
    with pytest.raises(Http404):
        get_course_for_user(make_user_other_supervisor, dit_course.pk)


@pytest.mark.parametrize("persona", NO_CLINICAL_ACCESS)
def test_roles_without_a_caseload_see_no_patients(request, persona, patient, dit_course, other_patient):
    user = request.getfixturevalue(persona)

    assert not patients_visible_to(user).exists()
    assert not courses_visible_to(user).exists()
    assert not caseload_for(user).exists()
    with pytest.raises(Http404):
        get_patient_for_user(user, patient.pk)
    with pytest.raises(Http404):
        get_course_for_user(user, dit_course.pk)
    assert not may_acknowledge_alerts(user, dit_course)


def test_superuser_without_role_has_no_clinical_access(administrator, patient, dit_course):
    assert administrator.is_superuser
    assert administrator.role == ""

    assert not patients_visible_to(administrator).exists()
    with pytest.raises(Http404):
        get_course_for_user(administrator, dit_course.pk)


def test_superuser_with_a_patient_allocated_still_has_no_clinical_access(administrator, patient):
    """Even a stray allocation does not open a record to a user without a caseload role."""
    type(patient).objects.filter(pk=patient.pk).update(therapist=administrator)

    with pytest.raises(Http404):
        get_patient_for_user(administrator, patient.pk)


def test_inactive_therapist_sees_nothing(therapist, patient, dit_course):
    therapist.is_active = False
    therapist.save()

    assert not patients_visible_to(therapist).exists()
    with pytest.raises(Http404):
        get_course_for_user(therapist, dit_course.pk)


def test_anonymous_user_sees_nothing(patient, dit_course):
    from django.contrib.auth.models import AnonymousUser

    assert not patients_visible_to(AnonymousUser()).exists()
    with pytest.raises(Http404):
        get_patient_for_user(AnonymousUser(), patient.pk)


@pytest.mark.parametrize("pk", ["abc", None, "1 OR 1=1", "", "9999999"])
def test_malformed_or_unknown_ids_are_404(therapist, dit_course, pk):
    with pytest.raises(Http404):
        get_course_for_user(therapist, pk)
    with pytest.raises(Http404):
        get_patient_for_user(therapist, pk)


def test_patient_allocated_but_course_with_another_therapist(therapist, unrelated_therapist, patient):
    """A patient allocated to ``therapist`` whose course is delivered by another therapist:
    both see the patient; only the course's therapist sees the course."""
    from interpersonal.web.courses.actions import start_course

    course = start_course(patient=patient, protocol="dit", therapist=unrelated_therapist, by=therapist)

    assert get_patient_for_user(unrelated_therapist, patient.pk) == patient
    assert get_patient_for_user(therapist, patient.pk) == patient
    assert get_course_for_user(unrelated_therapist, course.pk, write=True) == course
    with pytest.raises(Http404):
        get_course_for_user(therapist, course.pk)


def test_may_acknowledge_alerts(therapist, supervisor, unrelated_therapist, make_user_other_supervisor, dit_course):
    assert may_acknowledge_alerts(therapist, dit_course)
    assert may_acknowledge_alerts(supervisor, dit_course)
    assert not may_acknowledge_alerts(unrelated_therapist, dit_course)
    assert not may_acknowledge_alerts(make_user_other_supervisor, dit_course)
