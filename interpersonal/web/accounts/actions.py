"""The only writers of accounts: commands, views and tests call these (audited).

Granting or widening anyone's reach into patient records is never one non-clinical person's act
(ADR 0008): an administrator's request is recorded as a pending :class:`AccessGrant` that a
different person with clinical authority (or the superuser) confirms; narrowing takes effect at
once. Administrators never set or learn a clinical account's password: the holder sets it through
a one-time enrolment link, and enrols their own second factor. A link to a clinical account is split
knowledge: the confirmer receives the link, the requesting administrator an enrolment code, and the
link works only with the code — nobody alone can enrol as someone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from interpersonal.web.accounts import enrolment
from interpersonal.web.accounts.models import AccessGrant, EnrolmentLink, Role, Team
from interpersonal.web.audit import log


@dataclass(frozen=True, slots=True)
class EnsuredUser:
    user: AbstractUser
    created: bool


class NotADemoAccount(ValidationError):
    """The demo was asked to change an account it did not create."""


def _existing(username: str, *, demo: bool) -> tuple[Any, bool]:
    """(the account or a new unsaved one, created). With ``demo``, an existing account the demo did
    not create is refused (NotADemoAccount); without it, the operator takes a demo account over."""
    user_model = get_user_model()
    user = user_model.objects.select_for_update().filter(username=username).first()
    if user is None:
        return user_model(username=username, created_by_demo=demo), True
    if demo and not user.created_by_demo:
        raise NotADemoAccount(f"The account {username!r} was not made by the demo; the demo leaves it alone.")
    user.created_by_demo = demo
    return user, False


@transaction.atomic
def ensure_superuser(
    *, username: str, password: str, email: str = "", validate: bool = True, demo: bool = False,
) -> EnsuredUser:
    """Create the superuser ``username``, or bring an existing one up to date: active,
    staff, superuser, with this password and (when given) this email. Idempotent.

    ``validate`` runs Django's password validators first (raises ValidationError). ``demo`` (the
    demo seed only) refuses an account the demo did not create; without it (``create_admin``), an
    account the demo made becomes the operator's, and the demo never touches it again.
    """
    user, created = _existing(username, demo=demo)
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
    team: Team | None = None, supervisor: Any = None, validate: bool = True, demo: bool = False,
    supervised_since: Any = None,
) -> EnsuredUser:
    """Create the staff member ``username`` with ``role``, or bring them up to date. Idempotent.

    For commands run by the operator on the server (the demo seed), never for a web request: it
    sets a password and a role directly. ``demo`` as for :func:`ensure_superuser`."""
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.labels)}."})
    if supervisor is not None and supervisor.role != Role.SUPERVISOR:
        raise ValidationError({"supervisor": "A supervisor must have the supervisor role."})
    user, created = _existing(username, demo=demo)
    if validate:
        validate_password(password, user)
    user.role, user.first_name, user.last_name = role, first_name, last_name
    user.team, user.is_active = team, True
    user.set_password(password)
    user.save()
    _set_individual_supervisor(user, supervisor, by=by, started=supervised_since)
    log.record("account.ensured", actor=by, target=user, created=created, role=role,
               team_id=team.pk if team else None, supervisor_id=supervisor.pk if supervisor else None)
    return EnsuredUser(user=user, created=created)


@transaction.atomic
def adopt_demo_accounts(*, usernames: frozenset[str]) -> list[str]:
    """Mark as the demo's own the accounts of a demo database made before ``User.created_by_demo``
    existed, so ``seed_demo`` may run on it again. Every account must have one of the demo's
    ``usernames`` (the command also checks every patient is a demo one); otherwise nothing changes.
    Run by the operator on the server (``seed_demo --adopt-existing-demo``). The adopted usernames."""
    accounts = get_user_model().objects.select_for_update()
    others = accounts.exclude(username__in=usernames).count()
    if others:
        raise ValidationError(f"{others} account(s) have names the demo never uses: this is not a demo database, "
                              "and the demo adopts nothing.")
    adopted = sorted(accounts.filter(created_by_demo=False).values_list("username", flat=True))
    for user in accounts.filter(username__in=adopted):
        user.created_by_demo = True
        user.save(update_fields=["created_by_demo"])
        log.record("account.adopted_by_demo", actor=None, target=user)
    return adopted


# Roles that reach any patient's record without a caseload: granting one is a superuser's
# decision (the account made by `create_admin`), not any administrator's — otherwise an
# administrator, who sees no clinical content, could make themselves a second account that does.
SUPERUSER_GRANTS = frozenset({Role.RECORDS_OFFICER})


# Accounts with no reach into patient records whose sign-in an administrator still must not take
# over alone: the service lead (who is told of every access request) and the administrators (who
# ask for them). Their resets wait for another administrator or the superuser.
SECOND_PERSON_RESETS = frozenset({Role.SERVICE_LEAD, Role.ADMINISTRATOR})
RESETS = (AccessGrant.Kind.SIGN_IN_RESET, AccessGrant.Kind.SECOND_FACTOR_RESET)
"""Requests that change no role, supervisor or sign-in permission: a later edit does not withdraw them."""


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


def _check_team_open(team: Team | None, current_team_id: int | None = None) -> None:
    """A retired team takes no new members; someone already in it stays (their edit keeps it)."""
    if team is not None and team.is_retired and team.pk != current_team_id:
        raise ValidationError({"team": f"The team {team.name} is retired: it takes no new members."})


def _locked_team(team: Team, expected_version: int) -> Team:
    locked = Team.objects.select_for_update().get(pk=team.pk)
    if locked.version != expected_version:
        raise ValidationError("Someone else changed this team after you opened it. Reload to see their changes.")
    return locked


@transaction.atomic
def rename_team(*, team: Team, name: str, by: Any, expected_version: int) -> Team:
    """Give a team a new name (unique, ignoring case); its members and history stay with it."""
    _require_manager(by)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the team a name."})
    if len(name) > Team._meta.get_field("name").max_length:
        raise ValidationError({"name": f"At most {Team._meta.get_field('name').max_length} characters."})
    locked = _locked_team(team, expected_version)
    if Team.objects.filter(name__iexact=name).exclude(pk=locked.pk).exists():
        raise ValidationError({"name": "A team with this name exists."})
    changed = locked.name != name
    locked.name, locked.version = name, locked.version + 1
    locked.save(update_fields=["name", "version"])
    # The names are not logged: a team name can locate a service (privacy.classification).
    log.record("team.renamed", actor=by, target=locked, changed=changed)
    return locked


@transaction.atomic
def retire_team(*, team: Team, by: Any, expected_version: int, retired: bool = True) -> Team:
    """Retire a team (``retired``: it takes no new members; its members keep working and keep the
    team until moved) or bring a retired one back (``retired=False``)."""
    _require_manager(by)
    locked = _locked_team(team, expected_version)
    if locked.is_retired == retired:
        raise ValidationError(f"The team is {'already retired' if retired else 'not retired'}.")
    locked.retired_at, locked.version = (timezone.now() if retired else None), locked.version + 1
    locked.save(update_fields=["retired_at", "version"])
    log.record("team.retired" if retired else "team.reinstated", actor=by, target=locked,
               members=locked.members.count())
    return locked


def _reach(role: str) -> frozenset[Any]:
    from interpersonal.web.accounts.roles import reach_of

    return reach_of(role)


def _individual_ids(user: Any) -> list[int]:
    """The ids of ``user``'s current individual supervisors (supervision.reach.current)."""
    from interpersonal.web.supervision.models import SupervisionRelationship
    from interpersonal.web.supervision.reach import current_relationships

    return list(current_relationships().filter(supervisee_id=user.pk, kind=SupervisionRelationship.Kind.INDIVIDUAL)
                .order_by("-started", "-pk").values_list("supervisor_id", flat=True))


