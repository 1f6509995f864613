"""Escalation, as a class (issue 12, ADR 0008): no single non-superuser account can, alone, come to
read a patient record it could not read before, by any sequence of account-management actions.

A breadth-first search of depth two over every account-management action in
``accounts/actions.py``, with every role, supervisor choice and sign-in state, by each seeded
non-superuser persona. After each step, every account whose credentials the actor controls — itself,
and any account it can enrol as *alone*, with the enrolment links and codes it was handed — together
must read no patient the actor's own account could not read at the start. The world holds requests
another administrator made and nobody has decided, among them resets of a therapist's and the
records officer's sign-in: a confirmer who receives a link but not its code controls nothing.

Every public function in ``accounts/actions.py`` must be searched, listed as operator-only or as a
predicate (``test_the_search_covers_every_account_action``); and nothing outside that module writes
a user's role, supervisor, sign-in or password (``test_only_account_actions_write_access_fields``).
"""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import pathlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from interpersonal.web.accounts import actions
from interpersonal.web.accounts.models import AccessGrant, Role, Team
from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.courses.actions import end_course, start_course
from interpersonal.web.patients.access import patients_visible_to
from interpersonal.web.patients.actions import register_patient
from interpersonal.web.patients.models import Patient
from interpersonal.web.supervision.models import SupervisionRelationship
from interpersonal.web.supervision.reach import current_relationships

User = get_user_model()

OPERATOR_ONLY = {
    "ensure_superuser": "run by `create_admin` on the server: whoever runs it is the operator already",
    "ensure_user": "run by `seed_demo` on the server (and refused outside a demo database)",
    "adopt_demo_accounts": "run by `seed_demo --adopt-existing-demo` on the server; marks, grants nothing",
}
"""Actions no web page calls: they need a shell on the server, which is the superuser's reach."""
PREDICATES = {
    "may_decide": "answers a question, changes nothing (confirm_grant and decline_grant ask it)",
    "handover_scope": "answers a question (what a hand-over would move), changes nothing",
    "individual_supervisor_id": "answers a question (whose individual supervision is current), changes nothing",
}

SEARCHED = ("create_team", "rename_team", "retire_team", "create_staff", "update_staff", "reset_sign_in",
            "reset_second_factor", "hand_over_caseload", "confirm_grant", "decline_grant", "complete_enrolment",
            "add_supervision", "end_supervision")
NEW_PASSWORD = "an-enrolled-synthetic-passphrase"


def account_actions() -> set[str]:
    """Every public function defined in accounts/actions.py, however it is decorated."""
    return {name for name, fn in vars(actions).items()
            if inspect.isfunction(fn) and fn.__module__ == actions.__name__ and not name.startswith("_")}


def test_the_search_covers_every_account_action():
    assert account_actions() == set(SEARCHED) | set(OPERATOR_ONLY) | set(PREDICATES)


ACCESS_FIELDS = {"role", "supervisor", "supervisor_id", "supervisee", "supervisee_id", "confirmed_at", "is_active",
                 "is_superuser", "is_staff", "password"}
CREDENTIAL_CALLS = {"set_password", "set_unusable_password", "create_user", "create_superuser"}
WRITERS = {pathlib.Path("interpersonal/web/accounts/actions.py")}
"""The only source allowed to write what decides whose records an account reads (migrations
included: see NOT_REACH). Django's own password-change page (the holder, with their old password) is
library code and not scanned."""
NOT_REACH = {
    "interpersonal/web/supervision/actions.py: create(supervisor=)":
        "SupervisionSession.supervisor: who gave a logged supervision session; it gives no reach",
    "interpersonal/web/supervision/migrations/0002_user_supervisor_to_relationships.py: update(supervisor_id=)":
        "the reverse of the move from User.supervisor to relationships: restores the column as it was",
}
"""Writes the syntactic scan finds that change nobody's reach, each with its reason (by file and
write, not line, so that an edit elsewhere in the file does not move it)."""


