"""Stored outcome figures: the dashboard's numbers, worked out by the task worker.

One :class:`Figures` row per computation for one set of filters (``filter_key``, a canonical
text of the filters). Written only by :mod:`interpersonal.web.outcomes.actions` (the request
asks) and :mod:`interpersonal.web.outcomes.tasks` (the worker computes). ``result`` holds the
output of ``service.report(..., by="month")`` and ``service.funnel`` as JSON: aggregates only,
therapists by pseudonymous id ("T12"), never a patient-level row.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone

STUCK_AFTER = dt.timedelta(minutes=15)
"""Figures still being worked out after this are taken to have lost their worker."""

FILTER_KEY_MAX_LENGTH = 300


class Figures(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Being worked out"
        READY = "ready", "Ready"
        FAILED = "failed", "Could not be worked out"

    filter_key = models.CharField(max_length=FILTER_KEY_MAX_LENGTH,
                                  help_text="The filters, as canonical JSON ('{}' for the whole service).")
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True, help_text="The report and funnel (aggregates only).")
    error = models.CharField(max_length=300, blank=True, help_text="What went wrong, for the user (no details).")

    class Meta:
        ordering = ["-requested_at"]
        verbose_name_plural = "figures"
        indexes = [models.Index(fields=["filter_key", "state"], name="outcomes_figures_key_state")]
        constraints = [
            # At most one computation waiting or running per filter set: a double click, two
            # service leads or a reload make one job.
            models.UniqueConstraint(fields=["filter_key"], condition=models.Q(state__in=["queued", "running"]),
                                    name="outcomes_one_pending_per_filter_set"),
        ]

    def __str__(self) -> str:
        return f"Outcome figures {self.pk} ({self.state})"

    def is_stuck(self, now: dt.datetime | None = None) -> bool:
        return self.state == self.State.RUNNING and self.started_at is not None \
            and self.started_at < (now or timezone.now()) - STUCK_AFTER

    @property
    def in_progress(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING) and not self.is_stuck()
