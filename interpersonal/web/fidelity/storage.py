"""Where encrypted recording chunks live: ``STORAGES["recordings"]`` (the filesystem by default;
any S3-compatible store through django-storages, docs/fidelity-recordings.md). Each chunk is one
object, ``<prefix>/<index>``; nothing in a name says whose recording it is."""

from __future__ import annotations

import logging

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

logger = logging.getLogger(__name__)


def recordings_storage() -> Storage:
    return storages["recordings"]


def chunk_name(prefix: str, index: int) -> str:
    return f"{prefix}/{index:06d}"


def save_chunk(prefix: str, index: int, blob: bytes) -> None:
    """Store one encrypted chunk under its exact name (an earlier, unrecorded attempt is replaced)."""
    storage, name = recordings_storage(), chunk_name(prefix, index)
    if storage.exists(name):
        storage.delete(name)
    saved = storage.save(name, ContentFile(blob))
    if saved != name:  # a backend that renames on conflict: never leave a chunk we cannot find
        storage.delete(saved)
        raise OSError("the recordings storage did not keep the chunk's name")


def read_chunk(prefix: str, index: int) -> bytes:
    with recordings_storage().open(chunk_name(prefix, index), "rb") as fh:
        data: bytes = fh.read()
        return data


def delete_all(prefix: str, chunk_count: int) -> int:
    """Delete every chunk of a recording (those listed under its prefix, and every index up to
    ``chunk_count`` in case the backend cannot list); how many were found and deleted. Failures
    are logged without the name's meaning (a random prefix) and raised for the caller to retry."""
    storage = recordings_storage()
    names = {chunk_name(prefix, i) for i in range(chunk_count)}
    try:
        _, files = storage.listdir(prefix)
        names |= {f"{prefix}/{f}" for f in files}
    except (FileNotFoundError, NotImplementedError):
        pass
    deleted = 0
    for name in sorted(names):
        if storage.exists(name):
            storage.delete(name)
            deleted += 1
    return deleted
