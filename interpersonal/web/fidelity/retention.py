"""Retention of recordings (docs/fidelity-recordings.md, "Retention"). The rule:

1. A recording's media are deleted ``INTERPERSONAL_RECORDINGS_RETENTION_DAYS`` (default 90) after
   the upload started, whatever else holds: the patient consented to a recording for supervision
   and rating, not to an archive.
2. Sooner, ``INTERPERSONAL_RECORDINGS_KEEP_AFTER_RATING_DAYS`` (default 14) after its last rating
   was submitted, once every rating assigned to it is submitted — unless a supervisor holds it for
   accreditation (then rule 1 alone applies). Accreditation reads the ratings, which are kept.
3. An upload never finished is deleted ``INTERPERSONAL_RECORDINGS_ABANDONED_HOURS`` (default 24)
   after it started.

What is deleted is the media (the encrypted chunks and the wrapped key); the row stays as a
tombstone (when, why) with its ratings. :func:`expire_due` runs each round of the scheduler
(``interpersonal schedule_questionnaires --loop``, beside the task worker), and is audited per
recording as ``recording.media_deleted``. :func:`sweep_orphans` deletes chunks no live recording
owns (a deletion that failed after its commit).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q

from interpersonal.web.fidelity import rules
from interpersonal.web.fidelity import storage as media
from interpersonal.web.fidelity.actions import _delete_media
from interpersonal.web.fidelity.models import RatingAssignment, Recording


def due(now: dt.datetime) -> dict[int, str]:
    """Recording id -> why its media are due for deletion now."""
    found: dict[int, str] = {}
    live = Recording.objects.filter(state__in=[Recording.State.READY, Recording.State.UPLOADING])
    for pk in live.filter(state=Recording.State.UPLOADING, started_at__lte=now - rules.abandoned_after()).values_list(
            "pk", flat=True):
        found[pk] = Recording.DeletedBecause.ABANDONED
    for pk in live.filter(started_at__lte=now - rules.retention()).values_list("pk", flat=True):
        found.setdefault(pk, Recording.DeletedBecause.RETENTION)
    unsubmitted = RatingAssignment.objects.filter(recording=OuterRef("pk"), submitted_at__isnull=True)
    rated = (live.filter(state=Recording.State.READY, held_for_accreditation=False)
             .filter(Exists(RatingAssignment.objects.filter(recording=OuterRef("pk"))), ~Q(Exists(unsubmitted)))
             .annotate(last=Max("assignments__submitted_at"))
             .filter(last__lte=now - rules.keep_after_rating()))
    for pk in rated.values_list("pk", flat=True):
        found.setdefault(pk, Recording.DeletedBecause.RATED)
    return found


def expire_due(now: dt.datetime, *, by: Any = None) -> dict[str, int]:
    """Delete the media of every recording due (one transaction each); the count per reason."""
    counts: dict[str, int] = {}
    for pk, because in sorted(due(now).items()):
        with transaction.atomic():
            recording = (Recording.objects.select_for_update().filter(pk=pk)
                         .exclude(state__in=[Recording.State.DELETED, Recording.State.FAILED]).first())
            if recording is None:
                continue
            _delete_media(recording, because=because, by=by)
        counts[because] = counts.get(because, 0) + 1
    return counts


def sweep_orphans() -> int:
    """Delete chunk folders that belong to no uploading or ready recording; how many folders."""
    storage = media.recordings_storage()
    try:
        folders, _ = storage.listdir("")
    except (FileNotFoundError, NotImplementedError):
        return 0
    live = set(Recording.objects.filter(storage_prefix__in=folders,
                                        state__in=[Recording.State.UPLOADING, Recording.State.READY])
               .values_list("storage_prefix", flat=True))
    swept = 0
    for folder in folders:
        if folder not in live:
            media.delete_all(folder, 0)
            swept += 1
    return swept
