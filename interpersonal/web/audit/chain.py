"""The audit hash chain (docs/adr/0004-audit-events.md, issues 7 and 12).

Each event, once sealed, stores ``seq`` (its place in the chain, 1, 2, 3 …), ``previous_hash``
(the hash of the event at the place before; 64 zeros for the first) and ``hash`` = SHA-256 over
a canonical serialisation of its own content plus ``previous_hash``. Events are sealed right
after their transaction commits (``log.seal_pending``: every committed, unsealed event dated
within :data:`SEALING_DELAY` of now, in id order), so an event's place follows its commit, not
its id. The sealer refuses older events: a row inserted behind the application's back and
back-dated never joins the chain, and verification names it.

:func:`verify` only reads — in a read-only transaction where the engine allows (:func:`read_only`)
— and never seals. It walks the sealed trail in chain order and reports

- an event whose content no longer matches its hash (edited),
- a break in the links (an event's ``previous_hash`` is not the hash of the event before it:
  events were deleted in between, or the earlier event was rewritten together with its hash),
- an event dated earlier than one sealed before it by more than the sealer allows
  (:data:`TIME_ORDER_TOLERANCE`): back-dated, or sealed by something other than the sealer,
- an unsealed event dated more than :data:`SEALING_DELAY` ago (the sealer will never take it:
  inserted behind the application's back, or its process stopped between commit and seal and
  no seal followed in time), and an unsealed event dated in the future.

Unsealed events dated within the delay are counted, not judged: they are waiting for the seal
that follows their commit (``interpersonal audit seal`` runs the same sealer by hand).
A truncated *tail* (the newest events deleted) leaves a valid chain; only a copy of the latest
hash and count kept elsewhere reveals it — ``interpersonal audit verify`` prints both for that.
Gaps in ids alone are not problems: a rolled-back transaction consumes an id without an event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

GENESIS = "0" * 64

# How long after its time an event may still join the chain. An honest event is sealed the moment
# its transaction commits; the delay covers the longest transaction (an erasure, a restore) and a
# crash between commit and seal that the next audited write, within the hour, repairs.
SEALING_DELAY = dt.timedelta(hours=1)
# How far ahead of the sealer's clock an event's time may be (another app server's clock).
CLOCK_SKEW = dt.timedelta(minutes=5)
# An event sealed after another may be dated before it by at most this: each was sealed within
# SEALING_DELAY after, and at most CLOCK_SKEW before, its own time.
TIME_ORDER_TOLERANCE = SEALING_DELAY + CLOCK_SKEW

# The columns hashed, in order; ``previous_hash`` follows them.
CONTENT_FIELDS = (
    "id", "at", "type", "actor_id", "actor_username", "actor_role",
    "target_type", "target_id", "patient_id", "data",
)  # fmt: skip


def _at(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def compute_hash(
    id: int,
    at: dt.datetime,
    type: str,
    actor_id: int | None,
    actor_username: str,
    actor_role: str,
    target_type: str,
    target_id: str,
    patient_id: int | None,
    data: Any,
    previous_hash: str,
) -> str:
    """SHA-256 (hex) of the canonical serialisation: a compact JSON array, keys sorted."""
    canonical = json.dumps(
        [id, _at(at), type, actor_id, actor_username, actor_role, target_type, target_id, patient_id,
         data, previous_hash],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Problem:
    kind: str  # "edited" | "broken" | "out_of_order" | "unsealed" | "future"
    event_id: int
    previous_id: int | None = None  # "broken": the event before; "out_of_order": the later-dated one before
    missing: tuple[int, int] | None = None  # places in the chain (seq), inclusive, when some are missing
    at: dt.datetime | None = None  # the event's time, for the kinds about time

    def __str__(self) -> str:
        if self.kind == "edited":
            return f"event {self.event_id}: content does not match its hash (edited)"
        when = _at(self.at)[:19].replace("T", " ") + " UTC" if self.at else "?"
        if self.kind == "out_of_order":
            return (f"event {self.event_id}: dated {when}, more than {duration(TIME_ORDER_TOLERANCE)} before "
                    f"event {self.previous_id}, which the chain holds before it (back-dated, or sealed "
                    "by something other than the sealer)")
        if self.kind == "unsealed":
            return (f"event {self.event_id}: dated {when} and still not sealed, more than "
                    f"{duration(SEALING_DELAY)} later (the sealer will not take it: inserted behind the "
                    "application's back, or its process stopped between commit and seal)")
        if self.kind == "future":
            return f"event {self.event_id}: dated {when}, in the future, and not sealed (inserted behind the application's back)"
        if self.previous_id is None:
            where = f"before event {self.event_id} (the first surviving event does not start at the genesis)"
            if self.missing:
                where += f"; missing chain places {_range(self.missing)}"
            return f"chain broken {where}: events deleted"
        text = (f"chain broken between events {self.previous_id} and {self.event_id}: "
                f"event {self.event_id} does not link to event {self.previous_id}")
        if self.missing:
            return f"{text}; missing chain places {_range(self.missing)} (deleted)"
        return f"{text} (event {self.previous_id} rewritten with a new hash, or events deleted)"


def duration(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    hours, minutes = divmod(minutes, 60)
    parts = ([f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []) + (
        [f"{minutes} minute{'s' if minutes != 1 else ''}"] if minutes else [])
    return " ".join(parts) or "0 minutes"


def _range(ids: tuple[int, int]) -> str:
    return str(ids[0]) if ids[0] == ids[1] else f"{ids[0]}–{ids[1]}"


@dataclass
class Summary:
    count: int = 0
    last_id: int | None = None
    last_hash: str = GENESIS
    unsealed: int = 0  # waiting for their seal (dated within SEALING_DELAY); late ones are problems


def check(rows: Iterable[tuple[Any, ...]], summary: Summary | None = None) -> Iterator[Problem]:
    """Problems in ``rows`` — tuples of CONTENT_FIELDS + (seq, previous_hash, hash), in seq order."""
    summary = summary if summary is not None else Summary()
    previous_id: int | None = None
    previous_seq = 0
    previous_hash = GENESIS
    latest: tuple[dt.datetime, int] | None = None  # the latest time so far in chain order, and its event
    for row in rows:
        *content, seq, stored_previous, stored_hash = row
        event_id, at = content[0], content[1]
        if stored_previous != previous_hash:
            missing = (previous_seq + 1, seq - 1) if seq > previous_seq + 1 else None
            yield Problem("broken", event_id, previous_id, missing)
        if compute_hash(*content, stored_previous) != stored_hash:
            yield Problem("edited", event_id)
        if latest is not None and at < latest[0] - TIME_ORDER_TOLERANCE:
            yield Problem("out_of_order", event_id, latest[1], at=at)
        if latest is None or at > latest[0]:
            latest = (at, event_id)
        previous_id, previous_seq, previous_hash = event_id, seq, stored_hash
        summary.count += 1
        summary.last_id, summary.last_hash = event_id, stored_hash


def verify(summary: Summary | None = None, *, now: dt.datetime | None = None, chunk_size: int = 5000,
           using: str = DEFAULT_DB_ALIAS) -> list[Problem]:
    """Walk the sealed trail in chain order (one streamed query, no per-row queries), then judge
    the unsealed events by their time. Reads only: nothing is sealed or changed."""
    from django.utils import timezone

    from interpersonal.web.audit.models import AuditEvent

    summary = summary if summary is not None else Summary()
    now = now or timezone.now()
    events = AuditEvent.objects.using(using)
    with read_only(using):
        rows = (
            events.filter(seq__isnull=False).order_by("seq")
            .values_list(*CONTENT_FIELDS, "seq", "previous_hash", "hash")
            .iterator(chunk_size=chunk_size)
        )
        problems = list(check(rows, summary))
        unsealed = events.filter(seq__isnull=True)
        summary.unsealed = unsealed.filter(at__gte=now - SEALING_DELAY, at__lte=now + CLOCK_SKEW).count()
        problems += [Problem("unsealed", event_id, at=at) for event_id, at in
                     unsealed.filter(at__lt=now - SEALING_DELAY).order_by("id").values_list("id", "at")]
        problems += [Problem("future", event_id, at=at) for event_id, at in
                     unsealed.filter(at__gt=now + CLOCK_SKEW).order_by("id").values_list("id", "at")]
    return problems


@contextmanager
def read_only(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Refuse writes on this connection for the block, where the engine allows.

    SQLite: ``PRAGMA query_only`` (per connection, any time). PostgreSQL: a REPEATABLE READ, READ
    ONLY transaction — one snapshot for the whole walk — when the block opens the transaction;
    inside a caller's transaction (a test's) it cannot be set without leaving that transaction
    read-only, so the block runs as it is."""
    connection = connections[using]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA query_only = ON")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA query_only = OFF")
    elif connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    else:
        yield
