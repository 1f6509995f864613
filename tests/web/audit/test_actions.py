"""An administrator can accept an honest event that was never sealed (issue 12 review): verify
stops reporting it, the acceptance is audited under their name, and neither a forger with only
database access nor a later edit gets past verify."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from interpersonal.web.audit import actions, chain, log
from interpersonal.web.audit.models import AuditEvent


def _sql(statement: str, params: list) -> None:
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(statement.format(table=table), params)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def admin_user(make_user):
    return make_user("alex.admin", "administrator", first_name="Alex", last_name="Admin")


@pytest.fixture
def late(db) -> AuditEvent:
    """An honest event whose seal was lost in an outage longer than the sealing delay: recorded,
    the chain sealed after it without it, and now dated two hours ago."""
    event = log.record("patient.viewed", actor=None, target=("patient", 7), patient_id=7)
    _sql("UPDATE {table} SET at = %s WHERE id = %s", [timezone.now() - dt.timedelta(hours=2), event.pk])
    log.record("test.event", actor=None, target=("thing", "after the outage"))
    log.seal_pending()
    event.refresh_from_db()
    assert event.seq is None
    return event


def _accept(event_id: int, *, by: str = "alex.admin", **options) -> str:
    out = io.StringIO()
    call_command("audit", "accept-late", str(event_id), "--by", by, "--reference", "INC-2026-31", stdout=out,
                 **options)
    log.seal_pending()  # as the command's commit would (the test's transaction never commits)
    return out.getvalue()


def test_an_accepted_late_event_is_counted_not_reported(late, admin_user, capsys):
    assert [(p.kind, p.event_id) for p in chain.verify()] == [("unsealed", late.pk)]

    out = _accept(late.pk, yes=True)
    summary = chain.Summary()

    assert f"Accepted event {late.pk} as late but genuine" in out
    assert chain.verify(summary) == []
    assert summary.accepted == 1
    call_command("audit", "verify")
    assert "1 late event(s) outside the chain, accepted by an administrator" in capsys.readouterr().out


def test_the_acceptance_is_audited_under_the_administrators_name(late, admin_user):
    _accept(late.pk, yes=True)

    acceptance = AuditEvent.objects.get(type=chain.LATE_ACCEPTED_EVENT)
    assert (acceptance.actor_username, acceptance.target_type, acceptance.target_id, acceptance.patient_id) == (
        "alex.admin", "auditevent", str(late.pk), 7)
    assert acceptance.data["late_event"] == late.pk
    assert acceptance.data["reference"] == "INC-2026-31"
    assert acceptance.seq is not None


def test_an_accepted_late_event_edited_afterwards_is_reported(late, admin_user):
    _accept(late.pk, yes=True)
    _sql("UPDATE {table} SET actor_username = %s WHERE id = %s", ["someone.else", late.pk])

    assert chain.verify() == [chain.Problem("edited", late.pk)]


def test_an_acceptance_forged_in_the_database_is_reported_and_accepts_nothing(late):
    """Someone who can write to the database, but has not the service's secret, inserts an
    acceptance as the command would have: the signature does not hold."""
    content = AuditEvent.objects.filter(pk=late.pk).values_list(*chain.CONTENT_FIELDS).get()
    log.record(chain.LATE_ACCEPTED_EVENT, actor=None, target=("auditevent", late.pk), late_event=late.pk,
               digest=chain.content_digest(content), signature="x" * 27, reference="INC-1")
    log.seal_pending()

    problems = chain.verify()

    assert sorted((p.kind, p.event_id) for p in problems) == sorted(
        [("bad_acceptance", AuditEvent.objects.get(type=chain.LATE_ACCEPTED_EVENT).pk), ("unsealed", late.pk)])
    assert "signature does not hold" in str(next(p for p in problems if p.kind == "bad_acceptance"))


def test_accepting_asks_on_a_terminal_and_refuses_without_one(late, admin_user):
    with pytest.raises(CommandError, match="Nothing accepted"):
        _accept(late.pk, stdin=io.StringIO("yes\n"))
    assert not AuditEvent.objects.filter(type=chain.LATE_ACCEPTED_EVENT).exists()

    out = _accept(late.pk, stdin=Terminal("yes\n"))

    assert f"Event {late.pk}: patient.viewed" in out
    assert "Accept it only if the service's own records" in out
    assert AuditEvent.objects.filter(type=chain.LATE_ACCEPTED_EVENT).count() == 1


@pytest.mark.parametrize(("which", "message"), [
    ("sealed", "is in the chain already"),
    ("recent", "is not late"),
    ("missing", "There is no audit event"),
])
def test_only_a_late_unsealed_event_can_be_accepted(late, admin_user, which, message):
    sealed = AuditEvent.objects.filter(seq__isnull=False).first()
    recent = log.record("test.event", actor=None, target=("thing", "waiting"))
    event_id = {"sealed": sealed.pk, "recent": recent.pk, "missing": 10**9}[which]

    with pytest.raises(CommandError, match=message):
        _accept(event_id, yes=True)
    assert not AuditEvent.objects.filter(type=chain.LATE_ACCEPTED_EVENT).exists()


def test_an_event_is_accepted_once(late, admin_user):
    _accept(late.pk, yes=True)

    with pytest.raises(CommandError, match="has been accepted already"):
        _accept(late.pk, yes=True)


def test_only_an_administrator_accepts(late, records_officer):
    with pytest.raises(actions.NotAcceptable, match="only an administrator"):
        actions.accept_late_event(event_id=late.pk, reference="INC-2026-31", by=records_officer)
    with pytest.raises(CommandError, match="only an administrator"):
        _accept(late.pk, by=records_officer.username, yes=True)


def test_the_reference_must_be_a_case_number(late, admin_user):
    with pytest.raises(actions.NotAcceptable, match="has a number in it"):
        actions.accept_late_event(event_id=late.pk, reference="Jane Smith", by=admin_user)
    with pytest.raises(actions.NotAcceptable, match="at most 64"):
        actions.accept_late_event(event_id=late.pk, reference="INC-" + "1" * 80, by=admin_user)
