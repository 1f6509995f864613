"""A rated, corrected recording of a course, through the actions: for the privacy tests that need
every kind of row (erasure, subject access). Synthetic media; a test master key."""

from __future__ import annotations

import hashlib
import random

from django.test import override_settings

from interpersonal.web.courses.models import ATTENDED
from interpersonal.web.fidelity import actions
from interpersonal.web.fidelity.models import Recording

from .conftest import CHUNK, KEY


def add_rated_recording(course, therapist) -> Recording:
    """Consent, a two-chunk recording of the course's first attended session rated by the
    therapist's supervisor (assigned by default) and then corrected."""
    data = random.Random(course.pk).randbytes(CHUNK + 1)  # noqa: S311 - synthetic test data
    with override_settings(INTERPERSONAL_RECORDINGS_KEY=KEY, INTERPERSONAL_RECORDINGS_CHUNK_BYTES=CHUNK,
                           INTERPERSONAL_RECORDINGS_SECOND_RATER_PERCENT=0):
        actions.record_consent(course=course, given_on=course.started_on, how="written", by=therapist)
        session = course.sessions.filter(attendance__in=ATTENDED).order_by("scheduled_at").first()
        recording = actions.start_upload(course=course, session=session, phase="ipaf", content_type="audio/mpeg",
                                         size=len(data), by=therapist)
        for index in range(recording.chunk_count):
            recording = actions.receive_chunk(recording=recording, index=index,
                                              data=data[index * CHUNK:(index + 1) * CHUNK], by=therapist)
        recording = actions.finish_upload(recording=recording, sha256=hashlib.sha256(data).hexdigest(), by=therapist)
        assignment = recording.assignments.get()
        items = dict.fromkeys(("focus", "structure", "affect", "collaboration", "between_sessions"), 3)
        actions.submit_rating(assignment=assignment, ratings=items, by=assignment.rater)
        actions.correct_rating(assignment=assignment, ratings=items | {"focus": 4}, reason="Re-listened",
                               expected_version=1, by=assignment.rater)
    return recording
