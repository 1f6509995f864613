"""The audit trail is a hash chain; ``interpersonal audit verify`` finds edits and deletions (issue 7)."""

from __future__ import annotations

import itertools
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from interpersonal.web.audit import chain, log
from interpersonal.web.audit.models import AppendOnlyError, AuditEvent
from interpersonal.web.courses.access import get_course_for_user
from interpersonal.web.patients.access import get_patient_for_user


def _events() -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("id"))


def _sql(statement: str, params: list) -> None:
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(statement.format(table=table), params)


@pytest.fixture
def trail(therapist, dit_course) -> list[AuditEvent]:
    """Events written by real actions and reads, plus a few direct ones."""
    get_patient_for_user(therapist, dit_course.patient_id)
    get_course_for_user(therapist, dit_course.pk)
    for n in range(3):
        log.record("test.event", actor=None, target=("thing", n), ratio=0.1 * n, codes=("a", "é"), n=n)
    return _events()


def test_every_event_links_to_the_one_before(trail):
    assert len(trail) >= 5
    assert trail[0].previous_hash == chain.GENESIS
    for before, after in itertools.pairwise(trail):
        assert after.previous_hash == before.hash
    assert all(len(e.hash) == 64 and e.hash != chain.GENESIS for e in trail)
    assert len({e.hash for e in trail}) == len(trail)


def test_the_returned_event_carries_its_hash(db):
    event = log.record("test.event", actor=None, target=("thing", 1))

    assert event.hash == AuditEvent.objects.get(pk=event.pk).hash != ""


def test_verify_finds_an_intact_trail(trail):
    summary = chain.Summary()

    assert chain.verify(summary) == []
    assert (summary.count, summary.last_id, summary.last_hash) == (len(trail), trail[-1].pk, trail[-1].hash)


def test_verify_on_an_empty_trail(db):
    summary = chain.Summary()

    assert chain.verify(summary) == []
    assert (summary.count, summary.last_hash) == (0, chain.GENESIS)


def test_an_edited_event_is_named(trail):
    victim = trail[2]
    _sql("UPDATE {table} SET data = %s WHERE id = %s", ['{"n": 99}', victim.pk])

    assert chain.verify() == [chain.Problem("edited", victim.pk)]


def test_an_edited_actor_is_named(trail):
    victim = trail[1]
    _sql("UPDATE {table} SET actor_username = %s WHERE id = %s", ["someone.else", victim.pk])

    problems = chain.verify()

    assert problems == [chain.Problem("edited", victim.pk)]
    assert str(problems[0]) == f"event {victim.pk}: content does not match its hash (edited)"


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(trail):
    victim, following = trail[2], trail[3]
    row = AuditEvent.objects.filter(pk=victim.pk).values_list(*chain.CONTENT_FIELDS).get()
    forged = chain.compute_hash(*row[:-1], {"forged": True}, victim.previous_hash)
    _sql("UPDATE {table} SET data = %s, hash = %s WHERE id = %s", ['{"forged": true}', forged, victim.pk])

    assert chain.verify() == [chain.Problem("broken", following.pk, victim.pk, None)]


def test_a_deleted_event_is_named_as_a_gap(trail):
    before, victim, after = trail[1], trail[2], trail[3]
    assert after.pk == victim.pk + 1 == before.pk + 2
    _sql("DELETE FROM {table} WHERE id = %s", [victim.pk])

    problems = chain.verify()

    assert problems == [chain.Problem("broken", after.pk, before.pk, (victim.pk, victim.pk))]
    assert f"between events {before.pk} and {after.pk}" in str(problems[0])
    assert f"missing ids {victim.pk} (deleted)" in str(problems[0])


def test_deleting_the_first_events_is_detected(trail):
    _sql("DELETE FROM {table} WHERE id <= %s", [trail[1].pk])

    problems = chain.verify()

    assert [(p.kind, p.event_id, p.previous_id) for p in problems] == [("broken", trail[2].pk, None)]
    assert "genesis" in str(problems[0])


def test_a_truncated_tail_leaves_a_valid_chain_but_changes_the_summary(trail):
    _sql("DELETE FROM {table} WHERE id = %s", [trail[-1].pk])
    summary = chain.Summary()

    assert chain.verify(summary) == []  # documented limit: compare count and last hash with a copy
    assert (summary.count, summary.last_hash) == (len(trail) - 1, trail[-2].hash)


def _append_then_fail() -> None:
    with transaction.atomic():
        log.record("test.event", actor=None, target=("thing", 2))
        raise RuntimeError


def test_a_rolled_back_append_leaves_no_break(db):
    log.record("test.event", actor=None, target=("thing", 1))
    with pytest.raises(RuntimeError):
        _append_then_fail()
    log.record("test.event", actor=None, target=("thing", 3))

    assert chain.verify() == []


def test_a_sealed_event_cannot_be_resealed_and_updates_stay_refused(trail):
    event = trail[0]
    with pytest.raises(AppendOnlyError):
        event._seal()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(hash="")


def test_two_events_cannot_chain_to_the_same_predecessor(trail):
    _sql_insert = (
        "INSERT INTO {table} (at, type, actor_username, actor_role, target_type, target_id, data, "
        "previous_hash, hash) VALUES (%s, 'x', '', '', 'x', '1', '{{}}', %s, '')"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        _sql(_sql_insert, [trail[0].at, trail[0].previous_hash])


def test_the_command_reports_an_intact_trail(trail, capsys):
    call_command("audit", "verify")

    out = capsys.readouterr().out
    assert f"audit trail intact: {len(trail)} events, last hash {trail[-1].hash}" in out


def test_the_command_lists_problems_and_exits_1(trail, capsys):
    _sql("UPDATE {table} SET type = %s WHERE id = %s", ["patient.forgotten", trail[0].pk])
    _sql("DELETE FROM {table} WHERE id = %s", [trail[3].pk])

    with pytest.raises(CommandError) as raised:
        call_command("audit", "verify")

    assert raised.value.returncode == 1
    out = capsys.readouterr().out
    assert f"event {trail[0].pk}: content does not match its hash (edited)" in out
    assert f"chain broken between events {trail[2].pk} and {trail[4].pk}" in out
    assert "audit trail intact" not in out


def test_the_command_needs_a_subcommand():
    with pytest.raises(CommandError):
        call_command("audit")


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_form_one_chain():
    threads_n, per_thread = 8, 20
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            barrier.wait()
            for n in range(per_thread):
                with transaction.atomic():
                    log.record("test.concurrent", actor=None, target=("worker", worker), n=n)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(w,)) for w in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    previous = list(AuditEvent.objects.values_list("previous_hash", flat=True))
    assert len(previous) == len(set(previous)) == threads_n * per_thread
    assert chain.verify() == []


def test_the_migration_builds_the_chain_for_existing_events(trail):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    migration = importlib.import_module("interpersonal.web.audit.migrations.0002_hash_chain")
    _sql("UPDATE {table} SET previous_hash = CAST(id AS VARCHAR(64)), hash = ''", [])
    assert chain.verify() != []

    migration.build_chain(apps, SimpleNamespace(connection=connection))

    assert chain.verify() == []
    assert [e.hash for e in _events()] == [e.hash for e in trail]
