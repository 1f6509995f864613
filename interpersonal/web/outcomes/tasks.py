"""Background task that works out the service's outcome figures (run by ``interpersonal
db_worker``, queue "default"; docs/performance.md, "Outcomes").

:func:`compute_figures` takes only the figures' id. It claims the row (queued → running), reads
every course, session and measure and runs ``service.report`` and ``service.funnel`` outside any
transaction (at national scale this takes tens of seconds, and on SQLite a transaction holds the
database's write lock), stores the result and marks the row ready. A failure marks it failed
with a message for the user; the traceback goes to the worker's log (no local variables).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from interpersonal.core.outcomes import service
from interpersonal.web.outcomes import actions
from interpersonal.web.outcomes import dataset as outcomes_dataset
from interpersonal.web.outcomes.models import Figures

logger = logging.getLogger(__name__)

READY, FAILED, SKIPPED = "ready", "failed", "skipped"
FAILED_MESSAGE = ("These figures could not be worked out. Ask for fresh figures again; if that fails too, "
                  "tell the service's administrator and quote figures {pk}.")


@task()
def compute_figures(figures_id: int) -> str:
    """Work out and store the figures; the outcome (ready, failed or skipped)."""
    outcome = compute(figures_id)
    logger.info("outcomes: figures %s: %s", figures_id, outcome)
    return outcome


def _claim(figures_id: int) -> Figures | None:
    with transaction.atomic():
        figures = Figures.objects.select_for_update().filter(pk=figures_id, state=Figures.State.QUEUED).first()
        if figures is None:  # worked out already, or pruned meanwhile
            return None
        figures.state, figures.started_at = Figures.State.RUNNING, timezone.now()
        figures.save(update_fields=["state", "started_at"])
        return figures


def _plain(value: Any) -> Any:
    """JSON the database accepts: NaN and infinities (which PostgreSQL's jsonb refuses) as None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def work_out(filters: dict[str, Any]) -> dict[str, Any]:
    """The whole-service computation: the report by month and the funnel for ``filters``."""
    data = outcomes_dataset.from_database(since=filters.get("since"), until=filters.get("until"))
    report = service.report(data, by="month", **filters)
    # The funnel compares therapists with the whole (filtered) service, so never narrows to one.
    funnel = service.funnel(data, **{k: v for k, v in filters.items() if k != "therapist"})
    return _plain({"report": report, "funnel": funnel})


def compute(figures_id: int) -> str:
    figures = _claim(figures_id)
    if figures is None:
        return SKIPPED
    try:
        result = work_out(actions.filters_of(figures.filter_key))
    except Exception:
        logger.exception("outcomes: figures %s could not be worked out", figures_id)
        Figures.objects.filter(pk=figures_id, state=Figures.State.RUNNING).update(
            state=Figures.State.FAILED, finished_at=timezone.now(), error=FAILED_MESSAGE.format(pk=figures_id))
        return FAILED
    stored = Figures.objects.filter(pk=figures_id, state=Figures.State.RUNNING).update(
        state=Figures.State.READY, finished_at=timezone.now(), result=result)
    if not stored:
        return SKIPPED
    actions.prune()
    return READY