def individual_supervisor_id(user: Any) -> int | None:
    """The current individual supervisor's id (the latest started), or None."""
    ids = _individual_ids(user)
    return ids[0] if ids else None


def _individual(user: Any) -> Any:
    from interpersonal.web.supervision.reach import individual_supervisor

    return individual_supervisor(user)


def _supervisor_changes(user: Any, supervisor: Any) -> bool:
    """Whether setting the individual supervisor to ``supervisor`` changes anything: a new one, or
    None while ``user`` has one. Naming one of several current individual supervisors keeps them all."""
    ids = _individual_ids(user)
    return (supervisor.pk not in ids) if supervisor is not None else bool(ids)


def _set_individual_supervisor(user: Any, supervisor: Any, *, by: Any, started: Any = None) -> None:
    """Make ``supervisor`` (None: nobody) ``user``'s individual supervisor from today: the staff
    form's "Individual supervisor". A current individual relationship with anyone else ends today
    (reach stops at once; history kept); a new one starts today, in force at once — callers have
    already had it confirmed when it widens reach (ADR 0008). Other kinds of supervision stay.
    ``started`` (the demo seed only, through ``ensure_user``) back-dates the new relationship."""
    from interpersonal.web.supervision.models import SupervisionRelationship
    from interpersonal.web.supervision.reach import current_relationships, today

    if not _supervisor_changes(user, supervisor):
        return
    day = today()
    for ending in current_relationships().select_for_update().filter(
            supervisee_id=user.pk, kind=SupervisionRelationship.Kind.INDIVIDUAL).exclude(
            supervisor_id=getattr(supervisor, "pk", None)):
        ending.ended = day
        ending.save(update_fields=["ended", "updated_at"])
        log.record("supervision.ended", actor=by, target=ending, supervisor_id=ending.supervisor_id,
                   supervisee_id=user.pk, kind=ending.kind, ended=day.isoformat())
    if supervisor is not None:
        started = SupervisionRelationship.objects.create(
            supervisor=supervisor, supervisee=user, kind=SupervisionRelationship.Kind.INDIVIDUAL,
            started=min(started or day, day),
            confirmed_at=timezone.now(), created_by=by if getattr(by, "pk", None) else None)
        log.record("supervision.started", actor=by, target=started, supervisor_id=supervisor.pk,
                   supervisee_id=user.pk, kind=started.kind, started=started.started.isoformat())


def _widens(user: Any, *, role: str, supervisor: Any, is_active: bool) -> bool:
    """Whether giving ``user`` this role, individual supervisor and sign-in would let anyone read a
    patient record they could not read before: ``user`` (a role with more reach, or let in again
    with a role that has any) or the supervisor (newly reading ``user``'s cases — a leaver's too:
    their patients stay theirs when they can no longer sign in). A supervisor who already
    supervises ``user`` in another kind of relationship gains nothing."""
    from interpersonal.web.supervision.reach import is_supervising

    if supervisor is not None and not is_supervising(supervisor, user.pk):
        return True
    current = user.role if user.is_active else ""
    return is_active and bool(_reach(role) - _reach(current))


def _holds_caseload(role: str, is_active: bool) -> bool:
    from interpersonal.web.accounts.roles import ROLES, Permission

    definition = ROLES.get(role)
    return is_active and definition is not None and Permission.HOLD_CASELOAD in definition.permissions


def _supervises(role: str, is_active: bool) -> bool:
    from interpersonal.web.accounts.roles import ROLES, Permission

    definition = ROLES.get(role)
    return is_active and definition is not None and Permission.SUPERVISE in definition.permissions


