"""Recordings: consent, the chunked encrypted upload, encryption at rest, deletion on withdrawal,
streaming with HTTP Range, who may play, and the audit of every play."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.fidelity import actions, crypto
from interpersonal.web.fidelity import storage as media
from interpersonal.web.fidelity.models import Recording

from .conftest import CHUNK, OTHER_KEY
from .conftest import media as synthetic


def _stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _streamed(response) -> bytes:
    return b"".join(response.streaming_content)


# --- Consent ---------------------------------------------------------------------------------


def test_upload_refused_without_consent(dit_course, therapist, attended_session):
    with pytest.raises(actions.Refused, match="consent to recording is not recorded"):
        actions.start_upload(course=dit_course, session=attended_session, phase="ipaf", content_type="audio/mpeg",
                             size=10, by=therapist)

    assert not Recording.objects.exists()


def test_consent_is_recorded_and_audited(dit_course, therapist):
    consent = actions.record_consent(course=dit_course, given_on=timezone.localdate(), how="verbal", by=therapist)

    assert consent.in_force
    assert AuditEvent.objects.filter(type="recording_consent.given", target_id=str(consent.pk),
                                     patient_id=dit_course.patient_id).exists()


def test_consent_only_by_the_courses_therapist(dit_course, supervisor, unrelated_therapist):
    for someone in (supervisor, unrelated_therapist):
        with pytest.raises(PermissionDenied):
            actions.record_consent(course=dit_course, given_on=timezone.localdate(), how="written", by=someone)


def test_consent_in_the_future_refused(dit_course, therapist):
    with pytest.raises(actions.Refused, match="future"):
        actions.record_consent(course=dit_course, given_on=timezone.localdate() + dt.timedelta(days=1),
                               how="written", by=therapist)


def test_withdrawal_deletes_the_courses_recordings_and_keeps_a_tombstone(
        consent, upload, dit_course, therapist, recordings_settings, django_capture_on_commit_callbacks):
    recording = upload(synthetic(3 * CHUNK + 5))
    assert len(_stored_files(recordings_settings)) == 4

    with django_capture_on_commit_callbacks(execute=True):
        deleted = actions.withdraw_consent(course=dit_course, withdrawn_on=timezone.localdate(), by=therapist)

    recording.refresh_from_db()
    assert deleted == 1
    assert _stored_files(recordings_settings) == []
    assert recording.state == Recording.State.DELETED
    assert recording.deleted_because == Recording.DeletedBecause.CONSENT_WITHDRAWN
    assert recording.deleted_at is not None
    assert recording.wrapped_key == ""  # the key goes with the data
    assert AuditEvent.objects.filter(type="recording.media_deleted", target_id=str(recording.pk)).exists()


def test_after_withdrawal_a_new_upload_is_refused(consent, dit_course, therapist, attended_session):
    actions.withdraw_consent(course=dit_course, withdrawn_on=timezone.localdate(), by=therapist)

    with pytest.raises(actions.Refused, match="consent"):
        actions.start_upload(course=dit_course, session=attended_session, phase="ipaf", content_type="audio/mpeg",
                             size=10, by=therapist)


def test_withdrawal_mid_upload_refuses_the_next_chunk(consent, dit_course, therapist, attended_session):
    recording = actions.start_upload(course=dit_course, session=attended_session, phase="ipaf",
                                     content_type="audio/mpeg", size=2 * CHUNK, by=therapist)
    actions.receive_chunk(recording=recording, index=0, data=synthetic(CHUNK), by=therapist)
    actions.withdraw_consent(course=dit_course, withdrawn_on=timezone.localdate(), by=therapist)

    with pytest.raises(actions.Refused):
        actions.receive_chunk(recording=recording, index=1, data=synthetic(CHUNK), by=therapist)


# --- Upload checks -----------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value", "message"), [
    ("content_type", "application/pdf", "cannot be uploaded"),
    ("size", 0, "empty"),
    ("phase", "termination", "phase"),  # an IPT phase key, not a DIT one
])
def test_start_refuses_a_bad_declaration(consent, dit_course, therapist, attended_session, field, value, message):
    declared = {"phase": "ipaf", "content_type": "audio/mpeg", "size": 100} | {field: value}

    with pytest.raises(actions.Refused, match=message):
        actions.start_upload(course=dit_course, session=attended_session, by=therapist, **declared)


def test_start_refuses_a_file_over_the_limit(consent, dit_course, therapist, attended_session, settings):
    settings.INTERPERSONAL_RECORDINGS_MAX_BYTES = 1000

    with pytest.raises(actions.Refused, match="larger") as err:
        actions.start_upload(course=dit_course, session=attended_session, phase="ipaf", content_type="audio/mpeg",
                             size=1001, by=therapist)
    assert err.value.status == 413


def test_start_refused_without_a_master_key(consent, dit_course, therapist, attended_session, settings):
    settings.INTERPERSONAL_RECORDINGS_KEY = ""

    with pytest.raises(crypto.MasterKeyMissing, match="INTERPERSONAL_RECORDINGS_KEY_FILE"):
        actions.start_upload(course=dit_course, session=attended_session, phase="ipaf", content_type="audio/mpeg",
                             size=10, by=therapist)


def test_master_key_read_from_a_key_file(settings, tmp_path):
    key_file = tmp_path / "recordings.key"
    key_file.write_text(OTHER_KEY + "\n", encoding="ascii")
    settings.INTERPERSONAL_RECORDINGS_KEY, settings.INTERPERSONAL_RECORDINGS_KEY_FILE = "", str(key_file)

    assert crypto.master_key() == bytes(range(32, 64))


def test_chunks_out_of_order_are_refused(consent, dit_course, therapist, attended_session):
    recording = actions.start_upload(course=dit_course, session=attended_session, phase="ipaf",
                                     content_type="audio/mpeg", size=2 * CHUNK, by=therapist)

    with pytest.raises(actions.Refused, match="out of order: send chunk 0 next") as err:
        actions.receive_chunk(recording=recording, index=1, data=synthetic(CHUNK), by=therapist)
    assert err.value.status == 409


def test_a_chunk_of_the_wrong_size_is_refused(consent, dit_course, therapist, attended_session):
    recording = actions.start_upload(course=dit_course, session=attended_session, phase="ipaf",
                                     content_type="audio/mpeg", size=2 * CHUNK, by=therapist)

    with pytest.raises(actions.Refused, match=f"{CHUNK} were expected"):
        actions.receive_chunk(recording=recording, index=0, data=synthetic(CHUNK - 1), by=therapist)


def test_finish_before_every_chunk_arrived_is_refused(consent, dit_course, therapist, attended_session):
    recording = actions.start_upload(course=dit_course, session=attended_session, phase="ipaf",
                                     content_type="audio/mpeg", size=2 * CHUNK, by=therapist)
    recording = actions.receive_chunk(recording=recording, index=0, data=synthetic(CHUNK), by=therapist)

    with pytest.raises(actions.Refused, match="1 of 2 chunks"):
        actions.finish_upload(recording=recording, sha256="0" * 64, by=therapist)


def test_a_wrong_sha256_fails_the_upload_and_deletes_what_arrived(
        consent, dit_course, therapist, attended_session, recordings_settings, django_capture_on_commit_callbacks):
    data = synthetic(CHUNK + 10)
    recording = actions.start_upload(course=dit_course, session=attended_session, phase="ipaf",
                                     content_type="audio/mpeg", size=len(data), by=therapist)
    actions.receive_chunk(recording=recording, index=0, data=data[:CHUNK], by=therapist)
    recording = actions.receive_chunk(recording=recording, index=1, data=data[CHUNK:], by=therapist)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(actions.Refused, match="did not arrive intact"):
        actions.finish_upload(recording=recording, sha256=hashlib.sha256(data + b"x").hexdigest(), by=therapist)

    recording.refresh_from_db()
    assert recording.state == Recording.State.FAILED
    assert _stored_files(recordings_settings) == []


def test_only_the_therapist_uploads(consent, dit_course, supervisor, unrelated_therapist, attended_session):
    for someone in (supervisor, unrelated_therapist):
        with pytest.raises(PermissionDenied):
            actions.start_upload(course=dit_course, session=attended_session, phase="ipaf", content_type="audio/mpeg",
                                 size=10, by=someone)


# --- Encryption at rest -----------------------------------------------------------------------


def test_stored_chunks_are_not_the_plaintext(consent, upload, recordings_settings):
    data = synthetic(2 * CHUNK + 100, seed=7)
    recording = upload(data)

    stored = [media.read_chunk(recording.storage_prefix, i) for i in range(recording.chunk_count)]

    assert [len(s) for s in stored] == [CHUNK + crypto.OVERHEAD, CHUNK + crypto.OVERHEAD, 100 + crypto.OVERHEAD]
    for index, blob in enumerate(stored):
        plain = data[index * CHUNK:(index + 1) * CHUNK]
        assert plain[:64] not in blob
        assert blob != plain
    assert data[:32] not in base64.b64decode(recording.wrapped_key)


def test_a_wrong_master_key_cannot_decrypt(consent, upload, settings):
    recording = upload(synthetic(CHUNK))
    settings.INTERPERSONAL_RECORDINGS_KEY = OTHER_KEY

    with pytest.raises(crypto.CannotDecrypt):
        actions.data_key(recording)


def test_a_chunk_moved_to_another_index_fails_to_decrypt(consent, upload, settings):
    recording = upload(synthetic(2 * CHUNK))
    key = actions.data_key(recording)
    first = media.read_chunk(recording.storage_prefix, 0)

    with pytest.raises(crypto.CannotDecrypt, match="Chunk 1"):
        crypto.decrypt_chunk(key, recording.storage_prefix, 1, first)


def test_a_wrong_master_key_refuses_to_play(consent, upload, settings, therapist, client_for):
    recording = upload(synthetic(CHUNK))
    settings.INTERPERSONAL_RECORDINGS_KEY = OTHER_KEY

    response = client_for(therapist).get(reverse("fidelity:recording_media", args=[recording.pk]))

    assert response.status_code == 503
    assert b"cannot be decrypted" in response.content


# --- Streaming -------------------------------------------------------------------------------


def test_stream_returns_the_plaintext_with_no_store(consent, upload, therapist, client_for):
    data = synthetic(3 * CHUNK + 17, seed=3)
    recording = upload(data)

    response = client_for(therapist).get(reverse("fidelity:recording_media", args=[recording.pk]))

    assert response.status_code == 200
    assert _streamed(response) == data
    assert response["Content-Type"] == "audio/mpeg"
    assert response["Content-Length"] == str(len(data))
    assert response["Accept-Ranges"] == "bytes"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(("header", "first", "last"), [
    (f"bytes={CHUNK - 10}-{CHUNK + 9}", CHUNK - 10, CHUNK + 9),  # across a chunk boundary
    ("bytes=5-", 5, 3 * CHUNK + 16),
    ("bytes=-20", 3 * CHUNK - 3, 3 * CHUNK + 16),
    (f"bytes={2 * CHUNK}-{10 * CHUNK}", 2 * CHUNK, 3 * CHUNK + 16),  # the end clipped to the file
])
def test_stream_serves_a_byte_range(consent, upload, therapist, client_for, header, first, last):
    data = synthetic(3 * CHUNK + 17, seed=3)
    recording = upload(data)

    response = client_for(therapist).get(reverse("fidelity:recording_media", args=[recording.pk]), HTTP_RANGE=header)

    assert response.status_code == 206
    assert _streamed(response) == data[first:last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(data)}"
    assert response["Content-Length"] == str(last - first + 1)


def test_an_unsatisfiable_range_is_416(consent, upload, therapist, client_for):
    recording = upload(synthetic(100))

    response = client_for(therapist).get(reverse("fidelity:recording_media", args=[recording.pk]),
                                         HTTP_RANGE="bytes=100-")

    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */100"


def test_every_play_is_audited_with_who_and_which(consent, upload, therapist, supervisor, client_for):
    recording = upload(synthetic(CHUNK))
    url = reverse("fidelity:recording_media", args=[recording.pk])

    client_for(therapist).get(url)
    client_for(supervisor).get(url, HTTP_RANGE="bytes=10-20")

    plays = AuditEvent.objects.filter(type="recording.played", target_id=str(recording.pk)).order_by("id")
    assert [(e.actor_id, e.patient_id) for e in plays] == [(therapist.pk, recording.course.patient_id),
                                                            (supervisor.pk, recording.course.patient_id)]
    assert plays[1].data == {"range": "bytes=10-20"}


def test_a_deleted_recording_does_not_play(consent, upload, dit_course, therapist, client_for):
    recording = upload(synthetic(CHUNK))
    actions.withdraw_consent(course=dit_course, withdrawn_on=timezone.localdate(), by=therapist)

    response = client_for(therapist).get(reverse("fidelity:recording_media", args=[recording.pk]))

    assert response.status_code == 404


# --- Who may play: the access matrix ------------------------------------------------------------


@pytest.mark.parametrize(("persona", "allowed"), [
    ("therapist", True),
    ("supervisor", True),
    ("second_rater", False),  # a supervisor, but neither theirs nor assigned
    ("unrelated_therapist", False),
    ("make_user_other_supervisor", False),
    ("records_officer", False),
    ("service_lead", False),
    ("clinic_admin", False),
])
def test_who_may_play_and_see_a_recording(request, consent, upload, client_for, persona, allowed):
    recording = upload(synthetic(CHUNK))
    client = client_for(request.getfixturevalue(persona))

    media_response = client.get(reverse("fidelity:recording_media", args=[recording.pk]))
    page = client.get(reverse("fidelity:recording", args=[recording.pk]))

    assert media_response.status_code == (200 if allowed else 404)
    assert page.status_code == (200 if allowed else 404)
    if not allowed:
        assert not AuditEvent.objects.filter(type="recording.played", actor_id=client.session["_auth_user_id"]).exists()


def test_an_assigned_rater_may_play(consent, upload, supervisor, second_rater, client_for):
    recording = upload(synthetic(CHUNK))
    actions.assign_rater(recording=recording, rater=second_rater, scale_id="example_interpersonal_adherence",
                         by=supervisor)

    response = client_for(second_rater).get(reverse("fidelity:recording_media", args=[recording.pk]))

    assert response.status_code == 200


# --- The browser's endpoints -----------------------------------------------------------------


def test_upload_through_the_endpoints(consent, dit_course, attended_session, therapist, client_for):
    client = client_for(therapist)
    data = synthetic(2 * CHUNK + 3, seed=11)

    started = client.post(reverse("fidelity:upload_start", args=[dit_course.pk]), content_type="application/json",
                          data={"session": attended_session.pk, "phase": "ipaf", "content_type": "audio/webm",
                                "size": len(data)})
    plan = started.json()
    for index in range(plan["chunk_count"]):
        part = client.post(f"{plan['chunk_url']}{index}", content_type="application/octet-stream",
                           data=data[index * plan["chunk_size"]:(index + 1) * plan["chunk_size"]])
        assert part.status_code == 200, part.content
    finished = client.post(plan["finish_url"], content_type="application/json",
                           data=json.dumps({"sha256": hashlib.sha256(data).hexdigest()}))

    assert started.status_code == 201
    assert plan["chunk_count"] == 3
    assert finished.status_code == 200
    assert finished.json()["state"] == "ready"
    assert _streamed(client.get(reverse("fidelity:recording_media", args=[plan["recording"]]))) == data


def test_a_chunk_larger_than_the_chunk_size_is_413(consent, dit_course, attended_session, therapist, client_for):
    client = client_for(therapist)
    plan = client.post(reverse("fidelity:upload_start", args=[dit_course.pk]), content_type="application/json",
                       data={"session": attended_session.pk, "phase": "ipaf", "content_type": "audio/webm",
                             "size": 3 * CHUNK}).json()

    response = client.post(f"{plan['chunk_url']}0", content_type="application/octet-stream", data=synthetic(CHUNK + 1))

    assert response.status_code == 413


def test_start_without_consent_says_so_as_json(dit_course, attended_session, therapist, client_for):
    response = client_for(therapist).post(reverse("fidelity:upload_start", args=[dit_course.pk]),
                                          content_type="application/json",
                                          data={"session": attended_session.pk, "phase": "ipaf",
                                                "content_type": "audio/webm", "size": 10})

    assert response.status_code == 409
    assert "consent" in response.json()["error"]


def test_unrelated_therapist_cannot_send_chunks(consent, dit_course, attended_session, therapist, unrelated_therapist,
                                                client_for):
    recording = actions.start_upload(course=dit_course, session=attended_session, phase="ipaf",
                                     content_type="audio/mpeg", size=10, by=therapist)

    response = client_for(unrelated_therapist).post(reverse("fidelity:upload_chunk", args=[recording.pk, 0]),
                                                    content_type="application/octet-stream", data=b"0123456789")

    recording.refresh_from_db()
    assert response.status_code == 404
    assert recording.chunks_received == 0


def test_consent_pages_record_and_withdraw(dit_course, therapist, client_for):
    client = client_for(therapist)

    given = client.post(reverse("fidelity:give_consent", args=[dit_course.pk]),
                        {"given_on": timezone.localdate().isoformat(), "how": "written"})
    withdrawn = client.post(reverse("fidelity:withdraw_consent", args=[dit_course.pk]),
                            {"withdrawn_on": timezone.localdate().isoformat()})
    page = client.get(reverse("fidelity:course_recordings", args=[dit_course.pk]))

    assert given.status_code == 302
    assert withdrawn.status_code == 302
    assert dit_course.recording_consents.get().withdrawn_on == timezone.localdate()
    assert b"No consent in force" in page.content


def test_course_page_links_to_the_recordings(dit_course, therapist, client_for):
    response = client_for(therapist).get(reverse("courses:detail", args=[dit_course.pk]))

    assert reverse("fidelity:course_recordings", args=[dit_course.pk]).encode() in response.content


def test_recordings_page_denied_to_an_unrelated_therapist(dit_course, unrelated_therapist, records_officer, client_for):
    for someone in (unrelated_therapist, records_officer):
        response = client_for(someone).get(reverse("fidelity:course_recordings", args=[dit_course.pk]))
        assert response.status_code == 404
