"""``interpersonal audit``: the audit hash chain (issues 7 and 12, docs/adr/0004-audit-events.md).

``verify`` only reads (a read-only transaction where the engine allows) and never seals. It prints
``audit trail intact: N events, last hash …`` and exits 0, or lists each problem — an edited
event, a broken link, an event dated out of time order, an event left unsealed longer than the
sealing delay or dated in the future — and exits 1. Events waiting for the seal that follows their
commit (dated within the delay) are counted, not judged.
Keep the printed count and last hash somewhere else: a deleted *tail* leaves a valid chain, and
only a comparison with an earlier copy shows it.

``seal`` runs the sealer that follows every commit, by hand: it chains the events waiting for it
(dated within the sealing delay) and never an older one. (``schedule_questionnaires`` runs it
every round beside the application.)

``accept-late EVENT --by USERNAME --reference REF [--yes]`` records an administrator's decision
that an event ``verify`` reports as late (never sealed) really happened, after they checked it
against the service's own records (``audit.actions.accept_late_event``). The event stays outside
the chain; ``verify`` counts it as accepted, and reports it if it changes afterwards. It prints the
event and, without ``--yes``, asks on a terminal and refuses anywhere else.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from interpersonal.web.audit import actions, chain, log
from interpersonal.web.privacy.lookup import confirm, os_user


class Command(BaseCommand):
    help = ("Audit trail tools. 'verify' checks the hash chain, read-only; 'seal' chains the events "
            "waiting for their seal; 'accept-late' records an administrator's check of a late event.")
    stealth_options = ("stdin",)  # tests answer the confirmation through a stand-in terminal

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="Recompute every event's hash, check the links and times; change nothing.")
        sub.add_parser("seal", help="Chain the events waiting for their seal (dated within the sealing delay).")
        late = sub.add_parser("accept-late", help="Record that a late (never sealed) event was checked and really happened.")
        late.add_argument("event", type=int, help="The id of the event verify reports as late.")
        late.add_argument("--by", required=True, help="The username of the administrator who checked it.")
        late.add_argument("--reference", required=True,
                          help="The incident reference, e.g. INC-2026-31 (1–64 characters; never a name).")
        late.add_argument("--yes", action="store_true", help="Accept without asking.")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "verify":
            self.verify()
        elif action == "seal":
            sealed = log.seal_pending()
            self.stdout.write(f"sealed {sealed} event(s) that were waiting to join the chain")
        elif action == "accept-late":
            self.accept_late(options)

    def accept_late(self, options: dict[str, Any]) -> None:
        from django.contrib.auth import get_user_model

        user = get_user_model()._default_manager.filter(username=options["by"]).first()
        if user is None:
            raise CommandError(f"There is no user {options['by']!r}.")
        try:
            event = actions.late_event(options["event"])
        except actions.NotAcceptable as exc:
            raise CommandError(f"Not accepted. {exc}") from None
        self.stdout.write(
            f"Event {event.pk}: {event.type}, dated {event.at:%Y-%m-%d %H:%M:%S} UTC, by "
            f"{event.actor_username or 'no user'}{f' ({event.actor_role})' if event.actor_role else ''}, "
            f"on {event.target_type} {event.target_id}"
            f"{f', patient {event.patient_id}' if event.patient_id else ''}; never sealed.\n"
            "Accept it only if the service's own records (web server logs, the record it names, the member "
            "of staff) show it happened as shown. The acceptance is itself audited, under your name.")
        if not options["yes"] and not confirm(options.get("stdin", sys.stdin), self.stdout, f"Accept event {event.pk}?"):
            raise CommandError("Nothing accepted: confirm on a terminal, or run again with --yes.")
        try:
            accepted = actions.accept_late_event(event_id=event.pk, reference=options["reference"], by=user,
                                                 os_user=os_user())
        except actions.NotAcceptable as exc:
            raise CommandError(f"Not accepted. {exc}") from None
        self.stdout.write(f"Accepted event {event.pk} as late but genuine (event {accepted.pk}); "
                          "'interpersonal audit verify' now counts it as accepted.")

    def verify(self) -> None:
        summary = chain.Summary()
        problems = chain.verify(summary)
        tail = f"{summary.count} events, last hash {summary.last_hash}"
        if summary.last_id is not None:
            tail += f" (event {summary.last_id})"
        if summary.accepted:
            tail += (f"; {summary.accepted} late event(s) outside the chain, accepted by an administrator "
                     f"({chain.LATE_ACCEPTED_EVENT})")
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
