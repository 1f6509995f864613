"""Reads of patient records through the access functions are audited."""

from __future__ import annotations

import pytest
from django.http import Http404

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.courses.access import get_course_for_user
from interpersonal.web.patients.access import get_patient_for_user


def test_get_patient_for_user_writes_patient_viewed(therapist, patient, audit_trail):
    get_patient_for_user(therapist, patient.pk)

    events = audit_trail.new()
    assert [(e.type, e.target_type, e.target_id, e.patient_id, e.actor_id, e.data) for e in events] == [
        ("patient.viewed", "patient", str(patient.pk), patient.pk, therapist.pk, {})
    ]


def test_get_course_for_user_writes_course_viewed(therapist, dit_course, audit_trail):
    get_course_for_user(therapist, dit_course.pk)

    events = audit_trail.new()
    assert [(e.type, e.target_type, e.target_id, e.patient_id, e.actor_id) for e in events] == [
        ("course.viewed", "course", str(dit_course.pk), dit_course.patient_id, therapist.pk)
    ]


def test_supervisor_read_is_audited_as_the_supervisor(supervisor, dit_course, audit_trail):
    get_course_for_user(supervisor, dit_course.pk)

    event = audit_trail.new()[0]
    assert (event.type, event.actor_id, event.actor_role) == ("course.viewed", supervisor.pk, "supervisor")


def test_refused_read_writes_no_viewed_event(unrelated_therapist, dit_course, audit_trail):
    with pytest.raises(Http404):
        get_course_for_user(unrelated_therapist, dit_course.pk)
    with pytest.raises(Http404):
        get_patient_for_user(unrelated_therapist, dit_course.patient_id)

    assert not AuditEvent.objects.filter(type__endswith=".viewed", actor_id=unrelated_therapist.pk).exists()