def _check_cases_stay_seen(user: Any, *, role: str, supervisor: Any, is_active: bool,
                           ending: Any = None) -> None:
    """Refuse a change after which a course that must stay in front of a clinician — active, or
    with a risk alert still open, whatever its state (courses.access.needs_a_clinician) — would be
    seen by no active clinician: neither its therapist nor any current supervisor of theirs (issue
    12: an open alert stays visible until acknowledged). Deactivating a leaver, clearing their
    individual supervisor, taking a supervisor's role away, or ending a supervision relationship
    (``ending``, checked with ``user`` its supervisee) are the ways it could happen.

    ``supervisor`` is the individual supervisor ``user`` would have: it replaces their current
    individual ones (as ``_set_individual_supervisor`` does) unless it is one of them."""
    from collections import defaultdict

    from interpersonal.web.courses.access import needs_a_clinician
    from interpersonal.web.courses.models import Course
    from interpersonal.web.supervision.models import SupervisionRelationship
    from interpersonal.web.supervision.reach import current_relationships, supervises

    courses = list(Course.objects.filter(needs_a_clinician())
                   .filter(Q(therapist=user) | supervises(user)).select_related("therapist"))
    relationships = (current_relationships().filter(supervisee_id__in={c.therapist_id for c in courses})
                     .select_related("supervisor"))
    if ending is not None:
        relationships = relationships.exclude(pk=ending.pk)
    supervisors: dict[int, list[tuple[Any, str]]] = defaultdict(list)
    for relationship in relationships:
        supervisors[relationship.supervisee_id].append((relationship.supervisor, relationship.kind))
    replaced = ending is None and _supervisor_changes(user, supervisor)
    own_after = [s for s, kind in supervisors[user.pk]
                 if not (replaced and kind == SupervisionRelationship.Kind.INDIVIDUAL)]
    if supervisor is not None and ending is None:
        own_after.append(supervisor)
    own_unseen = supervised_unseen = 0
    for course in courses:
        therapist = course.therapist
        if therapist.pk == user.pk:
            seen = _holds_caseload(role, is_active) or any(_supervises(s.role, s.is_active) for s in own_after)
            own_unseen += not seen
        else:
            others = any(s.pk != user.pk and _supervises(s.role, s.is_active) for s, _ in supervisors[therapist.pk])
            user_after = any(s.pk == user.pk for s, _ in supervisors[therapist.pk]) and _supervises(role, is_active)
            seen = _holds_caseload(therapist.role, therapist.is_active) or others or user_after
            supervised_unseen += not seen
    if own_unseen:
        raise ValidationError(
            f"{own_unseen} of this person's courses are active or have a risk alert still open, and after this "
            "change no clinician would see them. Keep them able to sign in, or give them an active supervisor "
            "first (who then sees their open alerts), or ask a clinician to acknowledge the alerts.")
    if supervised_unseen:
        raise ValidationError(
            f"{supervised_unseen} courses of this person's supervisees who can no longer sign in are active or have "
            "a risk alert still open; this person is the only clinician who sees them. Give those supervisees "
            "another active supervisor first.")


def _is_superuser(by: Any) -> bool:
    return bool(getattr(by, "is_superuser", False)) and bool(getattr(by, "is_active", False))


def _issue_link(user: Any, *, by: Any, code_hash: str = "") -> str:
    """A new one-time enrolment link for ``user`` (earlier unused ones stop working); the token.
    With ``code_hash``, the link works only together with that enrolment code."""
    EnrolmentLink.objects.filter(user=user, used_at__isnull=True).update(used_at=timezone.now())
    token, digest = enrolment.new_token()
    link = EnrolmentLink.objects.create(user=user, token_hash=digest, code_hash=code_hash,
                                        expires_at=timezone.now() + enrolment.VALID_FOR)
    log.record("account.enrolment_link_issued", actor=by, target=user, link=link.pk, needs_code=bool(code_hash))
    return token


def _confirmation_enrols(user: Any, role: str) -> bool:
    """Whether confirming a grant of ``role`` resets ``user``'s sign-in and issues an enrolment link:
    the account comes to open patient records and had no reach before (a new account, or one an
    administrator could have enrolled while it had none)."""
    return not _reach(user.role if user.is_active else "") and bool(_reach(role))


def _reset_credentials(user: Any, *, by: Any, code_hash: str = "") -> str:
    """Nobody knows ``user``'s password or holds their second factor any more; a link to set both."""
    from django_otp import devices_for_user

    user.set_unusable_password()
    user.save(update_fields=["password"])
    removed = 0
    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()
        removed += 1
    log.record("account.sign_in_reset", actor=by, target=user, devices_removed=removed)
    return _issue_link(user, by=by, code_hash=code_hash)


@dataclass(frozen=True, slots=True)
class StaffResult:
    """What an account change did: ``grant`` when part of it waits for confirmation; ``token``, an
    enrolment link's token to pass on to the holder; ``code``, the enrolment code the requester passes
    on, without which the link the confirmer will receive does not work (each shown once, never stored)."""

    user: Any
    grant: AccessGrant | None = None
    token: str | None = None
    code: str | None = None


def _request_grant(*, kind: str, user: Any, by: Any, role: str, supervisor: Any, is_active: bool,
                   enrols: bool) -> StaffResult:
    """Record a pending grant. When confirming it will issue an enrolment link (``enrols``), the
    requester receives the enrolment code now; the confirmer will receive the link."""
    code, code_hash = enrolment.new_code() if enrols else (None, "")
    grant = AccessGrant.objects.create(kind=kind, user=user, role=role, supervisor=supervisor, is_active=is_active,
                                       requested_by=by, code_hash=code_hash)
    log.record("access_grant.requested", actor=by, target=grant, kind=kind, user_id=user.pk, role=role,
               supervisor_id=supervisor.pk if supervisor else None, is_active=is_active, code_issued=enrols)
    return StaffResult(user=user, grant=grant, code=code)


