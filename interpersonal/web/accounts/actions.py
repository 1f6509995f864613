"""The only writers of accounts: commands, views and tests call these (audited)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from interpersonal.web.accounts.models import Role, Team
from interpersonal.web.audit import log


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
    log.record("account.superuser_ensured", actor=None, target=user, created=created)
    return EnsuredUser(user=user, created=created)


@transaction.atomic
def ensure_user(
    *, username: str, role: str, password: str, by: Any, first_name: str = "", last_name: str = "",
    team: Team | None = None, supervisor: Any = None, validate: bool = True,
) -> EnsuredUser:
    """Create the staff member ``username`` with ``role``, or bring them up to date. Idempotent."""
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.labels)}."})
    if supervisor is not None and supervisor.role != Role.SUPERVISOR:
        raise ValidationError({"supervisor": "A supervisor must have the supervisor role."})
    user_model = get_user_model()
    user = user_model.objects.select_for_update().filter(username=username).first()
    created = user is None
    if user is None:
        user = user_model(username=username)
    if validate:
        validate_password(password, user)
    user.role, user.first_name, user.last_name = role, first_name, last_name
    user.team, user.supervisor, user.is_active = team, supervisor, True
    user.set_password(password)
    user.save()
    log.record("account.ensured", actor=by, target=user, created=created, role=role,
               team_id=team.pk if team else None, supervisor_id=supervisor.pk if supervisor else None)
    return EnsuredUser(user=user, created=created)
