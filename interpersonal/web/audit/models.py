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
    # The hash chain (chain.py): written by log.record() under the append lock. previous_hash is
    # unique, so the database itself refuses two events chaining to the same predecessor.
    previous_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, db_index=True, editable=False)

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

    def _seal(self) -> None:
        """Set this new event's hash, once (the hash covers the database-assigned id).

        The one write to an existing row: only while ``hash`` is still empty, bypassing the
        append-only queryset deliberately. Called by ``log.record()`` in the inserting transaction.
        """
        from interpersonal.web.audit.chain import CONTENT_FIELDS, compute_hash

        if self.pk is None or self.hash:
            raise AppendOnlyError("only a new, unsealed audit event can be sealed")
        rows = models.QuerySet(model=AuditEvent).filter(pk=self.pk, hash="")
        # Hash what the database stored (as verify() will read it), not the Python values given.
        stored = rows.values_list(*CONTENT_FIELDS, "previous_hash").first()
        if stored is None:
            raise AppendOnlyError(f"audit event {self.pk} is already sealed")
        digest = compute_hash(*stored)
        sealed = rows.update(hash=digest)
        if sealed != 1:
            raise AppendOnlyError(f"audit event {self.pk} is already sealed")
        self.hash = digest