@transaction.atomic
def create_staff(
    *, by: Any, username: str, role: str, first_name: str = "", last_name: str = "",
    email: str = "", team: Team | None = None, supervisor: Any = None,
) -> StaffResult:
    """An administrator adds a member of staff. Nobody chooses their password: the holder sets it
    with a one-time enrolment link. A role that opens patient records (or a supervisor) waits for
    a clinical confirmation (:func:`confirm_grant`), whose confirmer receives the link; any other
    role takes effect now and the link is returned to pass on."""
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
    _check_team_open(team)
    pending = not _is_superuser(by) and (bool(_reach(role)) or supervisor is not None)
    user = user_model(username=username, role="" if pending else role, first_name=first_name.strip(),
                      last_name=last_name.strip(), email=email.strip(), team=team)
    user.set_unusable_password()
    user.save()
    if not pending:
        _set_individual_supervisor(user, supervisor, by=by)
    log.record("account.created", actor=by, target=user, role=user.role, team_id=team.pk if team else None,
               supervisor_id=None if pending or supervisor is None else supervisor.pk, pending=pending)
    if pending:
        return _request_grant(kind=AccessGrant.Kind.NEW_ACCOUNT, user=user, by=by, role=role, supervisor=supervisor,
                              is_active=True, enrols=_confirmation_enrols(user, role))
    return StaffResult(user=user, token=_issue_link(user, by=by))


def _withdraw_pending(user: Any, *, by: Any) -> None:
    """A new change to ``user`` replaces any request still waiting for them: a confirmation must
    never apply values chosen before a later change (a deactivation, say)."""
    for stale in AccessGrant.objects.select_for_update().filter(
            user=user, status=AccessGrant.Status.PENDING).exclude(kind__in=RESETS):
        stale.status, stale.decided_at = AccessGrant.Status.WITHDRAWN, timezone.now()
        stale.save(update_fields=["status", "decided_at"])
        log.record("access_grant.withdrawn", actor=by, target=stale, kind=stale.kind, user_id=user.pk)


@transaction.atomic
def update_staff(
    *, user: Any, by: Any, role: str, first_name: str, last_name: str, email: str,
    team: Team | None, supervisor: Any, is_active: bool,
) -> StaffResult:
    """Change a member of staff's names, team, role, supervisor or whether they may sign in.

    Names, e-mail, team and anything that narrows reach take effect now. A change that would let
    someone read patients they could not read before (see ``_widens``) leaves role, supervisor and
    sign-in as they are and is recorded as a pending grant instead (unless the superuser made it).

    ``user`` is read again, locked, and only the fields this change decides are written: the copy a
    page loaded earlier must not undo a confirmation or reset made meanwhile (role, password)."""
    _require_manager(by)
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.labels)}."})
    if user.pk == by.pk and (not is_active or role != user.role or _supervisor_changes(user, supervisor)):
        raise ValidationError("You cannot change your own role, supervisor or sign-in; ask another administrator.")
    if user.is_superuser and not _is_superuser(by):
        raise ValidationError("Only the system's superuser changes the superuser's account.")
    _check_grant(by, role, current=user.role)
    _check_supervisor(supervisor, user)
    _check_team_open(team, user.team_id)
    if role != Role.THERAPIST and role != Role.SUPERVISOR and (user.courses.filter(status="active").exists()):
        raise ValidationError({"role": "This person has active courses; hand them over before changing the role."})
    _check_cases_stay_seen(user, role=role, supervisor=supervisor, is_active=is_active)
    pending = not _is_superuser(by) and _widens(user, role=role, supervisor=supervisor, is_active=is_active)
    enrols = pending and _confirmation_enrols(user, role)
    _withdraw_pending(user, by=by)
    before = {"role": user.role, "team_id": user.team_id, "supervisor_id": individual_supervisor_id(user),
              "is_active": user.is_active}
    user.first_name, user.last_name, user.email, user.team = first_name.strip(), last_name.strip(), email.strip(), team
    written = ["first_name", "last_name", "email", "team"]
    if not pending:
        user.role, user.is_active = role, is_active
        written += ["role", "is_active"]
    user.save(update_fields=written)
    if not pending:
        _set_individual_supervisor(user, supervisor, by=by)
    after = {"role": user.role, "team_id": user.team_id, "supervisor_id": individual_supervisor_id(user),
             "is_active": user.is_active}
    log.record("account.updated", actor=by, target=user,
               fields=[k for k in before if before[k] != after[k]], role=user.role, is_active=user.is_active)
    if pending:
        return _request_grant(kind=AccessGrant.Kind.ACCESS_CHANGE, user=user, by=by, role=role,
                              supervisor=supervisor, is_active=is_active, enrols=enrols)
    return StaffResult(user=user)


@transaction.atomic
def reset_sign_in(*, user: Any, by: Any) -> StaffResult:
    """A member of staff forgot their password or lost their phone: their password stops working,
    their second-factor devices are removed and a one-time enrolment link lets them set both again.

    For an account whose role opens patient records this is a grant (whoever holds the link holds
    the account): a clinical confirmer resets it and receives the link, which works only with the
    enrolment code returned now to the requesting administrator. Until then the account keeps
    working (deactivate it to lock it at once). The service lead's and administrators' resets wait
    the same way, for another administrator or the superuser (SECOND_PERSON_RESETS). Otherwise the
    link is returned now, to pass on."""
    _require_manager(by)
    if user.pk == by.pk:
        raise ValidationError("Change your own password under 'Your account'; ask another administrator to reset it.")
    if user.is_superuser and not _is_superuser(by):
        raise ValidationError("Only the system's superuser resets the superuser's sign-in.")
    if not _is_superuser(by) and (_reach(user.role) or user.role in SECOND_PERSON_RESETS):
        return _request_grant(kind=AccessGrant.Kind.SIGN_IN_RESET, user=user, by=by, role=user.role,
                              supervisor=_individual(user), is_active=user.is_active, enrols=True)
    return StaffResult(user=user, token=_reset_credentials(user, by=by))


