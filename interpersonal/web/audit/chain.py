"""The audit hash chain (docs/adr/0004-audit-events.md, issue 7).

Each event, once sealed, stores ``seq`` (its place in the chain, 1, 2, 3 …), ``previous_hash``
(the hash of the event at the place before; 64 zeros for the first) and ``hash`` = SHA-256 over
a canonical serialisation of its own content plus ``previous_hash``. Events are sealed right
after their transaction commits (``log.seal_pending``: every committed, unsealed event, in id
order), so an event's place follows its commit, not its id.
:func:`verify` walks the sealed trail in chain order and reports

- an event whose content no longer matches its hash (edited), and
- a break in the links (an event's ``previous_hash`` is not the hash of the event before it:
  events were deleted in between, or the earlier event was rewritten together with its hash).

Events not yet sealed (committed a moment ago, or left by a crash between commit and seal) are
counted, not judged: ``interpersonal audit verify`` seals them first.
A truncated *tail* (the newest events deleted) leaves a valid chain; only a copy of the latest
hash and count kept elsewhere reveals it — ``interpersonal audit verify`` prints both for that.
Gaps in ids alone are not problems: a rolled-back transaction consumes an id without an event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64

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
    kind: str  # "edited" | "broken"
    event_id: int
    previous_id: int | None = None
    missing: tuple[int, int] | None = None  # places in the chain (seq), inclusive, when some are missing

    def __str__(self) -> str:
        if self.kind == "edited":
            return f"event {self.event_id}: content does not match its hash (edited)"
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


def _range(ids: tuple[int, int]) -> str:
    return str(ids[0]) if ids[0] == ids[1] else f"{ids[0]}–{ids[1]}"


@dataclass
class Summary:
    count: int = 0
    last_id: int | None = None
    last_hash: str = GENESIS
    unsealed: int = 0


def check(rows: Iterable[tuple[Any, ...]], summary: Summary | None = None) -> Iterator[Problem]:
    """Problems in ``rows`` — tuples of CONTENT_FIELDS + (seq, previous_hash, hash), in seq order."""
    summary = summary if summary is not None else Summary()
    previous_id: int | None = None
    previous_seq = 0
    previous_hash = GENESIS
    for row in rows:
        *content, seq, stored_previous, stored_hash = row
        event_id = content[0]
        if stored_previous != previous_hash:
            missing = (previous_seq + 1, seq - 1) if seq > previous_seq + 1 else None
            yield Problem("broken", event_id, previous_id, missing)
        if compute_hash(*content, stored_previous) != stored_hash:
            yield Problem("edited", event_id)
        previous_id, previous_seq, previous_hash = event_id, seq, stored_hash
        summary.count += 1
        summary.last_id, summary.last_hash = event_id, stored_hash


def verify(summary: Summary | None = None, *, chunk_size: int = 5000) -> list[Problem]:
    """Walk the sealed trail in chain order; one streamed query, no per-row queries."""
    from interpersonal.web.audit.models import AuditEvent

    summary = summary if summary is not None else Summary()
    rows = (
        AuditEvent.objects.filter(seq__isnull=False).order_by("seq")
        .values_list(*CONTENT_FIELDS, "seq", "previous_hash", "hash")
        .iterator(chunk_size=chunk_size)
    )
    problems = list(check(rows, summary))
    summary.unsealed = AuditEvent.objects.filter(seq__isnull=True).count()
    return problems
