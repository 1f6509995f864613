"""``interpersonal reapply_erasures``: erase again every record the erasure register names that
the database holds — after restoring a backup that predates this version (``restore`` does it
itself otherwise). See ``privacy.register`` and docs/privacy.md "Backups"."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from interpersonal.web.privacy import erasure, register
from interpersonal.web.privacy.lookup import os_user


class Command(BaseCommand):
    help = "Erase again the records of the erasure register that are back in the database (after a restore)."

    def handle(self, *args: Any, **options: Any) -> None:
        reapply_and_report(self)


def reapply_and_report(command: BaseCommand, *, restored_from: str = "") -> None:
    """Erase again what the register names, and say what was done (also run by ``restore``)."""
    done = erasure.reapply(restored_from=restored_from, os_user=os_user())
    out = command.stdout
    out.write(f"  Erasure register {register.location()}: {len(done.erased)} record(s) erased again"
              + (f" (ids {', '.join(str(r.patient_id) for r in done.erased)})" if done.erased else "")
              + f"; {done.absent} not in this database")
    if done.other_record:
        out.write(f"  Left alone: ids {', '.join(map(str, done.other_record))} belong to other records than the ones "
                  "erased (another installation's backup, or a rebuilt database)")
    if done.unreadable_lines:
        command.stderr.write(f"  {done.unreadable_lines} line(s) of the register could not be read: check the file")
    failed = []
    if done.unverified:
        failed.append(f"ids {', '.join(map(str, done.unverified))} were erased before the register kept fingerprints, "
                      "so whether these are the same records cannot be told: check each by hand and erase it with "
                      "`interpersonal erase_patient` if it is")
    if done.refused:
        failed.append("not erased again: " + "; ".join(done.refused))
    if failed:
        raise CommandError("Records may be back that were erased. " + ". ".join(failed) + ".")
