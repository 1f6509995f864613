"""Escalation, as a class (issue 12, ADR 0008): no single non-superuser account can, alone, come to
read a patient record it could not read before, by any sequence of account-management actions.

A breadth-first search of depth two over every account-management action in
``accounts/actions.py``, with every role, supervisor choice and sign-in state, by each seeded
non-superuser persona. After each step, every account whose credentials the actor knows or
controls — itself, and any account whose one-time enrolment link was handed to it — together must
read no patient the actor's own account could not read at the start. A new action in ``accounts/actions.py`` fails
``test_the_search_covers_every_account_action`` until it is given moves here.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from interpersonal.web.accounts import actions
from interpersonal.web.accounts.models import AccessGrant, Role
from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.courses.actions import end_course, start_course
from interpersonal.web.patients.access import patients_visible_to
from interpersonal.web.patients.actions import register_patient
from interpersonal.web.patients.models import Patient

User = get_user_model()

OPERATOR_ONLY = {
    "ensure_superuser": "run by `create_admin` on the server: whoever runs it is the operator already",
    "ensure_user": "run by `seed_demo` on the server (and refused outside a demo database)",
}
"""Actions no web page calls: they need a shell on the server, which is the superuser's reach."""

SEARCHED = ("create_team", "create_staff", "update_staff", "reset_sign_in", "confirm_grant", "decline_grant",
            "complete_enrolment")
NEW_PASSWORD = "an-enrolled-synthetic-passphrase"


def account_actions() -> set[str]:
    """Every public ``@transaction.atomic`` function defined in accounts/actions.py."""
    return {name for name, fn in vars(actions).items()
            if inspect.isfunction(fn) and fn.__module__ == actions.__name__ and not name.startswith("_")
            and hasattr(fn, "__wrapped__")}


def test_the_search_covers_every_account_action():
    assert account_actions() == set(SEARCHED) | set(OPERATOR_ONLY)


def test_no_page_calls_an_operator_only_action():
    import interpersonal.web.accounts.views as views

    source = inspect.getsource(views)
    assert [name for name in OPERATOR_ONLY if name in source] == []


@dataclass
class Path:
    actor: int
    steps: list[str] = field(default_factory=list)
    controlled: set[int] = field(default_factory=set)
    tokens: list[str] = field(default_factory=list)


def readable(pk: int) -> set[int]:
    """The patients account ``pk`` can read now: a records officer finds any one by identifier."""
    user = User.objects.get(pk=pk)
    if has_permission(user, Permission.HANDLE_RECORDS_REQUESTS):
        return set(Patient.objects.values_list("pk", flat=True))
    return set(patients_visible_to(user).values_list("pk", flat=True))


def fresh(pk: int) -> Any:
    return User.objects.get(pk=pk)


def moves(path: Path, targets: set[int] | None) -> Iterator[tuple[str, Callable[[], Any]]]:
    """Every move of ``path.actor`` in the current state; ``targets`` limits which accounts are
    edited or reset (None: all). A non-manager's account moves are refused before anything is
    read, so one of each kind stands for all of them."""
    by = fresh(path.actor)
    users = list(User.objects.order_by("pk"))
    supervisors: list[Any] = [None, *(u for u in users if u.role == Role.SUPERVISOR)]
    if not has_permission(by, Permission.MANAGE_ACCOUNTS):
        users, supervisors = users[:1], [None]
    elif targets is not None:  # a second step: no supervisor, the first one, or one the first step touched
        supervisors = [s for i, s in enumerate(supervisors) if i < 2 or s.pk in targets]
    n = len(users)
    yield "create_team", lambda: actions.create_team(name=f"Team {n}", by=by)
    for role in Role.values:
        for sup in supervisors:
            yield (f"create_staff {role} sup={sup and sup.username}",
                   lambda role=role, sup=sup: actions.create_staff(by=by, username=f"new.{n}", role=role,
                                                                  supervisor=sup))
    for user in users:
        yield f"reset_sign_in {user.username}", lambda user=user: actions.reset_sign_in(user=fresh(user.pk), by=by)
        if targets is not None and user.pk not in targets:
            # An account the first step left alone: attach it to a supervisor the first step touched.
            for sup in supervisors:
                if sup is not None and sup.pk in targets:
                    yield (f"update_staff {user.username} sup={sup.username}",
                           lambda user=user, sup=sup: actions.update_staff(
                               user=fresh(user.pk), by=by, role=user.role, first_name=user.first_name,
                               last_name=user.last_name, email=user.email, team=user.team, supervisor=sup,
                               is_active=user.is_active))
            continue
        for role in Role.values:
            for sup in supervisors:
                for active in (True, False):
                    yield (f"update_staff {user.username} {role} sup={sup and sup.username} active={active}",
                           lambda user=user, role=role, sup=sup, active=active: actions.update_staff(
                               user=fresh(user.pk), by=by, role=role, first_name=user.first_name,
                               last_name=user.last_name, email=user.email, team=user.team, supervisor=sup,
                               is_active=active))
    for grant in AccessGrant.objects.filter(status=AccessGrant.Status.PENDING):
        yield f"confirm_grant {grant.pk}", lambda grant=grant: actions.confirm_grant(grant=grant, by=by)
        yield f"decline_grant {grant.pk}", lambda grant=grant: actions.decline_grant(grant=grant, by=by)
    for token in path.tokens:
        yield "complete_enrolment", lambda token=token: actions.complete_enrolment(token=token, password=NEW_PASSWORD)


