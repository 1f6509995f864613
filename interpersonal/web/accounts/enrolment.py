"""One-time enrolment links: the random token, its stored hash, and finding a valid one.

The token is shown once (to whoever the link is issued to) and never stored: the database holds
its SHA-256, as for patients' questionnaire links. A link works once, before it expires, for an
active account.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.utils import timezone

from interpersonal.web.accounts.models import EnrolmentLink

VALID_FOR = dt.timedelta(hours=72)
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 64
"""A real token is 43 characters; anything much longer is refused before it is hashed."""


def new_token() -> tuple[str, str]:
    """(token, its hash)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def valid_link(token: str) -> EnrolmentLink | None:
    """The unused, unexpired link of an active account with this token, or None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return (EnrolmentLink.objects.select_related("user")
            .filter(token_hash=hash_token(token), used_at__isnull=True, expires_at__gt=timezone.now(),
                    user__is_active=True)
            .first())
