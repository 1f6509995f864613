"""The audit hash chain (docs/adr/0004-audit-events.md, issues 7 and 12).

Each event, once sealed, stores ``seq`` (its place in the chain, 1, 2, 3 …), ``previous_hash``
(the hash of the event at the place before; 64 zeros for the first) and ``hash`` = SHA-256 over
a canonical serialisation of its own content plus ``previous_hash``. Events are sealed right
after their transaction commits (``log.seal_pending``: every committed, unsealed event dated
within :data:`SEALING_DELAY` of now, in id order), so an event's place follows its commit, not
its id. The sealer refuses older events: a row inserted behind the application's back and
back-dated never joins the chain, and verification names it.

:func:`verify` only reads — :func:`read_only` refuses writes for it on SQLite and PostgreSQL,
inside a caller's transaction too, and raises on any other engine — and never seals. It walks the
sealed trail in chain order, then the sealed and waiting events in id order, and reports

- an event whose content no longer matches its hash (edited),
- a break in the links (an event's ``previous_hash`` is not the hash of the event before it:
  events were deleted in between, or the earlier event was rewritten together with its hash),
- an event dated earlier than one sealed before it by more than the sealer allows
  (:data:`TIME_ORDER_TOLERANCE`): back-dated, or sealed by something other than the sealer,
- an event dated more than :data:`ID_ORDER_TOLERANCE` after one written after it (a higher id):
  ``record()`` takes the time moments before the id, so one of the two was dated by hand — an
  event dated ahead is named alone ("ahead"), a back-dated one against the events written before
  it ("behind"); the sealer refuses the first kind, so a future-dated row never joins the chain
  when its time comes,
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
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, NotSupportedError, connections, transaction
from django.db.models import Q

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
# An event's time is taken moments before its id (one INSERT in one process), so in id order times
# rise, give or take the difference between two app servers' clocks (each within CLOCK_SKEW).
# Commit order does not matter here: the id is taken at the INSERT, not at the commit.
ID_ORDER_TOLERANCE = 2 * CLOCK_SKEW

# An operator's acceptance of an honest late event (actions.accept_late_event): a sealed event of
# this type, naming the late event, its content digest and a signature with the service's secret.
LATE_ACCEPTED_EVENT = "audit.late_event_accepted"
_LATE_SALT = "interpersonal.web.audit.late-event-accepted"

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


def content_digest(content: tuple[Any, ...]) -> str:
    """The hash of an unsealed event's content alone (CONTENT_FIELDS, chained to nothing)."""
    return compute_hash(*content, GENESIS)


def late_signature(event_id: int, digest: str) -> str:
    """Signs an acceptance with the service's secret: someone who can only write to the database
    cannot accept their own inserted row."""
    from django.core import signing

    return signing.Signer(salt=_LATE_SALT).signature(f"{event_id}:{digest}")


def _accepted(data: Any) -> tuple[int, str] | None:
    """The (late event id, digest) a sealed acceptance's ``data`` vouches for, if its signature holds."""
    from django.core import signing

    if not isinstance(data, dict):
        return None
    event_id, digest, signature = data.get("late_event"), data.get("digest"), data.get("signature")
    if type(event_id) is not int or not isinstance(digest, str) or not isinstance(signature, str):
        return None
    try:
        signing.Signer(salt=_LATE_SALT).unsign(f"{event_id}:{digest}:{signature}")
    except signing.BadSignature:
        return None
    return event_id, digest


@dataclass(frozen=True)
class Problem:
    # "edited" | "broken" | "out_of_order" | "unsealed" | "future" | "ahead" | "behind" | "bad_acceptance"
    kind: str
    event_id: int
    # "broken": the event before; "out_of_order": the later-dated one before; "ahead": the
    # earlier-dated event written after it
    previous_id: int | None = None
    missing: tuple[int, int] | None = None  # places in the chain (seq), inclusive, when some are missing
    at: dt.datetime | None = None  # the event's time, for the kinds about time
    # "behind": the ids (lowest, highest) and number of the events written before it and dated later
    written_before: tuple[int, int, int] | None = None

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
                    "application's back, or its process stopped between commit and seal; if the service's own "
                    "records show it happened, an administrator can accept it: 'interpersonal audit accept-late')")
        if self.kind == "ahead":
            return (f"event {self.event_id}: dated {when}, more than {duration(ID_ORDER_TOLERANCE)} after event "
                    f"{self.previous_id}, which was written after it (a later id): this event was dated "
                    f"ahead, or event {self.previous_id} back-dated (inserted behind the application's back)")
        if self.kind == "behind" and self.written_before:
            low, high, n = self.written_before
            return (f"event {self.event_id}: dated {when}, more than {duration(ID_ORDER_TOLERANCE)} before "
                    f"{n} events written before it (ids {_range((low, high))}): back-dated (inserted behind "
                    "the application's back)")
        if self.kind == "bad_acceptance":
            return (f"event {self.event_id}: an acceptance of a late event (event {self.previous_id}) whose signature "
                    "does not hold (not made by 'interpersonal audit accept-late', or the secret key changed "
                    "without SECRET_KEY_FALLBACKS)")
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
    accepted: int = 0  # late and unsealed, but accepted by an operator (unchanged since)
    # late event id -> content digest, from the sealed acceptances met in the walk
    acceptances: dict[int, str] = field(default_factory=dict)


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
        if content[2] == LATE_ACCEPTED_EVENT:
            vouched = _accepted(content[-1])
            if vouched is None:
                named = content[-1].get("late_event") if isinstance(content[-1], dict) else None
                yield Problem("bad_acceptance", event_id, named if type(named) is int else None)
            else:
                summary.acceptances[vouched[0]] = vouched[1]
        previous_id, previous_seq, previous_hash = event_id, seq, stored_hash
        summary.count += 1
        summary.last_id, summary.last_hash = event_id, stored_hash