def access_writes(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, what) for every assignment to an access field, credential call, ``setattr`` or
    queryset ``create``/``update`` given an access field."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for element in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if isinstance(element, ast.Attribute) and element.attr in ACCESS_FIELDS:
                        yield node.lineno, f".{element.attr} ="
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in CREDENTIAL_CALLS:
                yield node.lineno, f"{node.func.attr}()"
            elif node.func.attr in {"update", "create", "update_or_create", "get_or_create", "bulk_update"}:
                yield from ((node.lineno, f"{node.func.attr}({k.arg}=)") for k in node.keywords if k.arg in ACCESS_FIELDS)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
            yield node.lineno, "setattr()"


def test_only_account_actions_write_access_fields():
    root = pathlib.Path(__file__).resolve().parents[3]
    found = [f"{path.relative_to(root)}:{line}: {what}"
             for path in sorted((root / "interpersonal").rglob("*.py")) if path.relative_to(root) not in WRITERS
             for line, what in access_writes(ast.parse(path.read_text(encoding="utf-8")))
             if f"{path.relative_to(root)}: {what}" not in NOT_REACH]
    assert found == []


def test_the_access_write_scan_finds_what_it_looks_for():
    source = "u.role, u.is_active = r, a\nu.set_password(p)\nUser.objects.filter().update(supervisor=s)\nsetattr(u, f, v)"

    assert [what for _, what in access_writes(ast.parse(source))] == [
        ".role =", ".is_active =", "set_password()", "update(supervisor=)", "setattr()"]


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
    codes: list[str] = field(default_factory=list)


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
    for team in Team.objects.order_by("pk")[:1]:
        yield "rename_team", lambda team=team: actions.rename_team(team=team, name=f"Renamed {n}", by=by,
                                                                   expected_version=team.version)
        yield "retire_team", lambda team=team: actions.retire_team(team=team, by=by, expected_version=team.version,
                                                                   retired=not team.is_retired)
    for role in Role.values:
        for sup in supervisors:
            yield (f"create_staff {role} sup={sup and sup.username}",
                   lambda role=role, sup=sup: actions.create_staff(by=by, username=f"new.{n}", role=role,
                                                                  supervisor=sup))
    for user in users:
        yield f"reset_sign_in {user.username}", lambda user=user: actions.reset_sign_in(user=fresh(user.pk), by=by)
        yield (f"reset_second_factor {user.username}",
               lambda user=user: actions.reset_second_factor(user=fresh(user.pk), by=by))
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
    for user in users:
        if targets is not None and user.pk not in targets:
            continue
        for sup in supervisors:
            if sup is not None:
                yield (f"add_supervision {user.username} sup={sup.username}",
                       lambda user=user, sup=sup: actions.add_supervision(
                           supervisee=fresh(user.pk), supervisor=sup, kind="group", started=timezone.localdate(),
                           by=by))
    for relationship in SupervisionRelationship.objects.filter(ended__isnull=True).order_by("pk"):
        yield (f"end_supervision {relationship.pk}",
               lambda relationship=relationship: actions.end_supervision(
                   relationship=relationship, ended=timezone.localdate(), by=by))
    holders = [u for u in users if u.is_active and has_permission(u, Permission.HOLD_CASELOAD)]
    for source in users:
        if source.courses.filter(status="active").exists():
            for receiver in holders:
                yield (f"hand_over_caseload {source.username} to {receiver.username}",
                       lambda source=source, receiver=receiver: actions.hand_over_caseload(
                           from_therapist=fresh(source.pk), to_therapist=fresh(receiver.pk), by=by))
    for grant in AccessGrant.objects.filter(status=AccessGrant.Status.PENDING):
        yield f"confirm_grant {grant.pk}", lambda grant=grant: actions.confirm_grant(grant=grant, by=by)
        yield f"decline_grant {grant.pk}", lambda grant=grant: actions.decline_grant(grant=grant, by=by)
    for token in path.tokens:
        for code in ["", *path.codes]:
            yield "complete_enrolment", lambda token=token, code=code: actions.complete_enrolment(
                token=token, code=code, password=NEW_PASSWORD)


