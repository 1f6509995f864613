"""The course schedule: which booked sessions get their questionnaires, and never twice."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from interpersonal.core import protocols
from interpersonal.web.courses.actions import end_course, record_session, start_course
from interpersonal.web.courses.models import Course
from interpersonal.web.questionnaires.actions import issue_link
from interpersonal.web.questionnaires.models import QuestionnaireLink
from interpersonal.web.questionnaires.schedule import Scheduler, bundle_for, due_sessions
from interpersonal.web.questionnaires.tasks import send_for_session

HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _default_lead_time(settings):
    settings.INTERPERSONAL_REMINDER_HOURS_BEFORE = 48


@pytest.fixture
def book(therapist):
    def book_session(course: Course, in_hours: float, *, attendance: int | None = None, by=therapist):
        return record_session(course=course, by=by, attendance=attendance,
                              scheduled_at=timezone.now() + dt.timedelta(hours=in_hours))
    return book_session


@pytest.fixture
def reachable(patient):
    patient.email, patient.contact_by_email = "pat@example.org", True
    patient.save(update_fields=["email", "contact_by_email"])
    return patient


def test_due_sessions_are_booked_ahead_within_the_lead_time(dit_course, book):
    due = book(dit_course, 24)
    book(dit_course, 72)   # not yet: 48 h before is still a day away
    book(dit_course, -2)   # booked but already past
    book(dit_course, -30, attendance=5)   # happened

    assert list(due_sessions()) == [due]


def test_sessions_of_an_ended_course_are_not_due(other_patient, unrelated_therapist, book):
    course = other_patient.courses.get()
    book(course, 24, by=unrelated_therapist)
    end_course(course=course, reason="completed", by=unrelated_therapist, ended_on=timezone.localdate())

    assert list(due_sessions()) == []


def test_a_session_the_clinician_already_sent_a_link_for_is_not_due(dit_course, book, therapist):
    session = book(dit_course, 24)
    issue_link(course=dit_course, instruments=["phq9"], by=therapist, session=session)

    assert list(due_sessions()) == []


def test_the_lead_time_is_configurable(dit_course, book, settings):
    session = book(dit_course, 72)
    settings.INTERPERSONAL_REMINDER_HOURS_BEFORE = 96

    assert list(due_sessions()) == [session]


def test_running_the_schedule_twice_sends_one_link(dit_course, book, reachable, mailoutbox):
    session = book(dit_course, 24)

    first = Scheduler().run_once()
    second = Scheduler().run_once()   # a restarted scheduler: nothing is due any more

    assert first == [session.pk]
    assert second == []
    assert QuestionnaireLink.objects.filter(session=session).count() == 1
    assert len(mailoutbox) == 1


def test_a_repeated_task_for_the_same_session_sends_nothing(dit_course, book, reachable, mailoutbox):
    session = book(dit_course, 24)

    assert send_for_session(session.pk) == "sent"
    assert send_for_session(session.pk) == "already_sent"
    assert QuestionnaireLink.objects.filter(session=session).count() == 1
    assert len(mailoutbox) == 1


def test_the_database_refuses_a_second_scheduled_link_for_a_session(dit_course, book):
    session = book(dit_course, 24)
    first, _ = issue_link(course=dit_course, instruments=["phq9"], by=None, session=session, scheduled=True)
    QuestionnaireLink.objects.filter(pk=first.pk).update(submitted_at=timezone.now())  # not open: only this constraint

    with pytest.raises(IntegrityError), transaction.atomic():
        QuestionnaireLink.objects.create(
            token_hash="0" * 64, patient=first.patient, referral=first.referral, course=dit_course, session=session,
            instruments=["phq9"], expires_at=first.expires_at)


def test_a_failed_send_is_enqueued_again_only_after_the_retry_interval(dit_course, book, reachable, monkeypatch):
    session = book(dit_course, 24)
    monkeypatch.setattr("interpersonal.web.questionnaires.notify.EmailNotifier.send",
                        lambda self, **kw: (_ for _ in ()).throw(OSError("mail server down")))
    scheduler = Scheduler(retry_after=dt.timedelta(minutes=30))
    now = timezone.now()

    assert scheduler.run_once(now) == [session.pk]
    assert not QuestionnaireLink.objects.exists()   # rolled back with the failed send
    assert scheduler.run_once(now + dt.timedelta(minutes=5)) == []
    assert scheduler.run_once(now + dt.timedelta(minutes=31)) == [session.pk]


def test_bundle_is_the_protocols_link_measures():
    # Protocol data (link_measures), no WSAS special case: DIT sends the WSAS it takes at baseline,
    # maintenance IPT (no WSAS) does not.
    assert bundle_for(protocols.get("dit")) == ["phq9", "gad7", "wsas"]
    assert bundle_for(protocols.get("ipt_maintenance")) == ["phq9", "gad7"]


def test_bundle_leaves_out_clinician_rated_and_unlicensed_measures():
    # The loader refuses them; a protocol built otherwise (or a licence changed since) still
    # never sends the HRSD-17 (clinician-rated) or CORE-10 (no item text) by link.
    protocol = dataclasses.replace(protocols.get("dit"), link_measures=("hrsd17", "phq9", "core10"))

    assert bundle_for(protocol) == ["phq9"]


def test_the_command_enqueues_due_sessions(dit_course, book, reachable, mailoutbox, capsys):
    book(dit_course, 24)

    call_command("schedule_questionnaires")

    assert "Enqueued questionnaire links for 1 session(s)." in capsys.readouterr().out
    assert len(mailoutbox) == 1


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_for_one_session_issue_one_link(patient, therapist, mailoutbox):
    patient.email, patient.contact_by_email = "pat@example.org", True
    patient.save(update_fields=["email", "contact_by_email"])
    course = start_course(patient=patient, protocol="dit", therapist=therapist, by=therapist,
                          started_on=timezone.localdate() - dt.timedelta(days=30))
    session = record_session(course=course, by=therapist, attendance=None, scheduled_at=timezone.now() + 24 * HOUR)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def race() -> None:
        try:
            barrier.wait()
            outcomes.append(send_for_session(session.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["already_sent"] * 3 + ["sent"]
    assert QuestionnaireLink.objects.filter(session=session).count() == 1
    assert len(mailoutbox) == 1


class _OneRound(threading.Event):
    """The loop's stop event, set by its first wait: the loop runs exactly one round."""

    def wait(self, timeout: float | None = None) -> bool:
        self.set()
        return True