def _remove_second_factor(user: Any, *, by: Any) -> int:
    """Remove every authenticator device of ``user`` (confirmed or half set up); at their next sign-in,
    with their own password, they must enrol a new one (mfa_setup). The number removed."""
    from django_otp import devices_for_user

    removed = 0
    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()
        removed += 1
    log.record("account.second_factor_reset", actor=by, target=user, devices_removed=removed)
    return removed


@transaction.atomic
def reset_second_factor(*, user: Any, by: Any) -> StaffResult:
    """Someone lost the phone with their authenticator app but knows their password: their devices
    are removed and they enrol a new app at their next sign-in. Nobody's own (ask another
    administrator); the superuser's only by the superuser.

    Removing the second factor leaves an account guarded by its password alone, and "I lost my
    phone" is how a stolen password is turned into an account. So, as for :func:`reset_sign_in`
    (ADR 0008), an account whose role opens patient records — and the service lead's and
    administrators' — is reset only once a second person confirms (:func:`confirm_grant`); no link
    or code is issued, since the password stays the holder's. Other accounts are reset now."""
    _require_manager(by)
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if user.pk == by.pk:
        raise ValidationError("You cannot remove your own authenticator app; ask another administrator.")
    if user.is_superuser and not _is_superuser(by):
        raise ValidationError("Only the system's superuser resets the superuser's authenticator app.")
    if not _is_superuser(by) and (_reach(user.role) or user.role in SECOND_PERSON_RESETS):
        if AccessGrant.objects.filter(user=user, kind=AccessGrant.Kind.SECOND_FACTOR_RESET,
                                      status=AccessGrant.Status.PENDING).exists():
            raise ValidationError("A removal of this person's authenticator app is already waiting for confirmation.")
        return _request_grant(kind=AccessGrant.Kind.SECOND_FACTOR_RESET, user=user, by=by, role=user.role,
                              supervisor=_individual(user), is_active=user.is_active, enrols=False)
    _remove_second_factor(user, by=by)
    return StaffResult(user=user)


def handover_scope(from_therapist: Any) -> dict[str, Any]:
    """What a hand-over of ``from_therapist``'s caseload moves, as querysets: their courses that are
    active or have an open risk alert (courses.access.needs_a_clinician), their open referrals, and
    the patients allocated to them with an open referral. Ended cases stay theirs (history)."""
    from django.db.models import Exists, OuterRef

    from interpersonal.web.courses.access import needs_a_clinician
    from interpersonal.web.courses.models import Course
    from interpersonal.web.patients.models import Patient
    from interpersonal.web.referrals.models import Referral

    open_referrals = Referral.objects.exclude(status=Referral.Status.DISCHARGED)
    return {
        "courses": Course.objects.filter(needs_a_clinician(), therapist=from_therapist),
        "referrals": open_referrals.filter(therapist=from_therapist),
        "patients": Patient.objects.filter(Exists(open_referrals.filter(patient=OuterRef("pk"))),
                                           therapist=from_therapist),
    }


def _check_handover(from_therapist: Any, to_therapist: Any) -> None:
    from interpersonal.web.accounts.roles import Permission, has_permission

    if from_therapist.pk == to_therapist.pk:
        raise ValidationError({"to_therapist": "Choose another clinician to hand the caseload to."})
    if not (to_therapist.is_active and has_permission(to_therapist, Permission.HOLD_CASELOAD)):
        raise ValidationError({"to_therapist": "Choose an active clinician who holds a caseload."})
    if not any(q.exists() for q in handover_scope(from_therapist).values()):
        raise ValidationError(f"{from_therapist.display_name} has no active course or open referral to hand over.")


def _apply_handover(from_therapist: Any, to_therapist: Any, *, by: Any) -> dict[str, list[int]]:
    """Move the caseload (one transaction, rows locked). A course's and a referral's open risk
    alerts belong to them, so whoever now holds the case sees and acknowledges them; each moved
    row's version goes up, so a page opened before the hand-over cannot write over it."""
    from django.db.models import F

    scope = handover_scope(from_therapist)
    moved = {name: list(qs.select_for_update().values_list("pk", flat=True)) for name, qs in scope.items()}
    for name, qs in scope.items():
        model = qs.model
        fields = {"therapist": to_therapist}
        if any(f.name == "version" for f in model._meta.concrete_fields):
            fields["version"] = F("version") + 1
        model._default_manager.filter(pk__in=moved[name]).update(**fields)
    from interpersonal.web.courses.models import Course
    from interpersonal.web.referrals.models import Referral

    patient_ids = sorted(set(moved["patients"])
                         | set(Course.objects.filter(pk__in=moved["courses"]).values_list("patient_id", flat=True))
                         | set(Referral.objects.filter(pk__in=moved["referrals"]).values_list("patient_id", flat=True)))
    log.record("caseload.handed_over", actor=by, target=to_therapist, from_id=from_therapist.pk,
               to_id=to_therapist.pk, course_ids=moved["courses"], referral_ids=moved["referrals"],
               patient_ids=patient_ids)
    for patient_id in patient_ids:  # in each patient's own access log (subject access)
        log.record("patient.handed_over", actor=by, target=("patient", patient_id), patient_id=patient_id,
                   from_id=from_therapist.pk, to_id=to_therapist.pk)
    return moved


