"""``interpersonal audit verify``: check the audit hash chain (issue 7, docs/adr/0004-audit-events.md).

First seals any events still waiting to join the chain (their transaction committed, the seal
that follows it had not run: normally a matter of milliseconds, or a crash in between), then
prints ``audit trail intact: N events, last hash …`` and exits 0, or lists each problem and exits 1.
Keep the printed count and last hash somewhere else: a deleted *tail* leaves a valid chain, and
only a comparison with an earlier copy shows it.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from interpersonal.web.audit import chain, log


class Command(BaseCommand):
    help = "Audit trail tools. 'verify' checks the hash chain for edited or deleted events."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="Recompute every event's hash and check the links between them.")

    def handle(self, *args, action: str, **options) -> None:
        if action == "verify":
            self.verify()

    def verify(self) -> None:
        sealed = log.seal_pending()
        if sealed:
            self.stdout.write(f"sealed {sealed} event(s) that were waiting to join the chain")
        summary = chain.Summary()
        problems = chain.verify(summary)
        tail = f"{summary.count} events, last hash {summary.last_hash}"
        if summary.last_id is not None:
            tail += f" (event {summary.last_id})"
        if not problems:
            self.stdout.write(f"audit trail intact: {tail}")
            return
        for problem in problems:
            self.stdout.write(str(problem))
        self.stdout.write(f"checked {tail}")
        raise CommandError(f"audit trail has {len(problems)} problem(s)", returncode=1)
