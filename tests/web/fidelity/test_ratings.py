"""The rating workflow: default and sampled assignment, item-by-item rating by the scale's rule,
the blind rule, final ratings and corrections, the reports for the dashboard and accreditation,
retention, erasure and subject access."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.fidelity import actions, reports, retention
from interpersonal.web.fidelity.models import RatingAssignment, RatingCorrection, Recording

from .conftest import CHUNK
from .conftest import media as synthetic

SCALE = "example_interpersonal_adherence"
ITEMS = ("focus", "structure", "affect", "collaboration", "between_sessions")


def _all(value: int) -> dict[str, int]:
    return dict.fromkeys(ITEMS, value)


def test_the_supervisor_is_assigned_by_default(consent, upload, supervisor):
    recording = upload(synthetic(CHUNK))

    assignment = recording.assignments.get()

    assert (assignment.rater, assignment.scale, assignment.phase, assignment.kind) == (
        supervisor, SCALE, "ipaf", RatingAssignment.Kind.SUPERVISOR)
    assert list(reports.awaiting_rating(supervisor)) == [assignment]


def test_a_sampled_recording_gets_a_second_blind_rater(consent, upload, settings, supervisor, second_rater):
    settings.INTERPERSONAL_RECORDINGS_SECOND_RATER_PERCENT = 100

    recording = upload(synthetic(CHUNK), rng=random.Random(1))  # noqa: S311 - a seeded draw for the test

    assert recording.second_rating_sampled
    assert sorted((a.rater.username, a.kind) for a in recording.assignments.all()) == [
        (second_rater.username, "second_blind"), (supervisor.username, "supervisor")]


@pytest.mark.parametrize("share", [0, 20, 50, 100])
def test_sampling_draws_the_configured_share(share):
    rng = random.Random(20261205)  # noqa: S311 - seeded so the test is reproducible; production uses secrets

    drawn = sum(actions.draw_second_rating(share, rng) for _ in range(10_000))

    # Binomial(10 000, p): the standard deviation is at most 50 draws; allow four of them.
    assert abs(drawn - share * 100) <= 200


def test_a_rater_rates_item_by_item_and_the_scale_scores_it(consent, upload, supervisor):
    assignment = upload(synthetic(CHUNK)).assignments.get()

    done = actions.submit_rating(assignment=assignment, ratings={**_all(3), "focus": 2}, by=supervisor)

    # Mean of 2, 3, 3, 3, 3 = 14/5 = 2.8, below the example's pass mark of a mean of 3.0.
    assert (done.total, done.mean, done.passed) == (2.8, 2.8, False)
    assert AuditEvent.objects.filter(type="rating.submitted", target_id=str(done.pk)).exists()


def test_an_incomplete_rating_is_refused(consent, upload, supervisor):
    assignment = upload(synthetic(CHUNK)).assignments.get()

    with pytest.raises(actions.Refused, match="item affect is not rated"):
        actions.submit_rating(assignment=assignment, ratings={**_all(3), "affect": None}, by=supervisor)


def test_only_the_assigned_rater_submits(consent, upload, second_rater, therapist):
    assignment = upload(synthetic(CHUNK)).assignments.get()

    for someone in (second_rater, therapist):
        with pytest.raises(PermissionDenied):
            actions.submit_rating(assignment=assignment, ratings=_all(3), by=someone)


def test_a_submitted_rating_is_final_and_a_correction_keeps_the_old_value(consent, upload, supervisor):
    assignment = actions.submit_rating(assignment=upload(synthetic(CHUNK)).assignments.get(), ratings=_all(2),
                                       by=supervisor)

    with pytest.raises(actions.Refused, match="final"):
        actions.submit_rating(assignment=assignment, ratings=_all(4), by=supervisor)
    with pytest.raises(actions.Refused, match="why"):
        actions.correct_rating(assignment=assignment, ratings=_all(4), reason=" ", expected_version=1, by=supervisor)
    corrected = actions.correct_rating(assignment=assignment, ratings=_all(4), reason="Rated the wrong session",
                                       expected_version=1, by=supervisor)

    correction = RatingCorrection.objects.get(assignment=assignment)
    assert (corrected.mean, corrected.passed, corrected.version) == (4.0, True, 2)
    assert correction.previous["ratings"] == _all(2)
    assert correction.previous["passed"] is False
    assert correction.reason == "Rated the wrong session"


def test_blind_rule_a_rater_sees_the_other_rating_only_when_both_are_in(consent, upload, supervisor, second_rater,
                                                                        therapist, client_for):
    recording = upload(synthetic(CHUNK))
    first = recording.assignments.get()
    second = actions.assign_rater(recording=recording, rater=second_rater, scale_id=SCALE, by=supervisor)
    actions.submit_rating(assignment=first, ratings=_all(4), by=supervisor)

    second_before = client_for(second_rater).get(reverse("fidelity:rate", args=[second.pk]))
    first_before = client_for(supervisor).get(reverse("fidelity:rate", args=[first.pk]))
    therapist_before = client_for(therapist).get(reverse("fidelity:recording", args=[recording.pk]))
    actions.submit_rating(assignment=second, ratings=_all(2), by=second_rater)
    second_after = client_for(second_rater).get(reverse("fidelity:rate", args=[second.pk]))
    therapist_after = client_for(therapist).get(reverse("fidelity:recording", args=[recording.pk]))

    assert second_before.context["others"] == []
    assert first_before.context["others"] == []  # submitted, but the other rater has not
    assert therapist_before.context["ratings"] == []
    assert [a.pk for a in second_after.context["others"]] == [first.pk]
    assert {a.pk for a in therapist_after.context["ratings"]} == {first.pk, second.pk}


def test_rating_through_the_page(consent, upload, supervisor, client_for):
    assignment = upload(synthetic(CHUNK)).assignments.get()
    client = client_for(supervisor)

    form = client.get(reverse("fidelity:rate", args=[assignment.pk]))
    posted = client.post(reverse("fidelity:rate", args=[assignment.pk]),
                         {f"item_{i}": "3" for i in ITEMS} | {"version": "1"})

    assignment.refresh_from_db()
    assert b"kept the agreed interpersonal focus" in form.content  # the example's own item text
    assert b"Very well" in form.content  # an anchor, shown because the licence allows it
    assert posted.status_code == 302
    assert assignment.passed is True


def test_another_raters_assignment_is_404(consent, upload, second_rater, unrelated_therapist, client_for):
    assignment = upload(synthetic(CHUNK)).assignments.get()

    for someone in (second_rater, unrelated_therapist):
        assert client_for(someone).get(reverse("fidelity:rate", args=[assignment.pk])).status_code == 404


def test_manual_assignment_only_by_the_therapists_supervisor(consent, upload, second_rater, unrelated_therapist,
                                                             make_user_other_supervisor, therapist):
    recording = upload(synthetic(CHUNK))

    for someone in (unrelated_therapist, make_user_other_supervisor, therapist):
        with pytest.raises(PermissionDenied):
            actions.assign_rater(recording=recording, rater=second_rater, scale_id=SCALE, by=someone)


def test_the_therapist_cannot_rate_their_own_recording(consent, upload, supervisor, therapist):
    recording = upload(synthetic(CHUNK))

    with pytest.raises(actions.Refused, match="never the course's own therapist"):
        actions.assign_rater(recording=recording, rater=therapist, scale_id=SCALE, by=supervisor)


# --- Reports for the dashboard and accreditation --------------------------------------------


def test_reports_list_ratings_only_once_complete(consent, upload, supervisor, second_rater, dit_course):
    recording = upload(synthetic(CHUNK))
    first = recording.assignments.get()
    second = actions.assign_rater(recording=recording, rater=second_rater, scale_id=SCALE, by=supervisor)
    actions.submit_rating(assignment=first, ratings=_all(2), by=supervisor)

    assert reports.fidelity_below_pass([dit_course]) == {}
    assert reports.rated_recordings([dit_course]) == {}

    actions.submit_rating(assignment=second, ratings=_all(4), by=second_rater)
    below = reports.fidelity_below_pass([dit_course])
    rated = reports.rated_recordings([dit_course])

    assert [(b.recording_id, b.mean, b.pass_mark) for b in below[dit_course.pk]] == [(recording.pk, 2.0, 3.0)]
    assert sorted((r.case_id, r.phase, r.passed) for r in rated[dit_course.pk]) == [
        (dit_course.pk, "ipaf", False), (dit_course.pk, "ipaf", True)]
    assert list(reports.awaiting_rating(supervisor)) == []


# --- Retention --------------------------------------------------------------------------------


def test_retention_deletes_media_after_the_period(consent, upload, settings, recordings_settings,
                                                  django_capture_on_commit_callbacks):
    recording = upload(synthetic(CHUNK))
    later = recording.started_at + dt.timedelta(days=settings.INTERPERSONAL_RECORDINGS_RETENTION_DAYS, seconds=1)

    assert retention.due(later - dt.timedelta(days=1)) == {}
    with django_capture_on_commit_callbacks(execute=True):
        counts = retention.expire_due(later)

    recording.refresh_from_db()
    assert counts == {"retention": 1}
    assert recording.deleted_because == "retention"
    assert [p for p in recordings_settings.rglob("*") if p.is_file()] == []


def test_retention_deletes_a_rated_recording_unless_held_for_accreditation(consent, upload, supervisor):
    held = upload(synthetic(CHUNK, seed=1))
    released = upload(synthetic(CHUNK, seed=2))
    for recording in (held, released):
        actions.submit_rating(assignment=recording.assignments.get(), ratings=_all(3), by=supervisor)
    actions.hold_for_accreditation(recording=held, held=True, by=supervisor)
    after_grace = timezone.now() + dt.timedelta(days=15)

    assert retention.due(timezone.now()) == {}  # the 14 days after the last rating have not passed
    assert retention.due(after_grace) == {released.pk: "rated"}


def test_an_abandoned_upload_is_deleted(consent, dit_course, therapist, attended_session):
    recording = actions.start_upload(course=dit_course, session=attended_session, phase="ipaf",
                                     content_type="audio/mpeg", size=10, by=therapist)

    assert retention.expire_due(timezone.now() + dt.timedelta(hours=25)) == {"abandoned": 1}
    recording.refresh_from_db()
    assert recording.state == Recording.State.DELETED


def test_sweep_deletes_chunks_no_recording_owns(consent, upload, recordings_settings):
    kept = upload(synthetic(CHUNK))
    stray = recordings_settings / "0123456789abcdef0123456789abcdef"
    stray.mkdir(parents=True)
    (stray / "000000").write_bytes(b"left over")

    assert retention.sweep_orphans() == 1
    assert not (stray / "000000").exists()
    assert (recordings_settings / kept.storage_prefix / "000000").exists()


# --- Erasure and subject access ---------------------------------------------------------------


def test_erasure_deletes_the_rows_and_the_files(consent, upload, supervisor, dit_course, records_officer,
                                                recordings_settings, django_capture_on_commit_callbacks):
    from interpersonal.web.privacy.erasure import erase_patient

    recording = upload(synthetic(2 * CHUNK))
    actions.submit_rating(assignment=recording.assignments.get(), ratings=_all(3), by=supervisor)
    patient_id = dit_course.patient_id
    dit_course.status = "ended"
    dit_course.ended_on = timezone.localdate()
    dit_course.save(update_fields=["status", "ended_on"])

    with django_capture_on_commit_callbacks(execute=True):
        result = erase_patient(patient_id, by=records_officer, reason="erasure_request", reference="IG-2026-15")

    assert result.counts["fidelity.Recording"] == 1
    assert result.counts["fidelity.RatingAssignment"] == 1
    assert result.counts["fidelity.RecordingConsent"] == 1
    assert not Recording.objects.exists()
    assert [p for p in recordings_settings.rglob("*") if p.is_file()] == []


def test_subject_access_lists_recordings_consent_and_ratings(consent, upload, supervisor, dit_course):
    from interpersonal.web.privacy import subject_access

    recording = upload(synthetic(CHUNK))
    actions.submit_rating(assignment=recording.assignments.get(), ratings=_all(4), by=supervisor)

    copy = subject_access.collect(dit_course.patient)
    text = subject_access.to_json(copy).decode()

    assert "fidelity.Recording" in text
    assert "fidelity.RecordingConsent" in text
    assert "fidelity.RatingAssignment" in text
    assert recording.storage_prefix not in text  # technical and key material are withheld
    assert "wrapped_key" not in text.split('"withheld"')[0]


def test_the_schedulers_round_runs_the_recordings_retention(consent, dit_course, therapist, attended_session):
    from io import StringIO

    from django.core.management import call_command

    recording = actions.start_upload(course=dit_course, session=attended_session, phase="ipaf",
                                     content_type="audio/mpeg", size=10, by=therapist)
    Recording.objects.filter(pk=recording.pk).update(started_at=timezone.now() - dt.timedelta(days=2))
    out = StringIO()

    call_command("schedule_questionnaires", stdout=out, stderr=StringIO())

    recording.refresh_from_db()
    assert recording.deleted_because == "abandoned"
    assert "Deleted the media of 1 recording(s) past retention." in out.getvalue()