@transaction.atomic
def hand_over_caseload(*, from_therapist: Any, to_therapist: Any, by: Any) -> StaffResult:
    """Hand a clinician's caseload (:func:`handover_scope`) over to another clinician.

    A hand-over widens the receiving clinician's reach (and their supervisor's) into the records of
    every patient it moves, and who treats whom is a clinical decision: as ADR 0008 does for every
    widening, an administrator's hand-over is a pending request (``caseload_handover``) that a
    second person with clinical authority confirms (:func:`confirm_grant`), never the receiving
    clinician or their supervisor. Until then nothing moves. The superuser's takes effect now."""
    _require_manager(by)
    user_model = get_user_model()
    from_therapist = user_model.objects.select_for_update().get(pk=from_therapist.pk)
    to_therapist = user_model.objects.select_for_update().get(pk=to_therapist.pk)
    _check_handover(from_therapist, to_therapist)
    if not _is_superuser(by):
        if AccessGrant.objects.filter(kind=AccessGrant.Kind.CASELOAD_HANDOVER, status=AccessGrant.Status.PENDING,
                                      handover_from=from_therapist).exists():
            raise ValidationError("A hand-over of this caseload is already waiting for confirmation.")
        grant = AccessGrant.objects.create(
            kind=AccessGrant.Kind.CASELOAD_HANDOVER, user=to_therapist, role=to_therapist.role,
            supervisor=_individual(to_therapist), is_active=to_therapist.is_active, handover_from=from_therapist,
            requested_by=by)
        log.record("access_grant.requested", actor=by, target=grant, kind=grant.kind, user_id=to_therapist.pk,
                   role=grant.role, supervisor_id=grant.supervisor_id, is_active=grant.is_active,
                   from_id=from_therapist.pk, code_issued=False)
        return StaffResult(user=to_therapist, grant=grant)
    _apply_handover(from_therapist, to_therapist, by=by)
    return StaffResult(user=to_therapist)


def may_decide(user: Any, grant: AccessGrant) -> bool:
    """Whether ``user`` may confirm or decline ``grant``: the superuser, or a holder of clinical
    authority who neither asked for it nor gains by it (the account itself or its new supervisor).

    Anything about an account with a superuser-only role (a records officer, who finds any patient)
    — granting it or resetting its sign-in — is the superuser's alone. Any other confirmer may
    confirm a clinician's reset: the link they receive is useless without the requester's code. A
    reset of the service lead or an administrator is decided by another administrator (or the
    superuser), under the same split knowledge."""
    from interpersonal.web.accounts.roles import Permission, has_permission

    if grant.role in SUPERUSER_GRANTS or grant.user.role in SUPERUSER_GRANTS:
        return _is_superuser(user) and user.pk not in {grant.requested_by_id, grant.user_id}
    if grant.kind in RESETS and not _reach(grant.role):
        # The service lead's or an administrator's reset: another administrator, or the superuser.
        return ((_is_superuser(user) or has_permission(user, Permission.MANAGE_ACCOUNTS))
                and user.pk not in {grant.requested_by_id, grant.user_id})
    if not (_is_superuser(user) or has_permission(user, Permission.CONFIRM_ACCESS_GRANTS)):
        return False
    if grant.kind == AccessGrant.Kind.CASELOAD_HANDOVER:
        from interpersonal.web.supervision.reach import is_supervising

        if is_supervising(user, grant.user_id):  # every current supervisor of the receiver gains by it
            return False
    return user.pk not in {grant.requested_by_id, grant.user_id, grant.supervisor_id}


def _lock_pending(grant: AccessGrant, by: Any) -> AccessGrant:
    locked = AccessGrant.objects.select_for_update(of=("self",)).select_related("user", "supervisor").get(pk=grant.pk)
    if not may_decide(by, locked):
        raise ValidationError("You cannot decide this request: it needs someone with clinical authority who "
                              "neither asked for it nor would gain access by it.")
    if locked.status != AccessGrant.Status.PENDING:
        raise ValidationError(f"This request was already {locked.get_status_display().lower()}.")
    return locked


@transaction.atomic
def confirm_grant(*, grant: AccessGrant, by: Any) -> StaffResult:
    """Apply a pending grant. When the account comes to open patient records for the first time (or
    its sign-in is being reset), nobody's earlier knowledge of its password carries over: it is
    reset, and the enrolment link is returned to the confirmer to pass on. The link works only with
    the enrolment code the requesting administrator was shown, so neither of them alone can enrol."""
    locked = _lock_pending(grant, by)
    user = get_user_model().objects.select_for_update().get(pk=locked.user_id)
    if locked.kind == AccessGrant.Kind.CASELOAD_HANDOVER:
        source = get_user_model().objects.select_for_update().get(pk=locked.handover_from_id)
        _check_handover(source, user)  # as it stands now: the receiver may have left meanwhile
        locked.status, locked.decided_by, locked.decided_at = AccessGrant.Status.CONFIRMED, by, timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        log.record("access_grant.confirmed", actor=by, target=locked, kind=locked.kind, user_id=user.pk,
                   role=user.role, supervisor_id=individual_supervisor_id(user), is_active=user.is_active)
        _apply_handover(source, user, by=by)
        grant.refresh_from_db()
        return StaffResult(user=user, grant=locked)
    if locked.kind == AccessGrant.Kind.SUPERVISION:
        return _confirm_supervision(locked, user, grant=grant, by=by)
    if locked.kind == AccessGrant.Kind.SECOND_FACTOR_RESET:
        # Only the devices go: the password stays the holder's, so no link, and nothing to split.
        locked.status, locked.decided_by, locked.decided_at = AccessGrant.Status.CONFIRMED, by, timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        log.record("access_grant.confirmed", actor=by, target=locked, kind=locked.kind, user_id=user.pk,
                   role=user.role, supervisor_id=individual_supervisor_id(user), is_active=user.is_active)
        _remove_second_factor(user, by=by)
        grant.refresh_from_db()
        return StaffResult(user=user, grant=locked)
    reset = locked.kind == AccessGrant.Kind.SIGN_IN_RESET
    if not reset:
        if locked.role in SUPERUSER_GRANTS and locked.role != user.role and not _is_superuser(by):
            raise ValidationError("Only the system's superuser can confirm this role.")
        if locked.supervisor is not None:
            _check_supervisor(locked.supervisor, user)
        reset = _confirmation_enrols(user, locked.role)
    if reset and not locked.code_hash and not _is_superuser(by):
        # Without the requester's code the link alone would hand the account to the confirmer.
        raise ValidationError("This request has no enrolment code, so confirming it would give you alone the "
                              "account's sign-in. Decline it and ask the administrator to make it again.")
    if locked.kind != AccessGrant.Kind.SIGN_IN_RESET:
        user.role, user.is_active = locked.role, locked.is_active
        user.save(update_fields=["role", "is_active"])
        _set_individual_supervisor(user, locked.supervisor, by=by)
    code_hash = locked.code_hash
    locked.status, locked.decided_by, locked.decided_at = AccessGrant.Status.CONFIRMED, by, timezone.now()
    locked.code_hash = ""  # carried by the link from now on
    locked.save(update_fields=["status", "decided_by", "decided_at", "code_hash"])
    log.record("access_grant.confirmed", actor=by, target=locked, kind=locked.kind, user_id=user.pk,
               role=user.role, supervisor_id=individual_supervisor_id(user), is_active=user.is_active)
    grant.refresh_from_db()
    token = _reset_credentials(user, by=by, code_hash=code_hash) if reset else None
    return StaffResult(user=user, grant=locked, token=token)


