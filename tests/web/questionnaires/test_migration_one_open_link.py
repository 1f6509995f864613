"""Migration questionnaires 0005 on a populated database: links that break the new rules are
closed with a reason, nothing is deleted, and the constraints hold afterwards.

The patients, courses and sessions are made with today's actions (migration 0005 changes only
the links' table); the database is then taken back to questionnaires 0004, the links written
through the historical model in the shapes 0004 allowed, and migrated forward again. Runs on
SQLite and, in the PostgreSQL pass, on PostgreSQL; it leaves the database at the latest state.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from interpersonal.web.audit import log
from interpersonal.web.courses.actions import end_course, record_session, start_course
from interpersonal.web.patients.actions import register_patient
from interpersonal.web.questionnaires.models import QuestionnaireLink

BEFORE = [("questionnaires", "0004_referral_required")]
HOUR = dt.timedelta(hours=1)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_open_links_that_break_the_rules_are_closed_with_a_reason(therapist, dit_course, patient):
    other = register_patient(by=therapist, given_name="Robin", family_name="Ended", date_of_birth=dt.date(1979, 5, 2),
                             received_on=timezone.localdate() - dt.timedelta(days=90), source="gp")
    ended = start_course(patient=other, protocol="ipt", therapist=therapist, by=therapist,
                         started_on=timezone.localdate() - dt.timedelta(days=60))
    session = record_session(course=dit_course, by=therapist, attendance=None, scheduled_at=timezone.now() + 24 * HOUR)
    end_course(course=ended, reason="completed", by=therapist)
    now = timezone.now()

    old = _migrate(BEFORE)
    Link = old.get_model("questionnaires", "QuestionnaireLink")

    def link(name: str, *, course, session_id=None, created=0, by=therapist.pk, **extra):
        """A clinician's link by default (0004 already allowed one scheduled link per session)."""
        return Link.objects.create(created_by_id=by,
            token_hash=name.ljust(64, "0"), patient_id=course.patient_id, referral_id=course.referral_id,
            course_id=course.pk, session_id=session_id, instruments=["phq9"], draft={"phq9": {"1": 1}},
            created_at=now - created * HOUR, expires_at=now + 100 * HOUR, **extra).pk

    ids = {
        "session_older": link("a", course=dit_course, session_id=session.pk, created=3),
        "session_newer": link("b", course=dit_course, session_id=session.pk, created=2),
        "next_older": link("c", course=dit_course, created=5),
        "next_newer": link("d", course=dit_course, created=4),
        "withdrawn": link("e", course=dit_course, created=6, withdrawn_at=now - HOUR),
        "answered": link("f", course=dit_course, created=7, submitted_at=now - HOUR),
        "of_ended_course": link("g", course=ended, created=1),
        "scheduled_sent": link("h", course=dit_course, session_id=None, by=None, created=8, submitted_at=now - HOUR,
                               reminder_sent_at=now - 8 * HOUR),
    }
    log.record("questionnaire_link.sent", actor=None, target=("questionnairelink", ids["scheduled_sent"]),
               channel="sms")

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    found = {name: QuestionnaireLink.objects.get(pk=pk) for name, pk in ids.items()}
    assert {name: (lk.closed_reason, lk.withdrawn_at is not None) for name, lk in found.items()} == {
        "session_older": ("replaced", True), "session_newer": ("", False),
        "next_older": ("replaced", True), "next_newer": ("", False),
        "withdrawn": ("withdrawn", True), "answered": ("", False),
        "of_ended_course": ("course_ended", True), "scheduled_sent": ("", False),
    }
    assert found["session_older"].draft == {}
    assert found["session_newer"].draft == {"phq9": {"1": 1}}
    sent = found["scheduled_sent"]
    assert (sent.delivery, sent.delivery_channel, sent.delivered_at) == ("sent", "sms", sent.reminder_sent_at)
    assert QuestionnaireLink.objects.count() == len(ids)  # nothing deleted
    with pytest.raises(IntegrityError), transaction.atomic():
        QuestionnaireLink.objects.filter(pk=ids["session_older"]).update(withdrawn_at=None)
