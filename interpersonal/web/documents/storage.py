"""The storage that holds generated documents (``STORAGES["documents"]``: owner-only files)."""

from __future__ import annotations

from django.core.files.storage import Storage, storages


def documents_storage() -> Storage:
    return storages["documents"]