@transaction.atomic
def decline_grant(*, grant: AccessGrant, by: Any) -> AccessGrant:
    """Refuse a pending grant: nothing about the account changes."""
    locked = _lock_pending(grant, by)
    locked.status, locked.decided_by, locked.decided_at = AccessGrant.Status.DECLINED, by, timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    log.record("access_grant.declined", actor=by, target=locked, kind=locked.kind, user_id=locked.user_id)
    grant.refresh_from_db()
    return locked


_LINK_GONE = "This link has expired or has already been used. Ask your administrator for a new one."


def complete_enrolment(*, token: str, password: str, code: str = "", by: Any = None) -> Any:
    """The link's holder sets their own password (validated); the link is used up. A clinical
    account's link needs its enrolment ``code`` too: a wrong one is counted and audited, and after
    ``enrolment.MAX_CODE_TRIES`` the link stops working. ``by`` is whoever is signed in in that
    browser, if anyone (audited as the actor when so). Their second factor is enrolled next, at
    sign-in (no device survives a reset).

    The work happens in one transaction (:func:`_enrol`); a wrong code is refused after it has
    committed, so the count survives the refusal."""
    refusal = _enrol(token=token, password=password, code=code, by=by)
    if isinstance(refusal, ValidationError):
        raise refusal
    return refusal


@transaction.atomic
def _enrol(*, token: str, password: str, code: str, by: Any) -> Any:
    """The enrolled user, or the ValidationError refusing a wrong code (whose count is saved)."""
    link = enrolment.valid_link(token)
    if link is None:
        raise ValidationError(_LINK_GONE)
    locked = EnrolmentLink.objects.select_for_update().get(pk=link.pk)
    if locked.used_at is not None:
        raise ValidationError(_LINK_GONE)
    user = link.user
    actor = by if by is not None and getattr(by, "is_authenticated", False) else None
    if not enrolment.code_matches(locked, code):
        locked.wrong_codes += 1
        voided = locked.wrong_codes >= enrolment.MAX_CODE_TRIES
        if voided:
            locked.used_at = timezone.now()
        locked.save(update_fields=["wrong_codes", "used_at"])
        log.record("account.enrolment_code_refused", actor=actor, target=user, link=locked.pk,
                   wrong_codes=locked.wrong_codes, link_voided=voided)
        if voided:
            return ValidationError({"code": "That code is not right, and this link no longer works after too many "
                                            "tries. Ask your administrator to reset your sign-in again."})
        left = enrolment.MAX_CODE_TRIES - locked.wrong_codes
        return ValidationError({"code": f"That code is not right. Check it with the administrator who gave it to "
                                        f"you; {left} more tries before this link stops working."})
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    locked.used_at = timezone.now()
    locked.save(update_fields=["used_at"])
    log.record("account.enrolled", actor=actor or user, target=user, link=locked.pk)
    return user


# --- Supervision relationships (issue 15) ------------------------------------------------------

SUPERVISION_BACKDATE_DAYS = 366
"""A relationship may be recorded as having started up to a year ago (history being entered late);
reach is always decided on today's date, so a back-dated start widens nothing retrospectively."""
SUPERVISION_AHEAD_DAYS = 366
"""…and may start or end up to a year ahead (a placement agreed in advance)."""


def _check_supervision_dates(started: Any, ended: Any = None) -> None:
    import datetime as dt

    from interpersonal.web.supervision.reach import today

    day = today()
    if started is not None and not (day - dt.timedelta(days=SUPERVISION_BACKDATE_DAYS) <= started
                                    <= day + dt.timedelta(days=SUPERVISION_AHEAD_DAYS)):
        raise ValidationError({"started": "Give a start date within a year of today."})
    if ended is not None and ended > day + dt.timedelta(days=SUPERVISION_AHEAD_DAYS):
        raise ValidationError({"ended": "Give an end date within a year from today."})


