"""Audit staff sign-in, sign-out and login lockout (issue 7), from Django's and axes' signals.

Connected in :meth:`AccountsConfig.ready`, so every way in — the login page, the admin, a test
client's ``login()`` — is audited the same way. Events hold identifiers only: never a password,
and never an attempted username verbatim (people type their password into the username box). A
failed or locked-out attempt names the account it was for when one has that username, and
``target_id`` is empty otherwise.
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model, user_logged_in, user_logged_out, user_login_failed

from interpersonal.web.audit import log

DISPATCH_PREFIX = "interpersonal.web.accounts.audit."


def connect() -> None:
    user_logged_in.connect(logged_in, dispatch_uid=DISPATCH_PREFIX + "logged_in")
    user_login_failed.connect(login_failed, dispatch_uid=DISPATCH_PREFIX + "login_failed")
    user_logged_out.connect(logged_out, dispatch_uid=DISPATCH_PREFIX + "logged_out")
    user_locked_out.connect(locked_out, dispatch_uid=DISPATCH_PREFIX + "locked_out")


def logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    log.record("login.succeeded", actor=user, target=user)


def login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Django has already replaced the password in ``credentials`` with asterisks; only the
    # username is read here, and only to find the account's id.
    username = credentials.get(get_user_model().USERNAME_FIELD)
    log.record("login.failed", actor=None, target=_account(username))


def logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:  # signing out without a session is no event
        log.record("logout", actor=user, target=user)


def locked_out(sender: Any, request: Any, username: str | None = None, **kwargs: Any) -> None:
    log.record("login.locked_out", actor=None, target=_account(username))


def _account(username: Any) -> tuple[str, Any]:
    """``("user", pk)`` of the account with this username, or ``("user", "")`` if none has it."""
    user_model = get_user_model()
    pk = None
    if isinstance(username, str) and username:
        pk = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).values_list("pk", flat=True).first()
    return ("user", pk if pk is not None else "")
