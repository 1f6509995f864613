"""``interpersonal audit``: the audit hash chain (issues 7 and 12, docs/adr/0004-audit-events.md).

``verify`` only reads (a read-only transaction where the engine allows) and never seals. It prints
``audit trail intact: N events, last hash …`` and exits 0, or lists each problem — an edited
event, a broken link, an event dated out of time order, an event left unsealed longer than the
sealing delay or dated in the future — and exits 1. Events waiting for the seal that follows their
commit (dated within the delay) are counted, not judged.
Keep the printed count and last hash somewhere else: a deleted *tail* leaves a valid chain, and
only a comparison with an earlier copy shows it.

``seal`` runs the sealer that follows every commit, by hand: it chains the events waiting for it
(dated within the sealing delay) and never an older one.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from interpersonal.web.audit import chain, log


class Command(BaseCommand):
    help = ("Audit trail tools. 'verify' checks the hash chain, read-only; 'seal' chains the events "
            "waiting for their seal.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="Recompute every event's hash, check the links and times; change nothing.")
        sub.add_parser("seal", help="Chain the events waiting for their seal (dated within the sealing delay).")

    def handle(self, *args, action: str, **options) -> None:
        if action == "verify":
            self.verify()
        elif action == "seal":
            sealed = log.seal_pending()
            self.stdout.write(f"sealed {sealed} event(s) that were waiting to join the chain")

    def verify(self) -> None:
        summary = chain.Summary()
        problems = chain.verify(summary)
        tail = f"{summary.count} events, last hash {summary.last_hash}"
        if summary.last_id is not None:
            tail += f" (event {summary.last_id})"
        if summary.unsealed:
            tail += (f"; {summary.unsealed} event(s) dated within the last "
                     f"{chain.duration(chain.SEALING_DELAY)} waiting for their seal, not checked yet")
        if not problems:
            self.stdout.write(f"audit trail intact: {tail}")
            return
        for problem in problems:
            self.stdout.write(str(problem))
        self.stdout.write(f"checked {tail}")
        raise CommandError(f"audit trail has {len(problems)} problem(s)", returncode=1)
