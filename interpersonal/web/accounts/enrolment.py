"""One-time enrolment links: the random token, its stored hash, and finding a valid one.

The token is shown once (to whoever the link is issued to) and never stored: the database holds
its SHA-256, as for patients' questionnaire links. A link works once, before it expires, for an
active account.

A link that opens a clinical account also needs an enrolment code (split knowledge, ADR 0008):
the administrator who asked is shown the code, the clinician who confirmed receives the link, and
only the holder, given both, can enrol. Only an HMAC of the code is stored (keyed by the secret
key: a short code's plain hash could be tried exhaustively by whoever reads the table); after
``MAX_CODE_TRIES`` wrong codes the link stops working.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from interpersonal.web.accounts.models import EnrolmentLink

VALID_FOR = dt.timedelta(hours=72)
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 64
"""A real token is 43 characters; anything much longer is refused before it is hashed."""


CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""No 0/O, 1/I/L: read aloud or copied by hand without doubt."""
CODE_LENGTH = 8
MAX_CODE_LENGTH = 32
"""What the enrolment page accepts in the code box (spaces and hyphens are ignored)."""
MAX_CODE_TRIES = 5


def new_code() -> tuple[str, str]:
    """(code for display, e.g. ``K7QM-3XPA``, its HMAC)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}", hash_code(raw)


def normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch not in " -\t")


def hash_code(code: str) -> str:
    return salted_hmac("interpersonal.accounts.enrolment-code", normalise_code(code), algorithm="sha256").hexdigest()


def code_matches(link: EnrolmentLink, code: str) -> bool:
    """Whether ``code`` is the link's enrolment code (True for a link that needs none)."""
    if not link.code_hash:
        return True
    code = normalise_code(code)
    return 0 < len(code) <= MAX_CODE_LENGTH and constant_time_compare(hash_code(code), link.code_hash)


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
