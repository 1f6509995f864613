"""The audit hash chain (docs/adr/0004-audit-events.md, issue 7).

Each event stores ``previous_hash`` (the hash of the event appended before it; 64 zeros for
the first) and ``hash`` = SHA-256 over a canonical serialisation of its own content plus
``previous_hash``. :func:`verify` walks the trail in id order and reports

- an event whose content no longer matches its hash (edited), and
- a break in the links (an event's ``previous_hash`` is not the hash of the event before it:
  events were deleted in between, or the earlier event was rewritten together with its hash).

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
    kind: str  # "edited" | "broken" | "unsealed"
    event_id: int
    previous_id: int | None = None
    missing_ids: tuple[int, int] | None = None  # inclusive range, when ids are consecutive

    def __str__(self) -> str:
        if self.kind == "edited":
            return f"event {self.event_id}: content does not match its hash (edited)"
        if self.kind == "unsealed":
            return f"event {self.event_id}: has no hash"
        if self.previous_id is None:
            where = f"before event {self.event_id} (the first surviving event does not start at the genesis)"
            if self.missing_ids:
                where += f"; missing ids {_range(self.missing_ids)}"
            return f"chain broken {where}: events deleted"
        text = (f"chain broken between events {self.previous_id} and {self.event_id}: "
                f"event {self.event_id} does not link to event {self.previous_id}")
        if self.missing_ids:
            return f"{text}; missing ids {_range(self.missing_ids)} (deleted)"
        return f"{text} (event {self.previous_id} rewritten with a new hash, or events deleted)"


def _range(ids: tuple[int, int]) -> str:
    return str(ids[0]) if ids[0] == ids[1] else f"{ids[0]}–{ids[1]}"


@dataclass
class Summary:
    count: int = 0
    last_id: int | None = None
    last_hash: str = GENESIS


def check(rows: Iterable[tuple[Any, ...]], summary: Summary | None = None) -> Iterator[Problem]:
    """Problems in ``rows`` — tuples of CONTENT_FIELDS + (previous_hash, hash), in id order."""
    summary = summary if summary is not None else Summary()
    previous_id: int | None = None
    previous_hash = GENESIS
    for row in rows:
        *content, stored_previous, stored_hash = row
        event_id = content[0]
        if stored_previous != previous_hash:
            missing = None
            low = 1 if previous_id is None else previous_id + 1
            if event_id > low:
                missing = (low, event_id - 1)
            yield Problem("broken", event_id, previous_id, missing)
        if not stored_hash:
            yield Problem("unsealed", event_id)
        elif compute_hash(*content, stored_previous) != stored_hash:
            yield Problem("edited", event_id)
        previous_id, previous_hash = event_id, stored_hash
        summary.count += 1
        summary.last_id, summary.last_hash = event_id, stored_hash


def verify(summary: Summary | None = None, *, chunk_size: int = 5000) -> list[Problem]:
    """Walk the whole trail in id order; one streamed query, no per-row queries."""
    from interpersonal.web.audit.models import AuditEvent

    rows = (
        AuditEvent.objects.order_by("id")
        .values_list(*CONTENT_FIELDS, "previous_hash", "hash")
        .iterator(chunk_size=chunk_size)
    )
    return list(check(rows, summary))