def test_each_round_of_the_loop_seals_audit_events_whose_seal_was_lost(db, monkeypatch, capsys):
    """Issue 12 review: an event whose seal after commit never ran (a crash, a locked database)
    stayed unsealed for good unless another audited write came within the hour."""
    from interpersonal.web.audit import log
    from interpersonal.web.audit.models import AuditEvent
    from interpersonal.web.questionnaires.management.commands import schedule_questionnaires as command

    waiting = log.record("test.event", actor=None, target=("thing", "seal lost"))  # the test never commits
    monkeypatch.setattr(command.threading, "Event", _OneRound)
    monkeypatch.setattr(command.signal, "signal", lambda *args: None)
    monkeypatch.setattr(command, "close_old_connections", lambda: None)  # it would end the test's transaction

    call_command("schedule_questionnaires", "--loop")

    assert "Sealed 1 audit event(s) waiting to join the chain." in capsys.readouterr().out
    assert AuditEvent.objects.get(pk=waiting.pk).seq == 1


def test_a_failed_seal_still_sends_the_links_and_fails_the_run(dit_course, book, reachable, mailoutbox,
                                                               monkeypatch, capsys):
    from django.core.management.base import CommandError
    from django.db import OperationalError

    from interpersonal.web.questionnaires.management.commands import schedule_questionnaires as command

    def locked() -> int:
        raise OperationalError("database is locked")

    monkeypatch.setattr(command, "seal_pending", locked)
    book(dit_course, 24)

    with pytest.raises(CommandError, match="the next run tries again"):
        call_command("schedule_questionnaires")

    assert len(mailoutbox) == 1
    assert "sealing the audit trail: OperationalError: database is locked" in capsys.readouterr().err


def test_each_round_deletes_expired_sign_in_sessions_and_keeps_live_ones(db):
    """Letter text kept after an idle timeout (letters/kept.py) lives in the session row until it is
    restored or the row is cleared: the round clears expired rows, as ``clearsessions`` would."""
    from django.contrib.sessions.models import Session

    now = timezone.now()
    Session.objects.create(session_key="e" * 32, session_data="kept letter text", expire_date=now - HOUR)
    Session.objects.create(session_key="l" * 32, session_data="live", expire_date=now + HOUR)

    call_command("schedule_questionnaires")

    assert list(Session.objects.values_list("session_key", flat=True)) == ["l" * 32]
