"""Fixtures for recordings and ratings: a master key, a storage of the test's own, small chunks,
a course with consent and an attended session, and an upload helper that calls the actions."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import random

import pytest
from django.utils import timezone

from interpersonal.web.fidelity import actions

KEY = base64.b64encode(bytes(range(32))).decode()
"""A synthetic master key (32 bytes, base64): tests only."""
OTHER_KEY = base64.b64encode(bytes(range(32, 64))).decode()
CHUNK = 64 * 1024
"""Small chunks, so that a test file of a few hundred kilobytes spans several."""


def media(size: int, seed: int = 1) -> bytes:
    """Synthetic "audio": seeded random bytes (no real recording is ever used in tests)."""
    return random.Random(seed).randbytes(size)  # noqa: S311 - synthetic test data, not a secret


@pytest.fixture(autouse=True)
def recordings_settings(settings, tmp_path):
    settings.INTERPERSONAL_RECORDINGS_KEY = KEY
    settings.INTERPERSONAL_RECORDINGS_KEY_FILE = ""
    settings.INTERPERSONAL_RECORDINGS_CHUNK_BYTES = CHUNK
    settings.INTERPERSONAL_RECORDINGS_SECOND_RATER_PERCENT = 0
    settings.STORAGES = {**settings.STORAGES, "recordings": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "recordings"), "file_permissions_mode": 0o600,
                    "directory_permissions_mode": 0o700}}}
    return tmp_path / "recordings"


@pytest.fixture
def consent(dit_course, therapist):
    return actions.record_consent(course=dit_course, given_on=timezone.localdate() - dt.timedelta(days=7),
                                  how="written", by=therapist)


@pytest.fixture
def upload(dit_course, therapist, attended_session):
    """``upload(data, phase="ipaf", ...)``: a recording uploaded chunk by chunk through the actions."""

    def run(data: bytes, *, phase: str = "ipaf", content_type: str = "audio/mpeg", course=None, session=None,
            by=None, rng=None):
        recording = actions.start_upload(course=course or dit_course, session=session or attended_session,
                                         phase=phase, content_type=content_type, size=len(data), by=by or therapist)
        for index in range(recording.chunk_count):
            recording = actions.receive_chunk(recording=recording, index=index,
                                              data=data[index * recording.chunk_size:(index + 1) * recording.chunk_size],
                                              by=by or therapist)
        return actions.finish_upload(recording=recording, sha256=hashlib.sha256(data).hexdigest(), by=by or therapist,
                                     rng=rng)

    return run


@pytest.fixture
def second_rater(make_user):
    """Another supervisor, who may be given a recording to rate blind."""
    return make_user("rhea.rater", "supervisor", first_name="Rhea", last_name="Rater")
