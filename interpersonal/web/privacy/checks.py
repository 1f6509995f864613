"""System checks of the privacy app (run by ``manage.py check``, ``migrate`` and the server)."""

from __future__ import annotations

from typing import Any

from django.core import checks

from interpersonal.web.privacy import register


@checks.register()
def erasure_register_writable(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Erasures are refused while the register cannot be written (privacy.register): say so at start."""
    if register.writable():
        return []
    return [checks.Error(
        f"The erasure register {register.location()} cannot be written by this process: records cannot be erased.",
        hint="Set INTERPERSONAL_ERASURE_REGISTER to a file on durable storage this user can write, kept apart "
             "from the database's backups (docs/privacy.md, Backups).",
        id="privacy.E001",
    )]
