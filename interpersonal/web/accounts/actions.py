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


# Roles that reach any patient's record without a caseload: granting one is a superuser's
# decision (the account made by `create_admin`), not any administrator's — otherwise an
# administrator, who sees no clinical content, could make themselves a second account that does.
SUPERUSER_GRANTS = frozenset({Role.RECORDS_OFFICER})


def _check_grant(by: Any, role: str, *, current: str | None = None) -> None:
    if role in SUPERUSER_GRANTS and role != current and not getattr(by, "is_superuser", False):
        label = Role(role).label
        raise ValidationError({"role": f"Only the system's superuser can make someone a {label.lower()}: the role "
                                       "opens any patient's record. Ask them (or use `interpersonal create_admin`)."})


def _require_manager(by: Any) -> None:
    from interpersonal.web.accounts.roles import Permission, has_permission

    if not has_permission(by, Permission.MANAGE_ACCOUNTS):
        raise ValidationError("Only administrators manage accounts and teams.")


def _check_supervisor(supervisor: Any, user: Any = None) -> None:
    if supervisor is None:
        return
    if supervisor.role != Role.SUPERVISOR or not supervisor.is_active:
        raise ValidationError({"supervisor": "Choose an active member of staff with the supervisor role."})
    if user is not None and supervisor.pk == user.pk:
        raise ValidationError({"supervisor": "Nobody supervises themselves."})


@transaction.atomic
def create_team(*, name: str, by: Any) -> Team:
    _require_manager(by)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the team a name."})
    if Team.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": "A team with this name exists."})
    team = Team.objects.create(name=name)
    log.record("team.created", actor=by, target=team)
    return team


@transaction.atomic
def create_staff(
    *, by: Any, username: str, role: str, password: str, first_name: str = "", last_name: str = "",
    email: str = "", team: Team | None = None, supervisor: Any = None,
) -> Any:
    """An administrator adds a member of staff with a role and a first password."""
    _require_manager(by)
    user_model = get_user_model()
    username = (username or "").strip()
    if not username:
        raise ValidationError({"username": "Required."})
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "This username is taken."})
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.labels)}."})
    _check_grant(by, role)
    _check_supervisor(supervisor)
    user = user_model(username=username, role=role, first_name=first_name.strip(), last_name=last_name.strip(),
                      email=email.strip(), team=team, supervisor=supervisor)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    log.record("account.created", actor=by, target=user, role=role, team_id=team.pk if team else None,
               supervisor_id=supervisor.pk if supervisor else None)
    return user


@transaction.atomic
def update_staff(
    *, user: Any, by: Any, role: str, first_name: str, last_name: str, email: str,
    team: Team | None, supervisor: Any, is_active: bool,
) -> Any:
    """Change a member of staff's role, team, supervisor or whether they may sign in."""
    _require_manager(by)
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.labels)}."})
    if user.pk == by.pk and (not is_active or role != user.role):
        raise ValidationError("You cannot change your own role or deactivate yourself; ask another administrator.")
    _check_grant(by, role, current=user.role)
    _check_supervisor(supervisor, user)
    if role != Role.THERAPIST and role != Role.SUPERVISOR and (user.courses.filter(status="active").exists()):
        raise ValidationError({"role": "This person has active courses; hand them over before changing the role."})
    before = {"role": user.role, "team_id": user.team_id, "supervisor_id": user.supervisor_id, "is_active": user.is_active}
    user.role, user.first_name, user.last_name, user.email = role, first_name.strip(), last_name.strip(), email.strip()
    user.team, user.supervisor, user.is_active = team, supervisor, is_active
    user.save()
    after = {"role": user.role, "team_id": user.team_id, "supervisor_id": user.supervisor_id, "is_active": user.is_active}
    log.record("account.updated", actor=by, target=user,
               fields=[k for k in before if before[k] != after[k]], role=role, is_active=is_active)
    return user
