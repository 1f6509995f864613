"""Write audit events. Actions call :func:`record` inside their transaction, so an
event exists exactly when its change does; access functions call it for reads."""

from __future__ import annotations

from typing import Any

from django.db import models

from interpersonal.web.audit.models import AuditEvent

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
    return AuditEvent.objects.create(
        type=event,
        actor_id=actor.pk if authenticated else None,
        actor_username=actor.get_username() if authenticated else "",
        actor_role=getattr(actor, "role", "") if authenticated else "",
        target_type=target_type,
        target_id=str(target_id),
        patient_id=patient_id,
        data={k: list(v) if isinstance(v, tuple) else v for k, v in data.items()},
    )