def attempt(move: Callable[[], Any]) -> tuple[bool, Any]:
    try:
        with transaction.atomic():
            return True, move()
    except ValidationError:
        return False, None


def access_facts() -> tuple:
    return tuple(User.objects.order_by("pk").values_list("pk", "role", "supervisor_id", "is_active", "is_superuser"))


@pytest.fixture
def world(administrator, clinic_admin, supervisor, therapist, unrelated_therapist, make_user_other_supervisor,
          service_lead, records_officer, patient, dit_course, other_patient, make_user):
    """The personas, plus a leaver (an inactive therapist whose patients are still theirs) and two
    grants another administrator asked for and nobody has decided yet."""
    leaver = make_user("liam.leaver", "therapist", first_name="Liam", last_name="Leaver", supervisor=supervisor)
    old = register_patient(by=leaver, given_name="Lottie", family_name="Leftbehind", date_of_birth=dt.date(1980, 1, 2),
                           referral_date=timezone.localdate() - dt.timedelta(days=90), referral_source="gp")
    course = start_course(patient=old, protocol="dit", therapist=leaver, by=leaver,
                          started_on=timezone.localdate() - dt.timedelta(days=60))
    end_course(course=course, reason="completed", by=leaver)
    User.objects.filter(pk=leaver.pk).update(is_active=False)
    other_admin = make_user("ola.otheradmin", "administrator", first_name="Ola", last_name="Otheradmin")
    actions.create_staff(by=other_admin, username="pending.new", role=Role.THERAPIST)
    actions.update_staff(user=unrelated_therapist, by=other_admin, role=Role.THERAPIST, first_name="Uma",
                         last_name="Unrelated", email="", team=None, supervisor=supervisor, is_active=True)
    assert AccessGrant.objects.filter(status="pending").count() == 2
    # One administrator searches; the other (who asked for the pending grants) is alike.
    return [clinic_admin, supervisor, therapist, unrelated_therapist, make_user_other_supervisor, service_lead,
            records_officer]


def test_no_account_action_sequence_lets_one_person_read_more_patients(world):
    before = {u.pk: readable(u.pk) for u in User.objects.all()}
    start = access_facts()
    explored = {"sequences": 0, "succeeded": set()}
    breaches: list[str] = []

    def check(path: Path) -> None:
        """The person at ``path.actor`` reads, through every account they hold, only what their own
        account read at the start."""
        reach: set[int] = set()
        for pk in path.controlled | {path.actor}:
            reach |= readable(pk)
        gained = reach - before[path.actor]
        if gained:
            breaches.append(f"{fresh(path.actor).username}: {' → '.join(path.steps)}: reads "
                            f"{len(gained)} more patient(s) through accounts {sorted(path.controlled)}")

    def step(path: Path, label: str, move: Callable[[], Any]) -> Path | None:
        explored["sequences"] += 1
        ok, result = attempt(move)
        if not ok:
            return None
        explored["succeeded"].add(label.split()[0])
        after = Path(path.actor, [*path.steps, label], set(path.controlled), list(path.tokens))
        token = getattr(result, "token", None)
        if token:
            after.tokens.append(token)
            after.controlled.add(result.user.pk)
        check(after)
        return after

    for actor in world:
        root = Path(actor.pk)
        expanded: set[tuple] = set()
        for label, move in list(moves(root, None)):
            sid = transaction.savepoint()
            first = step(root, label, move)
            facts = access_facts()
            signature = (facts, len(first.tokens) if first else 0)
            if first is not None and (facts != start or first.tokens) and signature not in expanded:
                # Second steps from each distinct new state, on the accounts the first step touched
                # and those it now controls (a move elsewhere was already tried from the start).
                expanded.add(signature)
                touched = set(first.controlled) | {actor.pk}
                touched |= {pk for pk, *_ in set(facts) - set(start)}
                for label2, move2 in list(moves(first, touched)):
                    sid2 = transaction.savepoint()
                    step(first, label2, move2)
                    transaction.savepoint_rollback(sid2)
            transaction.savepoint_rollback(sid)

    print(f"\n[escalation] {explored['sequences']} action sequences of depth ≤ 2 by {len(world)} personas")
    assert breaches == [], "\n".join(breaches[:20])
    # The search is not vacuous: every action succeeded somewhere in it.
    assert explored["succeeded"] == set(SEARCHED)
