"""Signed values of the public self-referral form (django.core.signing, keyed by SECRET_KEY).

* The **start token**, a hidden field: when the form was opened. A form sent sooner than
  ``INTERPERSONAL_SELF_REFERRAL_MIN_SECONDS`` after it was opened, or with no token or a forged
  one, is a bot's; one older than ``INTERPERSONAL_SELF_REFERRAL_MAX_HOURS`` is shown again to
  check and send (a person who left it open overnight loses nothing).
* The **receipt**, in the thank-you page's address: the reference the person was given, readable
  for an hour (a shared computer's history shows no reference after that).
"""

from __future__ import annotations

import secrets
import time
from enum import StrEnum

from django.conf import settings
from django.core import signing

START_SALT = "interpersonal.referrals.self_referral.started"
RECEIPT_SALT = "interpersonal.referrals.self_referral.receipt"
RECEIPT_MAX_AGE = 3600


class Verdict(StrEnum):
    OK = "ok"
    TOO_FAST = "too_fast"
    EXPIRED = "expired"
    FORGED = "forged"
    """Missing, altered, or not made by this server."""


def start_token(now: float | None = None) -> str:
    return signing.dumps({"t": now if now is not None else time.time(), "n": secrets.token_urlsafe(6)},
                         salt=START_SALT, compress=True)


def judge(token: str, now: float | None = None) -> Verdict:
    """Whether a form opened with ``token`` may be recorded. The time is the one signed into the
    token (the signature makes it trustworthy), so the token's age and the fill time agree."""
    now = time.time() if now is None else now
    try:
        payload = signing.loads(token or "", salt=START_SALT)
    except signing.BadSignature:
        return Verdict.FORGED
    started = payload.get("t") if isinstance(payload, dict) else None
    if not isinstance(started, int | float) or started > now + 60:
        return Verdict.FORGED
    if now - started > settings.INTERPERSONAL_SELF_REFERRAL_MAX_HOURS * 3600:
        return Verdict.EXPIRED
    if now - started < settings.INTERPERSONAL_SELF_REFERRAL_MIN_SECONDS:
        return Verdict.TOO_FAST
    return Verdict.OK


def receipt(reference: str) -> str:
    return signing.dumps(reference, salt=RECEIPT_SALT)


def read_receipt(value: str) -> str | None:
    """The reference in a receipt made in the last hour; None otherwise."""
    try:
        reference = signing.loads(value or "", salt=RECEIPT_SALT, max_age=RECEIPT_MAX_AGE)
    except signing.BadSignature:
        return None
    return reference if isinstance(reference, str) and len(reference) <= 9 else None
