"""The only writers of accounts: commands, views and tests call these.

There is no audit trail yet (the ``audit`` app does not exist); when it lands, these
actions write the event, so their callers need not change.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.password_validation import validate_password
from django.db import transaction


@dataclass(frozen=True, slots=True)
class EnsuredUser:
    user: AbstractUser
    created: bool


@transaction.atomic
def ensure_superuser(*, username: str, password: str, email: str = "", validate: bool = True) -> EnsuredUser:
    """Create the superuser ``username``, or bring an existing one up to date: active,
    staff, superuser, with this password and (when given) this email. Idempotent.

    ``validate`` runs Django's password validators first (raises ValidationError).
    """
    user_model = get_user_model()
    user = user_model.objects.select_for_update().filter(username=username).first()
    created = user is None
    if user is None:
        user = user_model(username=username)
    if validate:
        validate_password(password, user)
    if email:
        user.email = email
    user.is_active = True
    user.is_staff = True
    user.is_superuser = True
    user.set_password(password)
    user.save()
    return EnsuredUser(user=user, created=created)
