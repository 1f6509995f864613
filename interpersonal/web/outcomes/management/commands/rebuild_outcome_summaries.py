"""``interpersonal rebuild_outcome_summaries [--batch N]``: every referral's outcome summary again.

The actions keep summaries current as they write (``outcomes.summaries.refresh``); this rebuilds
them all, in batches of ``--batch`` referrals per transaction: after a bulk load that bypassed the
actions (``synth_service``), after restoring a backup, or after a change to what a summary holds.
Safe to run on a live service (each batch locks only its own referrals, briefly). Audited as
``outcomes.summaries_rebuilt`` (a count, no identifiers).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from interpersonal.web.audit import log
from interpersonal.web.outcomes import summaries


class Command(BaseCommand):
    help = "Rebuild every referral's outcome summary (what the outcomes dashboard adds up), in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=2000, help="referrals per transaction (default %(default)s)")

    def handle(self, *args: Any, batch: int, **options: Any) -> None:
        if batch < 1:
            raise CommandError("--batch must be 1 or more")
        started = time.monotonic()

        def progress(done: int) -> None:
            sys.stderr.write(f"\rrebuild_outcome_summaries: {done} referrals")
            sys.stderr.flush()

        done = summaries.rebuild(batch=batch, progress=progress)
        sys.stderr.write("\n")
        log.record("outcomes.summaries_rebuilt", actor=None, target=("outcomes", "summaries"), referrals=done)
        self.stdout.write(f"Rebuilt the outcome summaries of {done} referrals in {time.monotonic() - started:.1f} s.")