def enrols_alone(path: Path, token: str) -> Any:
    """The account the actor can enrol as with ``token`` and only the codes they were shown, or None
    (tried and undone)."""
    for code in ["", *path.codes]:
        sid = transaction.savepoint()
        ok, user = attempt(lambda code=code: actions.complete_enrolment(token=token, code=code,
                                                                        password=NEW_PASSWORD))
        transaction.savepoint_rollback(sid)
        if ok:
            return user
    return None


def attempt(move: Callable[[], Any]) -> tuple[bool, Any]:
    try:
        with transaction.atomic():
            return True, move()
    except ValidationError:
        return False, None


def access_facts() -> tuple:
    """What decides reach, as rows whose first item is an account's id: each account's role and
    sign-in, and each current supervision seen from both ends."""
    pairs = list(current_relationships().order_by("pk").values_list("supervisor_id", "supervisee_id"))
    return (tuple(User.objects.order_by("pk").values_list("pk", "role", "is_active", "is_superuser"))
            + tuple(sorted({(b, "supervised by", a) for a, b in pairs} | {(a, "supervises", b) for a, b in pairs})))


@pytest.fixture
def world(administrator, clinic_admin, supervisor, therapist, unrelated_therapist, make_user_other_supervisor,
          service_lead, records_officer, patient, dit_course, other_patient, make_user):
    """The personas, plus a leaver (an inactive therapist whose patients are still theirs) and four
    requests another administrator made and nobody has decided yet: a new therapist, a supervisor
    for an unrelated therapist, and resets of the sign-in of a therapist with patients and of the
    records officer (whose enrolment codes only that administrator knows)."""
    leaver = make_user("liam.leaver", "therapist", first_name="Liam", last_name="Leaver", supervisor=supervisor)
    old = register_patient(by=leaver, given_name="Lottie", family_name="Leftbehind", date_of_birth=dt.date(1980, 1, 2),
                           received_on=timezone.localdate() - dt.timedelta(days=90), source="gp")
    course = start_course(patient=old, protocol="dit", therapist=leaver, by=leaver,
                          started_on=timezone.localdate() - dt.timedelta(days=60))
    end_course(course=course, reason="completed", by=leaver)
    User.objects.filter(pk=leaver.pk).update(is_active=False)
    other_admin = make_user("ola.otheradmin", "administrator", first_name="Ola", last_name="Otheradmin")
    actions.create_team(name="Existing team", by=other_admin)  # to rename and retire
    actions.create_staff(by=other_admin, username="pending.new", role=Role.THERAPIST)
    actions.update_staff(user=unrelated_therapist, by=other_admin, role=Role.THERAPIST, first_name="Uma",
                         last_name="Unrelated", email="", team=None, supervisor=supervisor, is_active=True)
    actions.reset_sign_in(user=therapist, by=other_admin)
    actions.reset_sign_in(user=records_officer, by=other_admin)
    assert AccessGrant.objects.filter(status="pending").count() == 4
    # One administrator searches; the other (who asked for the pending grants) is alike.
    return [clinic_admin, supervisor, therapist, unrelated_therapist, make_user_other_supervisor, service_lead,
            records_officer]


def first_move_kind(label: str) -> str:
    """The action of a move's label, and for ``update_staff`` the role it gives too."""
    action, *rest = label.split()
    return f"{action} {rest[1]}" if action == "update_staff" else action


