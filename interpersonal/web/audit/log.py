"""Write audit events. Actions call :func:`record` inside their transaction, so an
event exists exactly when its change does; access functions call it for reads."""

from __future__ import annotations

from typing import Any

from django.db import connection, models, transaction

from interpersonal.web.audit.chain import GENESIS
from interpersonal.web.audit.models import AuditEvent

# pg_advisory_xact_lock key serialising appends to the chain ("audit" in ASCII).
APPEND_LOCK = 0x61756469740

_ALLOWED_DATA = (str, int, float, bool, type(None))


def record(
    event: str,
    *,
    actor: Any,
    target: models.Model | tuple[str, Any],
    patient_id: int | None = None,
    **data: Any,
) -> AuditEvent:
    """Append one event. ``data`` holds identifiers, codes and field names only."""
    for key, value in data.items():
        if not isinstance(value, _ALLOWED_DATA) and not (
            isinstance(value, list | tuple) and all(isinstance(v, _ALLOWED_DATA) for v in value)
        ):
            raise TypeError(f"audit data {key!r} must be a plain identifier, not {type(value).__name__}")
    if isinstance(target, models.Model):
        target_type, target_id = target._meta.label_lower.split(".")[-1], target.pk
    else:
        target_type, target_id = target
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    with transaction.atomic():
        _lock_appends()
        latest = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        created = AuditEvent.objects.create(
            previous_hash=latest or GENESIS,
            hash="",
            type=event,
            actor_id=actor.pk if authenticated else None,
            actor_username=actor.get_username() if authenticated else "",
            actor_role=getattr(actor, "role", "") if authenticated else "",
            target_type=target_type,
            target_id=str(target_id),
            patient_id=patient_id,
            data={k: list(v) if isinstance(v, tuple) else v for k, v in data.items()},
        )
        created._seal()
    return created


def _lock_appends() -> None:
    """Serialise appends until the caller's transaction ends, so no two events chain to the
    same predecessor. SQLite needs nothing: transaction_mode=IMMEDIATE (web/env.py) already
    takes the database's write lock at BEGIN."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [APPEND_LOCK])
