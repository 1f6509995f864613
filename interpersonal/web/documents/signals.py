"""A deleted document row takes its file with it — after the commit, so a rolled-back erasure
keeps both. Erasure (privacy.erasure) deletes rows through the ORM, which sends this signal."""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from interpersonal.web.documents.models import Document
from interpersonal.web.documents.storage import documents_storage

logger = logging.getLogger(__name__)


def delete_file(name: str) -> None:
    try:
        documents_storage().delete(name)
    except OSError:
        logger.exception("documents: could not delete a generated file")  # the name says nothing of the patient


@receiver(post_delete, sender=Document)
def _delete_file(sender: Any, instance: Document, **kwargs: Any) -> None:
    if instance.file_name:
        transaction.on_commit(functools.partial(delete_file, instance.file_name), robust=True)
