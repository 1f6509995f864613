"""The erasure register (privacy.register) and erasing again after a restore (erasure.reapply).

Restoring a backup taken before an erasure must not bring the record back for good: each
erasure is written, after it commits, to a register outside the database; ``restore`` erases
again each record of the register the restored database holds, if it is the same record (its
fingerprint). The restore itself runs for real in tests/web/operations/test_backup.py.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import stat

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.utils import timezone

from interpersonal.web.audit import chain
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.patients.models import Patient
from interpersonal.web.privacy import checks, erasure, register
from interpersonal.web.privacy.erasure import ErasureRefused, erase_patient

REFERENCE = "IG-2026-0077"


def erased(patient, officer, capture) -> register.Entry:
    """Erase ``patient`` and run what waits for the commit (the register line); the entry written."""
    with capture(execute=True):
        erase_patient(patient.pk, by=officer, reason="erasure_request", reference=REFERENCE)
    entries, _ = register.read()
    return entries[-1]


def back_from_a_backup(patient) -> Patient:
    """The record as a restored backup holds it: the same row, same id and creation moment."""
    created_at = patient.created_at
    Patient.objects.bulk_create([patient])  # auto_now_add stamps a new creation moment: put it back
    Patient.objects.filter(pk=patient.pk).update(created_at=created_at)
    return Patient.objects.get(pk=patient.pk)


def test_an_erasure_writes_one_owner_only_line_without_the_patients_details(
        patient, records_officer, erasure_register, django_capture_on_commit_callbacks):
    entry = erased(patient, records_officer, django_capture_on_commit_callbacks)

    text = erasure_register.read_text()
    assert len(text.splitlines()) == 1
    assert stat.S_IMODE(erasure_register.stat().st_mode) == 0o600
    assert json.loads(text) == {"patient_id": patient.pk, "fingerprint": entry.fingerprint,
                                "erased_at": entry.erased_at, "reason": "erasure_request", "reference": REFERENCE}
    assert entry.fingerprint == register.fingerprint(patient.pk, patient.created_at)
    for detail in (patient.given_name, patient.family_name, patient.local_id, patient.nhs_number,
                   patient.date_of_birth.isoformat()):
        assert detail not in text
    event = AuditEvent.objects.get(type="patient.erased", patient_id=patient.pk)
    assert event.data["fingerprint"] == entry.fingerprint


def test_a_refused_erasure_writes_no_line(risk_alert, records_officer, erasure_register,
                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ErasureRefused):
        erase_patient(risk_alert.course.patient_id, by=records_officer, reason="erasure_request", reference=REFERENCE)

    assert not erasure_register.exists()


def test_a_line_waits_for_the_commit(patient, records_officer, erasure_register, django_capture_on_commit_callbacks):
    """Written before the commit, a line for an erasure that was then rolled back would erase a
    kept record at the next restore."""
    with django_capture_on_commit_callbacks(execute=False) as waiting:
        erase_patient(patient.pk, by=records_officer, reason="erasure_request", reference=REFERENCE)

    assert not erasure_register.exists()
    for callback in waiting:  # the commit
        callback()
    assert [e.patient_id for e in register.read()[0]] == [patient.pk]


def test_a_record_back_from_a_backup_is_erased_again(patient, records_officer, django_capture_on_commit_callbacks):
    entry = erased(patient, records_officer, django_capture_on_commit_callbacks)
    back_from_a_backup(patient)

    with django_capture_on_commit_callbacks(execute=True):
        done = erasure.reapply(restored_from="ab" * 32, os_user="ops")

    assert [r.patient_id for r in done.erased] == [patient.pk]
    assert (done.absent, done.other_record, done.refused) == (0, [], [])
    assert not Patient.objects.filter(pk=patient.pk).exists()
    again = AuditEvent.objects.filter(type="patient.erased", patient_id=patient.pk).order_by("pk").last()
    assert again.actor_id is None
    assert {k: again.data[k] for k in ("via", "reason", "reference", "erased_at", "restored_from", "os_user")} == {
        "via": "restore", "reason": "erasure_request", "reference": REFERENCE, "erased_at": entry.erased_at,
        "restored_from": "ab" * 32, "os_user": "ops"}
    assert again.data["patients.Patient"] == 1
    assert chain.verify() == []


def test_a_record_not_in_the_database_is_counted_and_nothing_else_changes(
        patient, other_patient, records_officer, django_capture_on_commit_callbacks):
    erased(patient, records_officer, django_capture_on_commit_callbacks)
    events = AuditEvent.objects.count()

    done = erasure.reapply(restored_from="")

    assert (done.erased, done.absent) == ([], 1)
    assert Patient.objects.filter(pk=other_patient.pk).exists()
    assert AuditEvent.objects.count() == events


def test_another_record_with_the_same_id_is_left_alone(patient, records_officer, django_capture_on_commit_callbacks):
    """Another installation's backup (or a database rebuilt from scratch) has its own patient
    with this id: the fingerprint differs, so it is not erased."""
    erased(patient, records_officer, django_capture_on_commit_callbacks)
    patient.created_at = patient.created_at - dt.timedelta(microseconds=1)
    stranger = back_from_a_backup(patient)

    done = erasure.reapply(restored_from="")

    assert done.other_record == [stranger.pk]
    assert done.erased == []
    assert Patient.objects.filter(pk=stranger.pk).exists()


def test_a_line_without_a_fingerprint_is_never_acted_on_and_is_reported_loudly(patient, erasure_register):
    """An erasure made before fingerprints were kept (its line added from the audit trail): the
    record may be the erased one or another; a person must look, so the command fails."""
    register.append(register.Entry(patient_id=patient.pk, fingerprint="", erased_at=timezone.now().isoformat(),
                                   reason="erasure_request", reference=REFERENCE))

    done = erasure.reapply(restored_from="")
    with pytest.raises(CommandError) as exc:
        call_command("reapply_erasures", stdout=io.StringIO())

    assert (done.unverified, done.other_record) == ([patient.pk], [])
    assert Patient.objects.filter(pk=patient.pk).exists()
    assert f"ids {patient.pk} were erased before the register kept fingerprints" in str(exc.value)


def test_an_id_in_the_register_twice_is_matched_on_either_line(patient, records_officer, erasure_register,
                                                               django_capture_on_commit_callbacks):
    """A restore puts the id counter back, so a patient created after the backup and erased can
    share its id with a later one also erased: each line is checked, not only the first."""
    register.append(register.Entry(patient_id=patient.pk, fingerprint="0" * 32, erased_at=timezone.now().isoformat(),
                                   reason="erasure_request", reference="IG-2026-0001"))
    erased(patient, records_officer, django_capture_on_commit_callbacks)
    back_from_a_backup(patient)

    done = erasure.reapply(restored_from="")

    assert [r.patient_id for r in done.erased] == [patient.pk]
    assert done.other_record == []
    assert not Patient.objects.filter(pk=patient.pk).exists()


def test_a_database_refusal_on_one_record_does_not_stop_the_others(
        patient, therapist, records_officer, django_capture_on_commit_callbacks, monkeypatch):
    from interpersonal.web.patients.actions import register_patient

    other_patient = register_patient(by=therapist, given_name="Robin", family_name="Sample",
                                     date_of_birth=dt.date(1990, 7, 2), received_on=timezone.localdate(),
                                     source="gp")
    erased(patient, records_officer, django_capture_on_commit_callbacks)
    erased(other_patient, records_officer, django_capture_on_commit_callbacks)
    back_from_a_backup(patient)
    back_from_a_backup(other_patient)
    delete = erasure._delete

    def refuse_the_first(ids):
        if ids["patients.Patient"] == [patient.pk]:
            raise IntegrityError("a row was added meanwhile")
        return delete(ids)

    monkeypatch.setattr(erasure, "_delete", refuse_the_first)

    done = erasure.reapply(restored_from="")

    assert [r.patient_id for r in done.erased] == [other_patient.pk]
    [refused] = done.refused
    assert refused.startswith(f"id {patient.pk}: the database refused (IntegrityError)")
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_no_erasure_while_the_register_cannot_be_written(patient, records_officer, settings, tmp_path):
    """Else the officer would be told it is done while a restore could bring the record back."""
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    settings.INTERPERSONAL_ERASURE_REGISTER = str(blocked / "erasure-register.jsonl")

    with pytest.raises(ErasureRefused) as exc:
        erase_patient(patient.pk, by=records_officer, reason="erasure_request", reference=REFERENCE)

    assert "The erasure register cannot be written" in str(exc.value)
    assert Patient.objects.filter(pk=patient.pk).exists()
    assert [m.id for m in checks.erasure_register_writable()] == ["privacy.E001"]


def test_the_system_check_passes_when_the_register_can_be_written(erasure_register):
    assert checks.erasure_register_writable() == []


def test_a_line_cut_short_by_a_crash_is_counted_not_guessed(patient, records_officer, erasure_register,
                                                            django_capture_on_commit_callbacks):
    erased(patient, records_officer, django_capture_on_commit_callbacks)
    with erasure_register.open("a") as f:
        f.write('{"patient_id": 9')  # the write a crash interrupted
    later = register.Entry(patient_id=patient.pk + 1, fingerprint="f" * 32, erased_at=timezone.now().isoformat(),
                           reason="erasure_request", reference=REFERENCE)
    register.append(later)  # starts on a line of its own: not lost with the cut one

    entries, unreadable = register.read()

    assert ([e.patient_id for e in entries], unreadable) == ([patient.pk, patient.pk + 1], 1)
    assert entries[-1] == later
    assert erasure.reapply(restored_from="").unreadable_lines == 1


def test_the_trail_fills_what_the_register_lacks_once(patient, records_officer, erasure_register,
                                                      django_capture_on_commit_callbacks):
    """``restore`` reads the trail of the database it replaces: an erasure whose line was never
    written (the disk was full, the register was moved) is added before that trail is gone."""
    with django_capture_on_commit_callbacks(execute=False):  # the line is never written
        erase_patient(patient.pk, by=records_officer, reason="erasure_request", reference=REFERENCE)
    event = AuditEvent.objects.get(type="patient.erased", patient_id=patient.pk)

    assert erasure.sync_register() == 1
    assert erasure.sync_register() == 0

    [entry], _ = register.read()
    assert entry == register.Entry(patient_id=patient.pk, fingerprint=event.data["fingerprint"],
                                   erased_at=event.at.isoformat(), reason="erasure_request", reference=REFERENCE)


def test_a_record_another_record_points_into_is_reported_not_erased(
        patient, records_officer, django_capture_on_commit_callbacks, monkeypatch):
    erased(patient, records_officer, django_capture_on_commit_callbacks)
    back_from_a_backup(patient)
    monkeypatch.setattr(erasure, "_entangled", lambda ids: ["courses.Course 99"])

    done = erasure.reapply(restored_from="")

    assert done.erased == []
    [refused] = done.refused
    assert "courses.Course 99" in refused
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_the_command_says_what_it_did(patient, records_officer, django_capture_on_commit_callbacks):
    erased(patient, records_officer, django_capture_on_commit_callbacks)
    back_from_a_backup(patient)
    out = io.StringIO()

    call_command("reapply_erasures", stdout=out)

    assert f"1 record(s) erased again (ids {patient.pk}); 0 not in this database" in out.getvalue()
    assert not Patient.objects.filter(pk=patient.pk).exists()
