"""Write audit events. Actions call :func:`record` inside their transaction, so an
event exists exactly when its change does; access functions call it for reads.

The event is inserted *unsealed* and joins the hash chain (chain.py) right after its
transaction commits (:func:`seal_pending`, run by ``transaction.on_commit``). Sealing inside
the caller's transaction would hold the chain's lock from the first audit event to commit,
while the caller goes on taking row locks — two such transactions deadlock (seen on PostgreSQL
under concurrent questionnaire submissions). The sealer holds the lock only for its own short
transaction and never waits for any other lock, so it cannot take part in a deadlock.

An event written outside any transaction (a read's, from an access function) is inserted and
sealed in one transaction that takes the sealer's lock first and no other: the same guarantee,
with one commit per audited read instead of two.

The sealer takes only events dated within ``chain.SEALING_DELAY`` before now (and at most
``chain.CLOCK_SKEW`` after): a row inserted directly into the table, back-dated, stays unsealed
and ``interpersonal audit verify`` reports it, instead of being chained as if it were genuine.
Nor does it take an event dated more than ``chain.ID_ORDER_TOLERANCE`` after an event written
after it (a higher id): ``record()`` dates an event moments before its id is taken, so such a row
was dated ahead — a forged future-dated row that would otherwise join the chain once its time came.

Sealing also runs every minute beside the application (``schedule_questionnaires --loop``), so an
event whose post-commit seal was lost (a crash, a locked database) joins the chain within minutes.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import DateTimeField, Exists, ExpressionWrapper, OuterRef, Q
from django.utils import timezone

from interpersonal.web.audit.chain import (
    CLOCK_SKEW,
    CONTENT_FIELDS,
    GENESIS,
    ID_ORDER_TOLERANCE,
    SEALING_DELAY,
    compute_hash,
)
from interpersonal.web.audit.models import AuditEvent

# pg_advisory_xact_lock key serialising the sealer ("audit" in ASCII).
SEAL_LOCK = 0x61756469740
SEAL_BATCH = 500

logger = logging.getLogger(__name__)

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
    fields = {
        "type": event,
        "actor_id": actor.pk if authenticated else None,
        "actor_username": actor.get_username() if authenticated else "",
        "actor_role": getattr(actor, "role", "") if authenticated else "",
        "target_type": target_type,
        "target_id": str(target_id),
        "patient_id": patient_id,
        "data": {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()},
    }
    if not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        # An event on its own (a read's): inserted and sealed in one short transaction that takes
        # the sealer's lock first and no other lock — one commit instead of two, and no deadlock.
        with transaction.atomic():
            _lock_sealer(DEFAULT_DB_ALIAS)
            created = AuditEvent.objects.create(**fields)
            _seal(DEFAULT_DB_ALIAS)
        return created
    created = AuditEvent.objects.create(**fields)
    _seal_after_commit()
    return created


def _seal_after_commit(using: str = DEFAULT_DB_ALIAS) -> None:
    """Register :func:`seal_pending` once per transaction (straight away in autocommit)."""
    connection = connections[using]
    if connection.in_atomic_block and any(func is seal_pending for _, func, _ in connection.run_on_commit):
        return
    # robust: the change is committed by then; a failed seal is logged and the next one catches up.
    transaction.on_commit(seal_pending, using=using, robust=True)


def seal_before_commit(using: str = DEFAULT_DB_ALIAS) -> int:
    """Seal the transaction's own events (and any others waiting) now, as its LAST step, instead of
    in a second transaction after the commit: one commit per audited write, not two.

    Only at the very end of a transaction that takes no lock afterwards: it then holds every row
    lock it needs before it asks for the sealer's, and the sealer's holder waits for nothing, so
    no cycle of waits can form (the deadlock the module docstring describes needs a transaction
    that takes a row lock *after* the sealer's). The post-commit seal it registered is dropped.
    Outside a transaction this is :func:`seal_pending`."""
    connection = connections[using]
    if not connection.in_atomic_block:
        return seal_pending(using)
    _lock_sealer(using)
    sealed = _seal(using)
    connection.run_on_commit = [entry for entry in connection.run_on_commit if entry[1] is not seal_pending]
    return sealed


def seal_pending(using: str = DEFAULT_DB_ALIAS) -> int:
    """Chain every committed, unsealed event dated within ``SEALING_DELAY`` of now, in id order,
    after the chain's last event. Older (or future-dated) unsealed events are left out, and so is
    an event dated more than ``ID_ORDER_TOLERANCE`` after an event written after it, for
    ``chain.verify`` to report: the sealer never vouches for a row it cannot place in time.

    Returns how many were sealed. Safe to call at any time and from any number of processes:
    sealers queue on one lock (``pg_advisory_xact_lock`` on PostgreSQL; on SQLite the
    ``BEGIN IMMEDIATE`` write lock, web/env.py), and hold it only for this short transaction.
    """
    with transaction.atomic(using=using):
        _lock_sealer(using)
        return _seal(using)


def _seal(using: str) -> int:
    """:func:`seal_pending`'s work, in a transaction that holds the sealer's lock."""
    sealed = 0
    rows = models.QuerySet(model=AuditEvent, using=using)
    head = rows.filter(seq__isnull=False).order_by("-seq").values_list("seq", "hash").first()
    seq, previous = head if head else (0, GENESIS)
    now = timezone.now()
    window = Q(at__gte=now - SEALING_DELAY, at__lte=now + CLOCK_SKEW)
    waiting = rows.filter(window, seq__isnull=True)
    # An event written after it (sealed, or waiting itself) dated well before it: dated ahead.
    # Late unsealed rows are not witnesses: verify reports them, and they must not hold others back.
    dated_ahead = Exists(rows.filter(
        Q(seq__isnull=False) | window, pk__gt=OuterRef("pk"),
        at__lt=ExpressionWrapper(OuterRef("at") - ID_ORDER_TOLERANCE, output_field=DateTimeField()),
    ))
    # One query a batch: the waiting events with whether each is dated ahead (refused, and left).
    waiting = waiting.annotate(dated_ahead=dated_ahead).order_by("id")
    refused: list[int] = []
    after: int | None = None
    while True:
        # Hash what the database stored (as verify() will read it), not the Python values given.
        page = waiting if after is None else waiting.filter(pk__gt=after)
        pending = list(page.values_list(*CONTENT_FIELDS, "dated_ahead")[:SEAL_BATCH])
        batch = []
        for *content, ahead in pending:
            after = content[0]
            if ahead:
                refused.append(after)
                continue
            seq += 1
            digest = compute_hash(*content, previous)
            batch.append(AuditEvent(id=after, seq=seq, previous_hash=previous, hash=digest))
            previous = digest
        if batch:
            # The one write to existing audit rows, bypassing the append-only queryset deliberately.
            rows.bulk_update(batch, ["seq", "previous_hash", "hash"])
            sealed += len(batch)
        if len(pending) < SEAL_BATCH:
            break
    if refused:
        logger.warning("audit: not sealing event(s) %s: dated ahead of events written after them "
                       "(run 'interpersonal audit verify')", refused[:SEAL_BATCH])
    return sealed


def _lock_sealer(using: str) -> None:
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK])
