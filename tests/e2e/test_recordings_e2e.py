"""A session recording uploaded from a real browser: the therapist records the patient's consent,
chooses a file, and upload.js sends it in chunks (under the Content Security Policy, no inline
script), computing its SHA-256 slice by slice; the server encrypts each chunk and checks the digest
at the finish, then the recording page plays it to the therapist."""

from __future__ import annotations

import hashlib
import random
import re

import pytest
from playwright.sync_api import expect

from interpersonal.web.fidelity import actions
from interpersonal.web.fidelity.models import Recording

from .test_formulation_e2e import at, browser, ipt_course, sign_in  # noqa: F401 - the module-scoped browser fixture

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # bytes 0..31 in base64: a test key
CHUNK = 64 * 1024


def test_therapist_records_consent_and_uploads_a_recording_in_chunks(settings, browser, live_server,  # noqa: F811
                                                                     ipt_course, therapist, tmp_path):  # noqa: F811
    settings.INTERPERSONAL_RECORDINGS_KEY = KEY
    settings.INTERPERSONAL_RECORDINGS_CHUNK_BYTES = CHUNK
    settings.STORAGES = {**settings.STORAGES, "recordings": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "rec")}}}
    data = random.Random(15).randbytes(3 * CHUNK + 1234)  # noqa: S311 - synthetic "audio"
    path = f"/fidelity/courses/{ipt_course.pk}/recordings/"
    context, page = sign_in(browser, live_server, therapist.username, path)
    page.wait_for_url(at(live_server, path))

    page.get_by_label("Written (signed form)").check()
    page.get_by_role("button", name="Record consent").click()
    page.wait_for_url(at(live_server, path))
    page.get_by_label("Phase of the course").select_option("initial")
    page.get_by_label(re.compile("^Audio or video file")).set_input_files(
        {"name": "session.webm", "mimeType": "audio/webm", "buffer": data})
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(rf"{re.escape(live_server.url)}/fidelity/recordings/\d+/$"), timeout=20_000)

    recording = Recording.objects.get(course=ipt_course)
    assert recording.state == Recording.State.READY
    assert recording.chunk_count == 4
    assert recording.sha256 == hashlib.sha256(data).hexdigest()  # the browser's digest agreed with the server's
    assert actions.plaintext_sha256(recording) == hashlib.sha256(data).hexdigest()  # what is stored decrypts to it
    expect(page.locator("audio.recording-player")).to_be_visible()
    context.close()