ADMINISTRATOR_FIRST_MOVES = {
    "teams-resets-grants": ("create_team", "rename_team", "retire_team", "create_staff", "reset_sign_in",
                            "reset_second_factor", "hand_over_caseload", "confirm_grant", "decline_grant",
                            "complete_enrolment"),
    "supervision": ("add_supervision", "end_supervision"),
    **{f"staff-made-{role}": (f"update_staff {role}",) for role in Role.values},
}
"""The administrator's search, split by its first move into parts of similar cost so that
pytest-xdist runs them on different workers (as one test it took 80-100 s on the 2-core CI
machine; ``update_staff`` first moves are most of it). Together the parts start from exactly the
first moves the one search did, each once (the test below), and search the same second steps
from each; a state two parts reach is expanded in both, which only adds to the search."""
PARTS = {**{f"administrator-{name}": (True, kinds) for name, kinds in ADMINISTRATOR_FIRST_MOVES.items()},
         "everyone-else": (False, None)}
"""Part -> (the administrator, or the other personas; the first moves it starts from, None: all)."""
GRANT_DECISIONS = {"confirm_grant", "decline_grant"}
SUCCEEDED = {
    "administrator-teams-resets-grants": set(SEARCHED) - GRANT_DECISIONS - {"add_supervision"},
    "administrator-supervision": set(SEARCHED) - GRANT_DECISIONS - {"complete_enrolment"},
    # A second step edits only accounts the first touched: one made a therapist can be given a
    # supervisor; one given a role without a caseload cannot (add_supervision refuses it).
    **{f"administrator-staff-made-{role}": set(SEARCHED) - GRANT_DECISIONS - {"complete_enrolment"}
       - (set() if role == Role.THERAPIST else {"add_supervision"}) for role in Role.values},
    "everyone-else": GRANT_DECISIONS,
}
"""The actions that succeed somewhere in each part of the search: the administrator may decide
none of the world's pending grants (``may_decide``: they need clinical authority, or the
superuser); the others manage no accounts, but a supervisor decides a grant. Together: every
action (the test below)."""


def test_the_parts_search_every_first_move_once_and_every_action_succeeds_somewhere():
    kinds = [kind for part in ADMINISTRATOR_FIRST_MOVES.values() for kind in part]
    expected = [a for a in SEARCHED if a != "update_staff"] + [f"update_staff {role}" for role in Role.values]
    assert sorted(kinds) == sorted(expected)
    assert set(SUCCEEDED) == set(PARTS)
    assert set().union(*SUCCEEDED.values()) == set(SEARCHED)


@pytest.mark.parametrize("part", PARTS)
def test_no_account_action_sequence_lets_one_person_read_more_patients(world, part):
    administrator, first_kinds = PARTS[part]
    actors = world[:1] if administrator else world[1:]
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
        after = Path(path.actor, [*path.steps, label], set(path.controlled), list(path.tokens), list(path.codes))
        if getattr(result, "code", None):
            after.codes.append(result.code)
        token = getattr(result, "token", None)
        if token:
            after.tokens.append(token)
        if isinstance(result, User):  # complete_enrolment: the actor chose this account's password
            after.controlled.add(result.pk)
        for held in after.tokens:
            enrolled = enrols_alone(after, held)
            if enrolled is not None:
                after.controlled.add(enrolled.pk)
        check(after)
        return after

    for actor in actors:
        root = Path(actor.pk)
        expanded: set[tuple] = set()
        for label, move in list(moves(root, None)):
            assert label.split()[0] in SEARCHED, label
            if first_kinds is not None and first_move_kind(label) not in first_kinds:
                continue
            sid = transaction.savepoint()
            first = step(root, label, move)
            facts = access_facts()
            signature = (facts, len(first.tokens) if first else 0, len(first.codes) if first else 0)
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

    print(f"\n[escalation] {part}: {explored['sequences']} action sequences of depth ≤ 2 by {len(actors)} personas")
    assert breaches == [], "\n".join(breaches[:20])
    # The search is not vacuous: every action succeeded somewhere in it (SUCCEEDED, whose parts
    # together hold every action: the test above).
    assert explored["succeeded"] == SUCCEEDED[part]
