"""Generated documents: made by the task worker (the immediate backend here), stored owner-only
with their SHA-256, reused while alive, deleted with their file when they expire or their row
goes; a failed or abandoned one says so and can be asked for again."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.documents import actions, tasks
from interpersonal.web.documents.models import STUCK_AFTER, Document
from interpersonal.web.letters.actions import draft_letter
from interpersonal.web.privacy.access import record_link
from tests.web.files import owner_only

pytestmark = pytest.mark.django_db

QUEUE_ONLY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def private_storage(settings, tmp_path):
    """The documents storage in a folder of its own, created by the storage itself."""
    location = tmp_path / "documents"
    settings.STORAGES = {**settings.STORAGES, "documents": {**settings.STORAGES["documents"],
                                                            "OPTIONS": {**settings.STORAGES["documents"]["OPTIONS"],
                                                                        "location": str(location)}}}
    return location


@pytest.fixture
def letter(dit_course, therapist):
    return draft_letter(course=dit_course, kind="gp_discharge", by=therapist)


def test_a_made_document_is_owner_only_with_its_sha256(private_storage, letter, therapist):
    document = actions.request_letter_pdf(letter=letter, by=therapist)
    document.refresh_from_db()

    assert document.state == Document.State.READY
    content = (private_storage / document.file_name).read_bytes()
    assert content.startswith(b"%PDF")
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.size == len(content)
    assert owner_only(private_storage)
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", document.file_name)  # random: names nothing
    assert document.expires_at is not None
    assert document.expires_at - document.finished_at == dt.timedelta(hours=24)


def test_the_stored_name_and_the_audit_trail_say_nothing_of_the_patient(private_storage, letter, therapist):
    patient = letter.course.patient
    document = actions.request_letter_pdf(letter=letter, by=therapist)
    document.refresh_from_db()

    assert patient.family_name not in document.file_name
    assert patient.family_name not in document.download_name
    event = AuditEvent.objects.get(type="document.requested")
    assert (event.patient_id, event.target_id, event.data["kind"]) == (patient.pk, str(document.pk), "letter_pdf")
    assert letter.body[:20] not in repr(event.data)


def test_running_the_task_again_does_nothing(letter, therapist):
    document = actions.request_letter_pdf(letter=letter, by=therapist)
    document.refresh_from_db()

    assert tasks.make(document.pk) == tasks.SKIPPED
    assert tasks.make(10**9) == tasks.SKIPPED
    assert Document.objects.get(pk=document.pk).file_name == document.file_name


def test_a_queued_document_is_reused_and_the_worker_makes_it_later(settings, letter, therapist):
    settings.TASKS = QUEUE_ONLY
    first = actions.request_letter_pdf(letter=letter, by=therapist)
    again = actions.request_letter_pdf(letter=letter, by=therapist)

    assert again.pk == first.pk
    assert tasks.make(first.pk) == tasks.READY
    first.refresh_from_db()
    assert first.state == Document.State.READY


def test_a_document_whose_worker_died_is_shown_failed_and_asked_for_anew(settings, client_for, letter, therapist):
    settings.TASKS = QUEUE_ONLY
    stuck = actions.request_letter_pdf(letter=letter, by=therapist)
    Document.objects.filter(pk=stuck.pk).update(state=Document.State.RUNNING,
                                                started_at=timezone.now() - STUCK_AFTER - dt.timedelta(seconds=1))

    page = client_for(therapist).get(reverse("letters:pdf_progress", args=[letter.pk, stuck.pk]))
    fresh = actions.request_letter_pdf(letter=letter, by=therapist)

    assert b"The background worker stopped while making it." in page.content
    assert b"Ask for it again" in page.content
    assert fresh.pk != stuck.pk


def test_an_expired_document_is_deleted_with_its_file(private_storage, letter, therapist,
                                                      django_capture_on_commit_callbacks):
    document = actions.request_letter_pdf(letter=letter, by=therapist)
    document.refresh_from_db()
    stored = private_storage / document.file_name
    assert stored.exists()

    with django_capture_on_commit_callbacks(execute=True):
        pruned = actions.prune_expired(now=document.expires_at + dt.timedelta(seconds=1))

    assert pruned == 1
    assert not Document.objects.filter(pk=document.pk).exists()
    assert not stored.exists()
    assert AuditEvent.objects.filter(type="document.expired", target_id=str(document.pk)).count() == 1


def test_an_expired_document_is_not_served(client_for, letter, therapist):
    document = actions.request_letter_pdf(letter=letter, by=therapist)
    Document.objects.filter(pk=document.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    client = client_for(therapist)

    response = client.get(reverse("letters:pdf_download", args=[letter.pk, document.pk]))
    page = client.get(reverse("letters:pdf_progress", args=[letter.pk, document.pk]))

    assert response.status_code == 302
    assert b"This file has expired and was deleted." in page.content
    assert not AuditEvent.objects.filter(type="letter.downloaded").exists()


def test_deleting_a_row_deletes_its_file_after_the_commit(private_storage, letter, therapist,
                                                          django_capture_on_commit_callbacks):
    document = actions.request_letter_pdf(letter=letter, by=therapist)
    document.refresh_from_db()
    stored = private_storage / document.file_name

    with django_capture_on_commit_callbacks(execute=True):
        Document.objects.filter(pk=document.pk).delete()  # as erasure deletes a patient's rows

    assert not stored.exists()


def test_a_subject_access_copy_is_reused_only_for_the_same_reference(settings, patient, records_officer):
    settings.TASKS = QUEUE_ONLY
    first = actions.request_subject_access(patient=patient, fmt="pdf", reference="SAR-1", by=records_officer)

    assert actions.request_subject_access(patient=patient, fmt="pdf", reference="SAR-1", by=records_officer).pk == first.pk
    assert actions.request_subject_access(patient=patient, fmt="pdf", reference="SAR-2", by=records_officer).pk != first.pk
    assert actions.request_subject_access(patient=patient, fmt="json", reference="SAR-1", by=records_officer).pk != first.pk


def test_subject_access_progress_page_does_not_name_the_patient_and_download_is_the_audited_copy(
        client_for, patient, records_officer):
    client = client_for(records_officer)
    ref = record_link(records_officer, patient.pk)
    asked = client.post(reverse("privacy:subject_access", args=[ref]), {"format": "json", "reference": "SAR-3"})
    document = Document.objects.get(patient=patient, kind=Document.Kind.SUBJECT_ACCESS_JSON)
    assert not AuditEvent.objects.filter(type="patient.subject_access").exists()  # asked for, not yet handed over

    page = client.get(asked["Location"])
    response = client.get(reverse("privacy:subject_access_download", args=[ref, document.pk]))
    body = b"".join(response.streaming_content)

    assert page.status_code == 200
    assert patient.family_name.encode() not in page.content
    assert patient.local_id.encode() not in page.content
    assert b"reference SAR-3" in page.content
    assert response["Cache-Control"] == "no-store"
    assert document.state == Document.State.READY
    assert hashlib.sha256(body).hexdigest() == document.sha256
    assert json.loads(body)["patient_id"] == patient.pk
    copy = AuditEvent.objects.get(type="patient.subject_access")
    assert (copy.actor_id, copy.patient_id, copy.data["reference"]) == (records_officer.pk, patient.pk, "SAR-3")
    assert AuditEvent.objects.filter(type="document.downloaded", target_id=str(document.pk)).count() == 1


def test_a_subject_access_copy_of_another_patient_is_not_found(client_for, patient, other_patient, records_officer):
    document = actions.request_subject_access(patient=other_patient, fmt="json", reference="", by=records_officer)
    client = client_for(records_officer)

    for name in ("privacy:subject_access_progress", "privacy:subject_access_download"):
        assert client.get(reverse(name, args=[patient.pk, document.pk])).status_code == 404, name


def test_the_scheduler_round_deletes_an_expired_copy_though_nobody_asks_for_another(
        private_storage, settings, patient, records_officer, django_capture_on_commit_callbacks, capsys):
    """Issue 12 review: expiry ran only when another document was made, so at a quiet service a
    subject access copy stayed on disk for good, though it is promised for a day."""
    from django.core.management import call_command

    document = actions.request_subject_access(patient=patient, fmt="json", reference="SAR-9", by=records_officer)
    document.refresh_from_db()
    stored = private_storage / document.file_name
    Document.objects.filter(pk=document.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("schedule_questionnaires")

    assert not Document.objects.filter(pk=document.pk).exists()
    assert not stored.exists()
    assert "Deleted 1 expired document(s)" in capsys.readouterr().out


def test_a_file_no_document_names_is_swept_once_it_is_an_hour_old(private_storage, letter, therapist):
    """A worker that died between saving a file and recording it left the file behind."""
    import os

    document = actions.request_letter_pdf(letter=letter, by=therapist)
    document.refresh_from_db()
    kept = private_storage / document.file_name
    left_over, recent = private_storage / "0123abcd.pdf", private_storage / "4567ef01.pdf"
    left_over.write_bytes(b"%PDF-1.7 a patient's letter")
    recent.write_bytes(b"%PDF-1.7 being recorded right now")
    hours_ago = (timezone.now() - dt.timedelta(hours=2)).timestamp()
    os.utime(left_over, (hours_ago, hours_ago))
    os.utime(kept, (hours_ago, hours_ago))

    assert actions.sweep_orphans() == 1
    assert not left_over.exists()
    assert recent.exists()
    assert kept.exists()


def test_a_letter_changed_after_its_pdf_was_asked_for_is_not_printed_under_the_old_label(
        settings, client_for, letter, therapist):
    """Issue 12 review: the PDF's label (version, draft or final, file name) is taken when it is
    asked for; the worker printed whatever the letter held when it ran."""
    from interpersonal.web.letters.actions import PLACEHOLDER, edit_letter, finalise_letter

    settings.TASKS = QUEUE_ONLY
    letter = edit_letter(letter=letter, by=therapist, expected_version=letter.version,
                         body=PLACEHOLDER.sub("Discharged to your care.", letter.body))
    document = actions.request_letter_pdf(letter=letter, by=therapist)
    finalise_letter(letter=letter, by=therapist)

    assert tasks.make(document.pk) == tasks.FAILED

    document.refresh_from_db()
    assert document.state == Document.State.FAILED
    assert "changed after this PDF was asked for" in document.error
    assert not document.file_name
