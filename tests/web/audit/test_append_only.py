"""The audit trail is append-only and holds no foreign keys (docs/adr/0004-audit-events.md)."""

from __future__ import annotations

import pytest
from django.db import models, transaction

from interpersonal.web.audit import log
from interpersonal.web.audit.models import AppendOnlyError, AuditEvent


@pytest.fixture
def event(therapist, patient):
    return log.record("patient.viewed", actor=therapist, target=patient, patient_id=patient.pk)


def test_saving_an_existing_event_raises(event):
    event.type = "patient.forgotten"

    with pytest.raises(AppendOnlyError):
        event.save()

    assert AuditEvent.objects.get(pk=event.pk).type == "patient.viewed"


def test_deleting_an_event_raises(event):
    with pytest.raises(AppendOnlyError):
        event.delete()

    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_queryset_update_raises(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(type="patient.forgotten")

    assert AuditEvent.objects.get(pk=event.pk).type == "patient.viewed"


def test_queryset_delete_raises(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()

    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_manager_update_and_bulk_update_raise(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(type="x")
    event.type = "x"
    with pytest.raises(AppendOnlyError), transaction.atomic():  # bulk_update's own atomic(savepoint=False)
        AuditEvent.objects.bulk_update([event], ["type"])

    assert AuditEvent.objects.get(pk=event.pk).type == "patient.viewed"


def test_update_or_create_on_an_existing_event_raises(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update_or_create(pk=event.pk, defaults={"type": "x"})

    assert AuditEvent.objects.get(pk=event.pk).type == "patient.viewed"


def test_audit_event_has_no_relation_fields():
    relations = [f.name for f in AuditEvent._meta.get_fields() if f.is_relation]

    assert relations == []
    assert not any(isinstance(f, models.ForeignKey | models.OneToOneField | models.ManyToManyField)
                   for f in AuditEvent._meta.get_fields())


def test_no_model_has_a_foreign_key_to_audit_event():
    from django.apps import apps

    pointing = [f"{m._meta.label}.{f.name}" for m in apps.get_models() for f in m._meta.get_fields()
                if f.is_relation and f.related_model is AuditEvent]

    assert pointing == []


def test_events_outlive_their_actor(therapist, patient):
    event = log.record("patient.viewed", actor=therapist, target=patient, patient_id=patient.pk)
    therapist.username = "renamed"
    therapist.save()

    event.refresh_from_db()
    assert (event.actor_id, event.actor_username, event.actor_role) == (therapist.pk, "tess.therapist", "therapist")


def test_record_refuses_non_identifier_data(therapist, patient):
    with pytest.raises(TypeError):
        log.record("patient.updated", actor=therapist, target=patient, details={"note": "free text"})

    assert not AuditEvent.objects.filter(type="patient.updated").exists()
