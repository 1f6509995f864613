"""A deleted recording row takes its encrypted chunks with it — after the commit, so a rolled-back
erasure keeps both. Erasure (privacy.erasure) deletes rows through the ORM, which sends this signal."""

from __future__ import annotations

import functools
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from interpersonal.web.fidelity.actions import delete_files
from interpersonal.web.fidelity.models import Recording


@receiver(post_delete, sender=Recording)
def _delete_media(sender: Any, instance: Recording, **kwargs: Any) -> None:
    count = max(instance.chunk_count, instance.chunks_received)
    transaction.on_commit(functools.partial(delete_files, instance.storage_prefix, count), robust=True)
