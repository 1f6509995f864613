"""The audit trail: append-only, no foreign keys (docs/adr/0004-audit-events.md).

An event records who did what to which object, when — identifiers only, never
free-text clinical content. Actor details are a snapshot, so events outlive users.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """Audit events are never changed or deleted."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only")


class AuditEvent(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True)
    type = models.CharField(max_length=64, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=20, blank=True)
    target_type = models.CharField(max_length=32)
    target_id = models.CharField(max_length=64)
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    data = models.JSONField(default=dict, blank=True)
    # The hash chain (chain.py), written once per event by log.seal_pending() right after the
    # event's transaction commits: ``seq`` is the event's place in the chain (NULL until sealed).
    # Both are unique, so the database itself refuses two events at one place or chaining to the
    # same predecessor.
    seq = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    previous_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.type} {self.target_type}:{self.target_id} by {self.actor_username}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only")
