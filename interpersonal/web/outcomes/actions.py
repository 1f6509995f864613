"""The only writers of stored outcome figures (atomic, audited with identifiers only).

A request never works out the service's figures: it asks for them here, and the task worker
(:func:`interpersonal.web.outcomes.tasks.compute_figures`) reads every course, session and
measure and stores the result. Asking again while figures for the same filters are waiting or
being worked out returns those (a partial unique constraint backs this up), so a double click,
a reload or two service leads make one job.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from interpersonal.web.audit import log
from interpersonal.web.outcomes.models import FILTER_KEY_MAX_LENGTH, STUCK_AFTER, Figures

MAX_FILTER_SETS = 50
"""The most filter sets whose latest figures are kept; the least recently worked out go first."""

STUCK_MESSAGE = "The background worker stopped while working these figures out. Ask for fresh figures again."


def filter_key(filters: dict[str, Any]) -> str:
    """The filters as canonical JSON: dates as ISO text, keys sorted; '{}' for none."""
    plain = {k: v.isoformat() if isinstance(v, dt.date) else str(v) for k, v in filters.items() if v not in (None, "")}
    key = json.dumps(plain, sort_keys=True, separators=(",", ":"))
    if len(key) > FILTER_KEY_MAX_LENGTH:  # the form's choices and date window keep it far shorter
        raise ValueError("These filters are too long.")
    return key


def filters_of(key: str) -> dict[str, Any]:
    """The keyword arguments of ``service.report`` back from :func:`filter_key`."""
    plain: dict[str, str] = json.loads(key)
    return {k: dt.date.fromisoformat(v) if k in ("since", "until") else v for k, v in plain.items()}


def pending(key: str, now: dt.datetime | None = None) -> Figures | None:
    now = now or timezone.now()
    return Figures.objects.filter(
        Q(state=Figures.State.QUEUED) | Q(state=Figures.State.RUNNING, started_at__gt=now - STUCK_AFTER),
        filter_key=key).first()


def latest_ready(key: str) -> Figures | None:
    return Figures.objects.filter(filter_key=key, state=Figures.State.READY).order_by("-finished_at", "-pk").first()


def _enqueue(figures: Figures) -> None:
    """The task row is written in this transaction (the database backend): the worker sees the
    job only once the row it names is committed."""
    from interpersonal.web.outcomes import tasks

    tasks.compute_figures.enqueue(figures.pk)


@transaction.atomic
def request_figures(*, filters: dict[str, Any], by: Any) -> Figures:
    """Fresh figures for ``filters`` (validated by the caller), worked out in the background;
    those already waiting or being worked out for the same filters if there are any."""
    key = filter_key(filters)
    now = timezone.now()
    Figures.objects.filter(filter_key=key, state=Figures.State.RUNNING, started_at__lte=now - STUCK_AFTER).update(
        state=Figures.State.FAILED, finished_at=now, error=STUCK_MESSAGE)
    existing = pending(key, now)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            figures = Figures.objects.create(filter_key=key)
    except IntegrityError:  # another request created it a moment ago
        found = pending(key)
        if found is None:  # pragma: no cover - it finished in between: ask afresh
            raise
        return found
    log.record("outcomes.figures_requested", actor=by, target=figures, filtered=bool(filters))
    _enqueue(figures)
    return figures


@transaction.atomic
def prune(*, now: dt.datetime | None = None) -> int:
    """Keep, per filter set, the latest ready figures (and any waiting or running); keep at most
    :data:`MAX_FILTER_SETS` filter sets; drop failed figures a day old. The count deleted."""
    now = now or timezone.now()
    keep: set[int] = set()
    seen: set[str] = set()
    for pk, key in Figures.objects.filter(state=Figures.State.READY).order_by("-finished_at", "-pk").values_list(
            "pk", "filter_key"):
        if key not in seen and len(seen) < MAX_FILTER_SETS:
            seen.add(key)
            keep.add(pk)
    gone = Figures.objects.filter(
        Q(state=Figures.State.READY) & ~Q(pk__in=keep)
        | Q(state=Figures.State.FAILED, finished_at__lte=now - dt.timedelta(days=1))
        | Q(state__in=[Figures.State.QUEUED, Figures.State.RUNNING], requested_at__lte=now - dt.timedelta(days=1)))
    deleted, _ = gone.delete()
    return deleted
