"""Rules the database holds even when two requests race past the action's check."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.courses.models import Course


def test_the_database_refuses_a_second_active_course_for_a_patient(dit_course, therapist):
    with pytest.raises(IntegrityError), transaction.atomic():
        Course.objects.create(patient=dit_course.patient, protocol="ipt", therapist=therapist,
                              planned_sessions=16, started_on=timezone.localdate())


def test_reading_the_caseload_is_audited_with_course_ids_only(client_for, therapist, dit_course):
    client_for(therapist).get("/caseload/")

    event = AuditEvent.objects.get(type="caseload.viewed")
    assert event.data == {"course_ids": [dit_course.pk], "referral_ids": []}
    assert event.actor_id == therapist.pk
