"""A draft's text survives the end of a session: what the therapist posts after their session
ended (settings.INTERPERSONAL_SESSION_IDLE_MINUTES idle) is kept, and given back to them — and
to no one else — on the letter's page once they have signed in again.

The letter's form carries ``owner``: the user and the letter, signed with the site's key
(django.core.signing, timestamped). A post that arrives without a signed-in user is kept only
when ``owner`` is genuine and names that letter; it goes in the new, anonymous session, which
Django keeps across sign-in (``login()`` cycles the key of a session that held no user, keeping its
data; a session that held another user is flushed). On the letter's page the kept text is taken
out of the session: restored into the form for the user named by ``owner``, dropped for anyone
else. The text is never saved to the letter by this module: the therapist sees it and saves it
(the usual optimistic lock applies, against the version they had).

Bounds: a kept text obeys the letter's own bound (models.too_long); a session keeps at most
``MAX_KEPT`` letters (the oldest dropped); a signature is honoured for ``OWNER_MAX_AGE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.http import HttpRequest
from django.utils import timezone

from interpersonal.web import bounds
from interpersonal.web.audit import log
from interpersonal.web.letters.models import Letter, too_long

SESSION_KEY = "letters.kept_text"
SALT = "interpersonal.letters.kept-text-owner"
OWNER_MAX_AGE = 12 * 60 * 60
"""Seconds a page's ``owner`` stays good: a working day left open, not a stolen form re-posted next week."""
MAX_KEPT = 3


def owner_token(user: Any, letter: Letter) -> str:
    """The signed ``owner`` field of ``letter``'s form, for ``user``."""
    return signing.dumps([user.pk, letter.pk], salt=SALT, compress=False)


def _owner(token: str, letter_pk: int) -> int | None:
    try:
        user_pk, signed_letter = signing.loads(token, salt=SALT, max_age=OWNER_MAX_AGE)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if signed_letter != letter_pk or not isinstance(user_pk, int):
        return None
    return user_pk


@dataclass(frozen=True, slots=True)
class KeptText:
    body: str
    version: int
    kept_at: str


def keep(request: HttpRequest, letter_pk: int) -> bool:
    """Keep the text posted to ``letter_pk``'s form by a user whose session has ended. False (and
    nothing kept) when the post is not a genuine, bounded letter form."""
    owner = _owner(request.POST.get("owner", ""), letter_pk)
    body = request.POST.get("body")
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        return False
    if owner is None or body is None or too_long(body) or not 1 <= version <= bounds.INT_MAX:
        return False
    kept = dict(request.session.get(SESSION_KEY, {}))
    kept.pop(str(letter_pk), None)
    while len(kept) >= MAX_KEPT:
        kept.pop(min(kept, key=lambda k: kept[k]["at"]))
    kept[str(letter_pk)] = {"owner": owner, "body": body, "version": version, "at": timezone.now().isoformat()}
    request.session[SESSION_KEY] = kept
    letter = Letter.objects.filter(pk=letter_pk).values("course_id", "course__patient_id").first()
    if letter is not None:
        log.record("letter.text_kept_after_timeout", actor=None, target=("letter", letter_pk),
                   patient_id=letter["course__patient_id"], course_id=letter["course_id"], owner_id=owner)
    return True


def take(request: HttpRequest, letter: Letter) -> KeptText | None:
    """The text kept for ``letter``, if the signed-in user is the one who posted it; taken out
    of the session either way, so it is shown once, and only to them."""
    kept = dict(request.session.get(SESSION_KEY, {}))
    entry = kept.pop(str(letter.pk), None)
    if entry is None:
        return None
    request.session[SESSION_KEY] = kept
    if entry.get("owner") != request.user.pk:
        return None
    log.record("letter.text_restored_after_sign_in", actor=request.user, target=letter,
               patient_id=letter.course.patient_id, course_id=letter.course_id)
    return KeptText(body=entry["body"], version=entry["version"], kept_at=entry["at"])
