"""The supervisor's dashboard shows what fidelity holds for each supervisee (issue 15): recordings
awaiting the supervisor's rating, and completely rated recordings below the scale's pass mark,
each linked; an unrelated supervisor's dashboard shows neither."""

from __future__ import annotations

from django.urls import reverse

from interpersonal.web.fidelity import actions

from .conftest import CHUNK
from .conftest import media as synthetic

BELOW = dict.fromkeys(("focus", "structure", "affect", "collaboration", "between_sessions"), 2)
"""Every item 2 of 5 on the example scale: a mean of 2.0, below its pass mark of 3.0."""


def _dashboard(client_for, user) -> str:
    response = client_for(user).get(reverse("supervision:dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def test_a_recording_awaiting_the_supervisors_rating_is_listed_under_the_supervisee(
        consent, upload, supervisor, client_for, dit_course):
    assignment = upload(synthetic(CHUNK)).assignments.get()

    page = _dashboard(client_for, supervisor)

    assert "Recordings awaiting rating" in page
    assert reverse("fidelity:rate", args=[assignment.pk]) in page
    assert dit_course.patient.local_id in page


def test_a_rating_below_the_pass_mark_is_flagged_and_linked(consent, upload, supervisor, client_for):
    recording = upload(synthetic(CHUNK))
    assignment = recording.assignments.get()
    actions.submit_rating(assignment=assignment, ratings=BELOW, by=supervisor)

    page = _dashboard(client_for, supervisor)

    assert "Fidelity below the pass mark" in page
    assert f"Recording {recording.pk} (ipaf): scored 2, pass mark 3" in page
    assert reverse("fidelity:recording", args=[recording.pk]) in page
    assert "Recordings awaiting rating" not in page  # rated: nothing left to rate


def test_an_unrelated_supervisor_sees_neither(consent, upload, supervisor, make_user, client_for):
    recording = upload(synthetic(CHUNK))
    actions.submit_rating(assignment=recording.assignments.get(), ratings=BELOW, by=supervisor)
    other = make_user("other-supervisor", "supervisor")

    page = _dashboard(client_for, other)

    assert reverse("fidelity:recording", args=[recording.pk]) not in page
    assert "Fidelity below the pass mark" not in page