@transaction.atomic
def add_supervision(*, supervisee: Any, supervisor: Any, kind: str, started: Any, by: Any,
                    cases: Any = ()) -> StaffResult:
    """An administrator records that ``supervisor`` supervises ``supervisee`` (``kind``: individual,
    group or accreditation) from ``started``; for accreditation, optionally on named ``cases`` (the
    supervisee's courses). The supervisor comes to read the supervisee's cases, so unless they already
    supervise them, or the superuser asks, the relationship waits for a second person's confirmation
    (``AccessGrant.Kind.SUPERVISION``, ADR 0008) and gives no reach until then."""
    from interpersonal.web.accounts.roles import Permission, has_permission
    from interpersonal.web.supervision.models import SupervisionRelationship
    from interpersonal.web.supervision.reach import is_supervising

    _require_manager(by)
    user_model = get_user_model()
    supervisee = user_model.objects.select_for_update().get(pk=supervisee.pk)
    if kind not in SupervisionRelationship.Kind.values:
        raise ValidationError({"kind": f"Choose one of: {', '.join(SupervisionRelationship.Kind.labels)}."})
    _check_supervisor(supervisor, supervisee)
    if supervisee.pk == by.pk or supervisor.pk == by.pk:
        raise ValidationError("You cannot change your own supervision; ask another administrator.")
    if not has_permission(supervisee, Permission.HOLD_CASELOAD):
        raise ValidationError({"supervisee": "Only a clinician who holds a caseload is supervised."})
    _check_supervision_dates(started)
    cases = list(cases or ())
    if cases and kind != SupervisionRelationship.Kind.ACCREDITATION:
        raise ValidationError({"cases": "Name cases only for accreditation supervision."})
    if any(c.therapist_id != supervisee.pk for c in cases):
        raise ValidationError({"cases": "Name only the supervisee's own cases."})
    overlapping = SupervisionRelationship.objects.filter(
        supervisor=supervisor, supervisee=supervisee, kind=kind, confirmed_at__isnull=False).filter(
        Q(ended__isnull=True) | Q(ended__gt=started))
    if overlapping.exists():
        raise ValidationError({"supervisor": f"{supervisor.display_name} already has this kind of supervision of "
                                             f"{supervisee.display_name} then; end it first or choose another kind."})
    widens = not is_supervising(supervisor, supervisee.pk)
    pending = widens and not _is_superuser(by)
    relationship = SupervisionRelationship.objects.create(
        supervisor=supervisor, supervisee=supervisee, kind=kind, started=started, created_by=by,
        confirmed_at=None if pending else timezone.now())
    relationship.cases.set(cases)
    log.record("supervision.requested" if pending else "supervision.started", actor=by, target=relationship,
               supervisor_id=supervisor.pk, supervisee_id=supervisee.pk, kind=kind, started=started.isoformat(),
               case_ids=[c.pk for c in cases])
    if not pending:
        return StaffResult(user=supervisee)
    grant = AccessGrant.objects.create(kind=AccessGrant.Kind.SUPERVISION, user=supervisee, role=supervisee.role,
                                       supervisor=supervisor, is_active=supervisee.is_active,
                                       relationship=relationship, requested_by=by)
    log.record("access_grant.requested", actor=by, target=grant, kind=grant.kind, user_id=supervisee.pk,
               role=grant.role, supervisor_id=supervisor.pk, is_active=grant.is_active,
               relationship_id=relationship.pk, code_issued=False)
    return StaffResult(user=supervisee, grant=grant)


def _confirm_supervision(locked: AccessGrant, user: Any, *, grant: AccessGrant, by: Any) -> StaffResult:
    """Put a requested relationship in force (the supervisor must still be an active supervisor)."""
    from interpersonal.web.supervision.models import SupervisionRelationship

    relationship = SupervisionRelationship.objects.select_for_update().filter(pk=locked.relationship_id).first()
    if relationship is None or relationship.confirmed_at is not None or relationship.ended is not None:
        raise ValidationError("This supervision was changed after the request; decline it and ask again.")
    _check_supervisor(relationship.supervisor, user)
    relationship.confirmed_at = timezone.now()
    relationship.save(update_fields=["confirmed_at", "updated_at"])
    locked.status, locked.decided_by, locked.decided_at = AccessGrant.Status.CONFIRMED, by, timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    log.record("access_grant.confirmed", actor=by, target=locked, kind=locked.kind, user_id=user.pk,
               role=user.role, supervisor_id=relationship.supervisor_id, is_active=user.is_active)
    log.record("supervision.started", actor=by, target=relationship, supervisor_id=relationship.supervisor_id,
               supervisee_id=user.pk, kind=relationship.kind, started=relationship.started.isoformat())
    grant.refresh_from_db()
    return StaffResult(user=user, grant=locked)


@transaction.atomic
def end_supervision(*, relationship: Any, ended: Any, by: Any) -> Any:
    """An administrator ends a relationship on ``ended``: from that day the supervisor no longer reads
    the supervisee's cases (narrowing: at once, no confirmation). Refused when a case that must stay
    in front of a clinician would then be seen by nobody (``_check_cases_stay_seen``). A relationship
    still waiting for confirmation is withdrawn instead (its request too)."""
    from interpersonal.web.supervision.models import SupervisionRelationship

    _require_manager(by)
    locked = SupervisionRelationship.objects.select_for_update().get(pk=relationship.pk)
    supervisee = get_user_model().objects.select_for_update().get(pk=locked.supervisee_id)
    if by.pk in {locked.supervisee_id, locked.supervisor_id}:
        raise ValidationError("You cannot change your own supervision; ask another administrator.")
    if locked.ended is not None:
        raise ValidationError({"ended": f"This supervision already ended on {locked.ended:%-d %b %Y}."})
    if ended is None or ended < locked.started:
        raise ValidationError({"ended": "Give an end date on or after the day it started."})
    _check_supervision_dates(None, ended)
    if locked.confirmed_at is not None:
        _check_cases_stay_seen(supervisee, role=supervisee.role, supervisor=None, is_active=supervisee.is_active,
                               ending=locked)
    locked.ended = ended
    locked.save(update_fields=["ended", "updated_at"])
    log.record("supervision.ended", actor=by, target=locked, supervisor_id=locked.supervisor_id,
               supervisee_id=supervisee.pk, kind=locked.kind, ended=ended.isoformat())
    for stale in AccessGrant.objects.select_for_update().filter(relationship=locked,
                                                                status=AccessGrant.Status.PENDING):
        stale.status, stale.decided_at = AccessGrant.Status.WITHDRAWN, timezone.now()
        stale.save(update_fields=["status", "decided_at"])
        log.record("access_grant.withdrawn", actor=by, target=stale, kind=stale.kind, user_id=supervisee.pk)
    return locked
