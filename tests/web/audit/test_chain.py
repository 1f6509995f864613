"""The audit trail is a hash chain; ``interpersonal audit verify`` finds edits, deletions, forged
rows and events out of time order, and changes nothing (issues 7 and 12)."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from interpersonal.web.audit import chain, log
from interpersonal.web.audit.models import AppendOnlyError, AuditEvent
from interpersonal.web.courses.access import get_course_for_user
from interpersonal.web.patients.access import get_patient_for_user


def _events() -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("seq"))


def _sql(statement: str, params: list) -> None:
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(statement.format(table=table), params)


@pytest.fixture
def trail(therapist, dit_course) -> list[AuditEvent]:
    """Events written by real actions and reads, plus a few direct ones, then sealed as a commit
    would seal them (the test's own transaction never commits)."""
    get_patient_for_user(therapist, dit_course.patient_id)
    get_course_for_user(therapist, dit_course.pk)
    for n in range(3):
        log.record("test.event", actor=None, target=("thing", n), ratio=0.1 * n, codes=("a", "é"), n=n)
    log.seal_pending()
    return _events()


def test_every_event_links_to_the_one_before(trail):
    assert len(trail) >= 5
    assert [e.seq for e in trail] == list(range(1, len(trail) + 1))
    assert trail[0].previous_hash == chain.GENESIS
    for before, after in itertools.pairwise(trail):
        assert after.previous_hash == before.hash
    assert all(len(e.hash) == 64 and e.hash != chain.GENESIS for e in trail)
    assert len({e.hash for e in trail}) == len(trail)


def test_an_event_is_sealed_once_its_transaction_commits(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        event = log.record("test.event", actor=None, target=("thing", 1))
        log.record("test.event", actor=None, target=("thing", 2))
        assert AuditEvent.objects.filter(seq__isnull=True).count() == 2

    assert callbacks == [log.seal_pending]  # once per transaction, however many events
    callbacks[0]()
    event.refresh_from_db()
    assert (event.seq, event.previous_hash, len(event.hash)) == (1, chain.GENESIS, 64)
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_an_event_on_its_own_is_inserted_and_sealed_in_one_transaction():
    """A read's event (no transaction around it) is sealed before record() returns, in the same
    transaction as its insert: one commit per audited read, not two (issue 14: course page speed)."""
    from django.test.utils import CaptureQueriesContext

    log.record("course.viewed", actor=None, target=("course", 1))
    with CaptureQueriesContext(connection) as ctx:
        event = log.record("course.viewed", actor=None, target=("course", 2))
    event.refresh_from_db()
    assert (event.seq, event.previous_hash) == (2, AuditEvent.objects.get(seq=1).hash)
    assert chain.verify() == []
    if connection.vendor == "sqlite":  # Django logs SQLite's BEGIN and COMMIT with the queries
        assert [q["sql"] for q in ctx.captured_queries if q["sql"].startswith(("BEGIN", "COMMIT"))] == [
            "BEGIN IMMEDIATE", "COMMIT"]


def test_a_transaction_can_seal_its_own_events_as_its_last_step(db, django_capture_on_commit_callbacks):
    """seal_before_commit (a view's last step before commit) chains the transaction's events inside
    it and drops the post-commit seal: one commit for the request's writes (issue 14)."""
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        first = log.record("test.event", actor=None, target=("thing", 1))
        second = log.record("test.event", actor=None, target=("thing", 2))
        assert log.seal_before_commit() == 2

    assert callbacks == []
    assert [(e.pk, e.seq) for e in _events()] == [(first.pk, 1), (second.pk, 2)]
    assert chain.verify() == []


def test_the_sealer_chains_in_commit_order_after_the_last_sealed_event(trail):
    later = log.record("test.event", actor=None, target=("thing", "later"))
    earlier_id_committed_last = AuditEvent.objects.filter(pk__lt=later.pk).order_by("-id").first()

    assert log.seal_pending() == 1
    assert log.seal_pending() == 0
    later.refresh_from_db()
    assert (later.seq, later.previous_hash) == (len(trail) + 1, trail[-1].hash)
    assert earlier_id_committed_last.seq is not None
    assert chain.verify() == []


def test_verify_counts_events_waiting_to_be_sealed_without_judging_them(trail):
    log.record("test.event", actor=None, target=("thing", "waiting"))
    summary = chain.Summary()

    assert chain.verify(summary) == []
    assert (summary.count, summary.unsealed) == (len(trail), 1)


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
    _sql("DELETE FROM {table} WHERE id = %s", [victim.pk])

    problems = chain.verify()

    assert problems == [chain.Problem("broken", after.pk, before.pk, (victim.seq, victim.seq))]
    assert f"between events {before.pk} and {after.pk}" in str(problems[0])
    assert f"missing chain places {victim.seq} (deleted)" in str(problems[0])


def test_an_event_unsealed_by_hand_is_resealed_at_the_end_and_its_gap_named(trail):
    before, victim, after = trail[1], trail[2], trail[3]
    _sql("UPDATE {table} SET seq = NULL, previous_hash = NULL, hash = '' WHERE id = %s", [victim.pk])

    log.seal_pending()

    assert chain.verify() == [chain.Problem("broken", after.pk, before.pk, (victim.seq, victim.seq))]


def test_deleting_the_first_events_is_detected(trail):
    _sql("DELETE FROM {table} WHERE id IN (%s, %s)", [trail[0].pk, trail[1].pk])

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


def test_a_rolled_back_append_leaves_no_break(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        log.record("test.event", actor=None, target=("thing", 1))
        with pytest.raises(RuntimeError):
            _append_then_fail()
        log.record("test.event", actor=None, target=("thing", 3))
    summary = chain.Summary()

    assert callbacks == [log.seal_pending]  # registered once, by the first event
    assert chain.verify(summary) == []
    assert (summary.count, summary.unsealed) == (2, 0)


def test_a_sealed_event_is_never_resealed_and_updates_stay_refused(trail):
    event = trail[0]

    assert log.seal_pending() == 0
    assert AuditEvent.objects.get(pk=event.pk).hash == event.hash
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(hash="")
    with pytest.raises(AppendOnlyError):
        event.save()


_INSERT = (
    "INSERT INTO {table} (at, type, actor_username, actor_role, target_type, target_id, data, "
    "seq, previous_hash, hash) VALUES (%s, 'x', '', '', 'x', '1', '{{}}', %s, %s, '')"
)


def test_two_events_cannot_chain_to_the_same_predecessor(trail):
    with pytest.raises(IntegrityError), transaction.atomic():
        _sql(_INSERT, [trail[0].at, None, trail[0].previous_hash])


def test_two_events_cannot_hold_the_same_place(trail):
    with pytest.raises(IntegrityError), transaction.atomic():
        _sql(_INSERT, [trail[0].at, trail[0].seq, None])


def test_the_command_reports_an_intact_trail(trail, capsys):
    call_command("audit", "verify")

    out = capsys.readouterr().out
    assert f"audit trail intact: {len(trail)} events, last hash {trail[-1].hash}" in out


def test_the_command_counts_waiting_events_without_sealing_them(trail, capsys):
    waiting = log.record("test.event", actor=None, target=("thing", "left by a crash"))

    call_command("audit", "verify")

    out = capsys.readouterr().out
    assert f"audit trail intact: {len(trail)} events" in out
    assert "1 event(s) dated within the last 1 hour waiting for their seal, not checked yet" in out
    waiting.refresh_from_db()
    assert waiting.seq is None


def test_the_seal_command_chains_waiting_events(trail, capsys):
    waiting = log.record("test.event", actor=None, target=("thing", "left by a crash"))

    call_command("audit", "seal")

    assert "sealed 1 event(s) that were waiting to join the chain" in capsys.readouterr().out
    waiting.refresh_from_db()
    assert waiting.seq == len(trail) + 1
    assert chain.verify() == []


_FORGE = (
    "INSERT INTO {table} (at, type, actor_id, actor_username, actor_role, target_type, target_id, patient_id, "
    "data, hash) VALUES (%s, 'patient.viewed', NULL, 'someone', 'therapist', 'patient', '7', 7, '{{}}', '')"
)


def _forge(at: dt.datetime, *, id: int | None = None) -> int:
    """A row inserted straight into the table, with no hash — what someone with database access can
    do. ``id`` places it among the ids (to stand for an honest event whose transaction was long)."""
    if id is None:
        _sql(_FORGE, [at])
    else:
        _sql(_FORGE.replace("(at,", "(id, at,").replace("VALUES (%s,", "VALUES (%s, %s,"), [id, at])
    return AuditEvent.objects.filter(actor_username="someone").order_by("-id").values_list("pk", flat=True)[0]


def _table() -> list[tuple]:
    return list(AuditEvent.objects.order_by("id").values_list(*[f.attname for f in AuditEvent._meta.fields]))


def test_a_forged_back_dated_event_is_reported_and_never_sealed(trail, capsys):
    """Regression (issue 12): verify sealed a hashless row back-dated a month and called the trail intact."""
    forged = _forge(timezone.now() - dt.timedelta(days=30))

    with pytest.raises(CommandError) as raised:
        call_command("audit", "verify")
    log.seal_pending()
    log.record("test.event", actor=None, target=("thing", "after the forgery"))  # seals on commit

    assert raised.value.returncode == 1
    out = capsys.readouterr().out
    assert f"event {forged}: dated " in out
    assert "still not sealed, more than 1 hour later" in out
    assert "audit trail intact" not in out
    assert AuditEvent.objects.get(pk=forged).seq is None
    assert [(p.kind, p.event_id) for p in chain.verify()] == [("unsealed", forged)]


def test_verify_writes_nothing(trail):
    log.record("test.event", actor=None, target=("thing", "waiting"))
    _forge(timezone.now() - dt.timedelta(days=30))
    before = _table()

    with pytest.raises(CommandError):
        call_command("audit", "verify")
    chain.verify()

    assert _table() == before
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 2  # both still unsealed


@pytest.mark.django_db(transaction=True)
def test_verify_reads_in_a_transaction_that_refuses_writes():
    with pytest.raises(DatabaseError), chain.read_only():
        AuditEvent.objects.create(type="test.event", target_type="thing", target_id="1")

    assert not AuditEvent.objects.exists()
    log.record("test.event", actor=None, target=("thing", 2))  # writes work again after the block
    assert AuditEvent.objects.count() == 1


def test_a_future_dated_unsealed_event_is_reported(trail):
    forged = _forge(timezone.now() + dt.timedelta(days=1))

    assert log.seal_pending() == 0
    assert [(p.kind, p.event_id) for p in chain.verify()] == [("future", forged)]
    assert "in the future" in str(chain.verify()[0])


def test_an_event_waiting_less_than_the_sealing_delay_is_sealed_and_not_reported(db):
    recent = _forge(timezone.now() - chain.SEALING_DELAY + dt.timedelta(minutes=1))
    summary = chain.Summary()

    assert chain.verify(summary) == []
    assert summary.unsealed == 1
    assert log.seal_pending() == 1
    assert AuditEvent.objects.get(pk=recent).seq == 1


def test_a_back_dated_event_sealed_behind_the_sealers_back_is_out_of_time_order(trail):
    """A forger who also chains their row correctly at the end: the hashes agree, the time does not."""
    forged = _forge(timezone.now() - dt.timedelta(days=30))
    content = AuditEvent.objects.filter(pk=forged).values_list(*chain.CONTENT_FIELDS).get()
    digest = chain.compute_hash(*content, trail[-1].hash)
    _sql("UPDATE {table} SET seq = %s, previous_hash = %s, hash = %s WHERE id = %s",
         [trail[-1].seq + 1, trail[-1].hash, digest, forged])

    problems = chain.verify()

    assert [(p.kind, p.event_id, p.previous_id) for p in problems] == [
        ("out_of_order", forged, trail[-1].pk), ("behind", forged, None)]
    assert f"before event {trail[-1].pk}, which the chain holds before it" in str(problems[0])


def test_events_sealed_within_the_tolerance_of_each_other_are_in_order(db):
    """A long transaction commits after a shorter one that started later: its event (the lower id,
    dated 50 minutes ago) is sealed after one dated later than itself — normal, within the delay."""
    shorter = log.record("test.event", actor=None, target=("thing", "short"))
    log.seal_pending()
    longer = _forge(timezone.now() - dt.timedelta(minutes=50), id=shorter.pk - 1)

    assert log.seal_pending() == 1
    assert AuditEvent.objects.get(pk=longer).seq == 2
    assert chain.verify() == []


def test_a_forged_future_dated_event_is_never_sealed_when_its_time_comes(trail):
    """Regression (issue 12 review): a row dated two hours ahead was reported "future" only until
    its time came within the sealer's window; then the next seal chained it and verify said intact."""
    now = timezone.now()
    forged = _forge(now + dt.timedelta(hours=2))
    log.record("test.event", actor=None, target=("thing", "written after the forgery"))
    assert log.seal_pending() == 1  # the honest event only

    later = now + dt.timedelta(hours=1, minutes=57)
    with mock.patch("django.utils.timezone.now", return_value=later):
        sealed = log.seal_pending()
        problems = chain.verify(now=later)

    assert sealed == 0
    assert AuditEvent.objects.get(pk=forged).seq is None
    assert [(p.kind, p.event_id) for p in problems] == [("ahead", forged)]
    assert "which was written after it (a later id): this event was dated ahead" in str(problems[0])


def test_a_back_dated_event_within_the_sealing_delay_is_named_once(trail):
    """Dated 40 minutes back, the sealer's window takes it; the events written before it, all dated
    later, name it — one problem for the forged event, not one per honest event."""
    forged = _forge(timezone.now() - dt.timedelta(minutes=40))
    log.seal_pending()

    problems = chain.verify()

    assert [(p.kind, p.event_id, p.written_before) for p in problems] == [
        ("behind", forged, (trail[0].pk, trail[-1].pk, len(trail)))]
    assert f"before {len(trail)} events written before it" in str(problems[0])


def test_events_a_few_minutes_out_of_id_order_are_honest(trail):
    """Two app servers' clocks differ by up to CLOCK_SKEW: an event may be dated minutes before one
    with a lower id. The sealer chains it and verify finds nothing."""
    skewed = _forge(timezone.now() - dt.timedelta(minutes=4))

    assert log.seal_pending() == 1
    assert AuditEvent.objects.get(pk=skewed).seq == len(trail) + 1
    assert chain.verify() == []


def test_a_late_unsealed_event_holds_no_honest_event_back(trail):
    """A back-dated row the sealer never takes (reported as unsealed) is not a witness against the
    events written before it: they are sealed, and only the forged row is reported."""
    waiting = log.record("test.event", actor=None, target=("thing", "waiting"))
    forged = _forge(timezone.now() - dt.timedelta(days=3))

    assert log.seal_pending() == 1
    assert AuditEvent.objects.get(pk=waiting.pk).seq == len(trail) + 1
    assert [(p.kind, p.event_id) for p in chain.verify()] == [("unsealed", forged)]


def test_verify_inside_a_callers_transaction_refuses_writes_and_restores_them(db):
    """Regression: on PostgreSQL, read_only() did nothing inside an atomic block."""
    with transaction.atomic():
        with pytest.raises(DatabaseError), chain.read_only():
            AuditEvent.objects.create(type="test.event", target_type="thing", target_id="1")
        log.record("test.event", actor=None, target=("thing", 2))  # the caller's transaction writes again

    assert list(AuditEvent.objects.values_list("target_id", flat=True)) == ["2"]


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
    summary = chain.Summary()
    assert chain.verify(summary) == []
    assert (summary.count, summary.unsealed) == (threads_n * per_thread, 0)
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, threads_n * per_thread + 1))


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_an_audited_transaction_waiting_for_a_row_does_not_block_the_rows_holder(patient):
    """The deadlock seen under concurrent questionnaire submissions: T1 writes an audit event,
    then waits for a row that T2 holds; T2 then writes its own audit event. While the chain's
    lock was taken at the first event and held to commit, T2 waited for T1 and PostgreSQL
    aborted one of them (a 500 for a patient). Now both commit, and both events are chained."""
    from interpersonal.web.patients.models import Patient

    holding = threading.Event()
    errors: list[BaseException] = []

    def waiter() -> None:  # T1
        try:
            holding.wait(10)
            with transaction.atomic():
                log.record("test.waiter", actor=None, target=("patient", patient.pk))
                Patient.objects.select_for_update().get(pk=patient.pk)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def holder() -> None:  # T2
        try:
            with transaction.atomic():
                Patient.objects.select_for_update().get(pk=patient.pk)
                holding.set()
                time.sleep(0.5)  # T1 has written its event and waits for the row by now
                log.record("test.holder", actor=None, target=("patient", patient.pk))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=waiter), threading.Thread(target=holder)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert errors == []
    summary = chain.Summary()
    assert chain.verify(summary) == []
    assert summary.unsealed == 0
    chained = AuditEvent.objects.filter(type__startswith="test.", seq__isnull=False).values_list("type", flat=True)
    assert sorted(chained) == ["test.holder", "test.waiter"]


def test_the_migrations_build_the_chain_for_existing_events(trail):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    editor = SimpleNamespace(connection=connection)
    hashes = importlib.import_module("interpersonal.web.audit.migrations.0002_hash_chain")
    places = importlib.import_module("interpersonal.web.audit.migrations.0003_chain_seq")
    _sql("UPDATE {table} SET seq = NULL, previous_hash = CAST(id AS VARCHAR(64)), hash = ''", [])
    assert chain.verify() == []  # nothing sealed: nothing checked

    hashes.build_chain(apps, editor)
    places.number_chain(apps, editor)

    summary = chain.Summary()
    assert chain.verify(summary) == []
    assert (summary.count, summary.unsealed) == (len(trail), 0)
    assert [e.hash for e in _events()] == [e.hash for e in trail]