def check_id_order(rows: Iterable[tuple[int, dt.datetime]]) -> list[Problem]:
    """Problems with time against id order in ``rows`` — (id, at) pairs in *descending* id order.

    An event dated more than :data:`ID_ORDER_TOLERANCE` after the earliest-dated event written
    after it (a higher id) was not dated by ``record()``. Which of the two is false shows in the
    numbers: an event dated ahead (the forged future-dated row) stands alone against the events
    written after it; a back-dated event has every event written before it, and dated more than the
    tolerance later, against it. So the pairs are grouped by that earliest-dated later event: one
    event against it is reported as "ahead", several as one "behind" problem for the later event."""
    earliest: tuple[dt.datetime, int] | None = None  # the earliest time among higher ids, and its event
    against: dict[int, list[tuple[int, dt.datetime]]] = {}
    times: dict[int, dt.datetime] = {}
    for event_id, at in rows:
        if earliest is not None and at > earliest[0] + ID_ORDER_TOLERANCE:
            against.setdefault(earliest[1], []).append((event_id, at))
            times[earliest[1]] = earliest[0]
        if earliest is None or at < earliest[0]:
            earliest = (at, event_id)
    problems = []
    for later_id, ahead in against.items():
        if len(ahead) == 1:
            problems.append(Problem("ahead", ahead[0][0], later_id, at=ahead[0][1]))
        else:
            ids = [event_id for event_id, _ in ahead]
            problems.append(Problem("behind", later_id, at=times[later_id],
                                    written_before=(min(ids), max(ids), len(ids))))
    return sorted(problems, key=lambda p: p.event_id)


def verify(summary: Summary | None = None, *, now: dt.datetime | None = None, chunk_size: int = 5000,
           using: str = DEFAULT_DB_ALIAS) -> list[Problem]:
    """Walk the sealed trail in chain order (one streamed query, no per-row queries), then the
    sealed and waiting events in id order (a second), then judge the unsealed events by their
    time. Reads only: nothing is sealed or changed."""
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
        # Late and future unsealed events are reported below; they take no part in the id order.
        placed = events.filter(Q(seq__isnull=False) | Q(at__gte=now - SEALING_DELAY, at__lte=now + CLOCK_SKEW))
        problems += check_id_order(placed.order_by("-id").values_list("id", "at").iterator(chunk_size=chunk_size))
        unsealed = events.filter(seq__isnull=True)
        summary.unsealed = unsealed.filter(at__gte=now - SEALING_DELAY, at__lte=now + CLOCK_SKEW).count()
        late = unsealed.filter(at__lt=now - SEALING_DELAY).order_by("id").values_list(*CONTENT_FIELDS)
        for content in late.iterator(chunk_size=chunk_size):
            event_id, at = content[0], content[1]
            accepted = summary.acceptances.get(event_id)
            if accepted is None:
                problems.append(Problem("unsealed", event_id, at=at))
            elif accepted != content_digest(content):
                problems.append(Problem("edited", event_id))  # changed since an operator accepted it
            else:
                summary.accepted += 1
        problems += [Problem("future", event_id, at=at) for event_id, at in
                     unsealed.filter(at__gt=now + CLOCK_SKEW).order_by("id").values_list("id", "at")]
    return problems


@contextmanager
def read_only(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Refuse writes on this connection for the block; raise NotSupportedError where that cannot
    be done, rather than run the block as if it were read-only.

    SQLite: ``PRAGMA query_only`` (per connection, at any time; the previous setting is restored),
    inside a savepoint when the caller has a transaction open.
    PostgreSQL, opening the transaction: ``REPEATABLE READ, READ ONLY`` — one snapshot for the
    whole walk. PostgreSQL inside a caller's transaction: a savepoint made ``READ ONLY`` (a
    transaction may always turn read-only) and rolled back at the end, which restores the caller's
    read-write mode; the walk then sees the caller's snapshot, at the caller's isolation level."""
    connection = connections[using]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA query_only")
            before = cursor.fetchone()[0]
            cursor.execute("PRAGMA query_only = ON")
        try:
            # Inside a caller's transaction, a savepoint keeps a refused write from spoiling it.
            with transaction.atomic(using=using) if connection.in_atomic_block else nullcontext():
                yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA query_only = {'ON' if before else 'OFF'}")
    elif connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    elif connection.vendor == "postgresql":
        with transaction.atomic(using=using, savepoint=True):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
            try:
                yield
            finally:
                # Rolling back to the savepoint undoes READ ONLY (and nothing else: nothing was written).
                transaction.set_rollback(True, using=using)
    else:
        raise NotSupportedError(f"audit verification cannot make a {connection.vendor} connection read-only")
