"""Every change to consents, recordings and ratings (CONTRIBUTING.md rule 3): keyword-only, ``by=``
the actor, one transaction, audited. Media files are deleted after the commit (signals.py and
:func:`_delete_media`), so a rolled-back change keeps them.

Errors: :class:`Refused` (the message says what to do; a view shows it as a 400/409),
``PermissionDenied`` (the wrong person), crypto's :class:`MasterKeyMissing` (uploads switched off).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import logging
import random
import secrets
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from interpersonal.core.fidelity import scales
from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.audit import log
from interpersonal.web.courses.models import Course, TherapySession
from interpersonal.web.fidelity import access, crypto, rules
from interpersonal.web.fidelity import storage as media
from interpersonal.web.fidelity.models import (
    REASON_MAX,
    RatingAssignment,
    RatingCorrection,
    Recording,
    RecordingConsent,
)

logger = logging.getLogger(__name__)
SHA256_HEX = frozenset("0123456789abcdef")


class Refused(Exception):
    """The change cannot be made as asked; ``str()`` tells the user why and what to do."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _require_therapist(course: Course, by: Any) -> None:
    if course.therapist_id != by.pk or not has_permission(by, Permission.HOLD_CASELOAD):
        raise PermissionDenied("Only the course's therapist may do this.")


def consent_in_force(course: Course) -> RecordingConsent | None:
    return course.recording_consents.filter(withdrawn_at__isnull=True).first()


# --- Consent --------------------------------------------------------------------------------


@transaction.atomic
def record_consent(*, course: Course, given_on: dt.date, how: str, by: Any) -> RecordingConsent:
    _require_therapist(course, by)
    Course.objects.select_for_update().filter(pk=course.pk).first()
    if how not in RecordingConsent.How.values:
        raise Refused(f"Say how consent was given: one of {', '.join(RecordingConsent.How.labels)}.")
    today = timezone.localdate()
    if given_on > today:
        raise Refused("The date consent was given cannot be in the future.")
    if given_on < course.started_on - dt.timedelta(days=365):
        raise Refused("The date consent was given is more than a year before the course started: check it.")
    if consent_in_force(course) is not None:
        raise Refused("Consent to recording is already recorded for this course.", status=409)
    consent = RecordingConsent.objects.create(course=course, given_on=given_on, how=how, given_by=by)
    log.record("recording_consent.given", actor=by, target=consent, patient_id=course.patient_id,
               course_id=course.pk, how=how)
    return consent


@transaction.atomic
def withdraw_consent(*, course: Course, withdrawn_on: dt.date, by: Any) -> int:
    """Withdraw the consent in force and delete every recording of the course (tombstones kept,
    files deleted after the commit); how many recordings were deleted."""
    _require_therapist(course, by)
    consent = RecordingConsent.objects.select_for_update().filter(course=course, withdrawn_at__isnull=True).first()
    if consent is None:
        raise Refused("There is no consent in force to withdraw.", status=409)
    if withdrawn_on > timezone.localdate() or withdrawn_on < consent.given_on:
        raise Refused("The date of withdrawal must be between the date consent was given and today.")
    consent.withdrawn_on, consent.withdrawn_by, consent.withdrawn_at = withdrawn_on, by, timezone.now()
    consent.save(update_fields=["withdrawn_on", "withdrawn_by", "withdrawn_at"])
    log.record("recording_consent.withdrawn", actor=by, target=consent, patient_id=course.patient_id,
               course_id=course.pk)
    deleted = 0
    for recording in Recording.objects.select_for_update().filter(course=course).exclude(state=Recording.State.DELETED):
        _delete_media(recording, because=Recording.DeletedBecause.CONSENT_WITHDRAWN, by=by)
        deleted += 1
    return deleted


# --- Upload ---------------------------------------------------------------------------------


@transaction.atomic
def start_upload(*, course: Course, session: TherapySession, phase: str, content_type: str, size: int,
                 by: Any) -> Recording:
    """Open an upload: checks consent, the session, the phase key, the type and the size; makes
    the recording's data key and wraps it with the master key (refused without one)."""
    _require_therapist(course, by)
    master = crypto.master_key()  # MasterKeyMissing: uploads switched off, with the fix in the message
    Course.objects.select_for_update().filter(pk=course.pk).first()
    consent = consent_in_force(course)
    if consent is None:
        raise Refused("The patient's consent to recording is not recorded for this course (or was withdrawn): "
                      "record it before uploading.", status=409)
    if session.course_id != course.pk:
        raise Refused("Choose a session of this course.")
    if phase not in rules.phases_for(course):
        allowed = ", ".join(rules.phases_for(course)) or "none: no rating scale fits this therapy"
        raise Refused(f"Choose the phase the session belongs to (one of: {allowed}).")
    if content_type not in rules.content_types():
        raise Refused(f"This kind of file ({content_type or 'unknown'}) cannot be uploaded: "
                      f"audio or video as {', '.join(rules.content_types())}.")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise Refused("The file is empty.")
    if size > rules.max_bytes():
        raise Refused(f"The file is larger than the service allows ({rules.max_bytes() // (1024 * 1024)} MiB).",
                      status=413)
    chunk = rules.chunk_bytes()
    prefix = secrets.token_hex(16)
    data_key = crypto.new_data_key()
    recording = Recording.objects.create(
        course=course, session=session, consent=consent, phase=phase, content_type=content_type, size=size,
        chunk_size=chunk, chunk_count=-(-size // chunk), storage_prefix=prefix,
        wrapped_key=base64.b64encode(crypto.wrap(master, data_key, prefix)).decode("ascii"), key_id=crypto.key_id(master), uploaded_by=by,
    )
    log.record("recording.upload_started", actor=by, target=recording, patient_id=course.patient_id,
               course_id=course.pk, session_id=session.pk, size=size, chunks=recording.chunk_count)
    return recording


def expected_chunk_size(recording: Recording, index: int) -> int:
    if index < recording.chunk_count - 1:
        return recording.chunk_size
    return recording.size - recording.chunk_size * (recording.chunk_count - 1)


def data_key(recording: Recording) -> bytes:
    master = crypto.master_key()
    if crypto.key_id(master) != recording.key_id:
        raise crypto.CannotDecrypt("The recording's key")
    if not recording.wrapped_key:
        raise crypto.CannotDecrypt("The recording's key (deleted with its media)")
    return crypto.unwrap(master, base64.b64decode(recording.wrapped_key), recording.storage_prefix)


@transaction.atomic
def receive_chunk(*, recording: Recording, index: int, data: bytes, by: Any) -> Recording:
    """Encrypt and store chunk ``index``: chunks come in order, each but the last exactly
    ``chunk_size`` bytes, the last the rest. Not audited chunk by chunk: the start and the finish are."""
    locked = Recording.objects.select_for_update().select_related("course").get(pk=recording.pk)
    if not access.may_upload(by, locked):
        raise PermissionDenied("Only the course's therapist uploads its recordings.")
    if locked.state != Recording.State.UPLOADING:
        raise Refused("This upload is closed: start a new one.", status=409)
    if consent_in_force(locked.course) is None or locked.consent.withdrawn_at is not None:
        raise Refused("The patient's consent to recording was withdrawn: the upload is refused.", status=409)
    if index != locked.chunks_received:
        raise Refused(f"Chunk {index} is out of order: send chunk {locked.chunks_received} next.", status=409)
    if index >= locked.chunk_count:
        raise Refused(f"The file has only {locked.chunk_count} chunks.", status=409)
    wanted = expected_chunk_size(locked, index)
    if len(data) != wanted:
        raise Refused(f"Chunk {index} holds {len(data)} bytes; {wanted} were expected.")
    media.save_chunk(locked.storage_prefix, index, crypto.encrypt_chunk(data_key(locked), locked.storage_prefix,
                                                                        index, data))
    locked.chunks_received = index + 1
    locked.save(update_fields=["chunks_received"])
    return locked


def plaintext_sha256(recording: Recording) -> str:
    """Decrypt every stored chunk in turn (one in memory at a time) and hash the plaintext."""
    key, digest = data_key(recording), hashlib.sha256()
    for index in range(recording.chunks_received):
        digest.update(crypto.decrypt_chunk(key, recording.storage_prefix, index,
                                           media.read_chunk(recording.storage_prefix, index)))
    return digest.hexdigest()


def finish_upload(*, recording: Recording, sha256: str, by: Any, rng: random.Random | None = None) -> Recording:
    """Check the chunk count and the SHA-256 of the plaintext, then make the recording ready and
    assign its raters (:func:`assign_default_raters`). A mismatch fails the upload and deletes
    what arrived (the message says to upload again)."""
    if not access.may_upload(by, recording):
        raise PermissionDenied("Only the course's therapist uploads its recordings.")
    declared = str(sha256 or "").strip().lower()
    if len(declared) != 64 or not set(declared) <= SHA256_HEX:
        raise Refused("The file's SHA-256 must be 64 hexadecimal characters.")
    if recording.state != Recording.State.UPLOADING:
        raise Refused("This upload is closed: start a new one.", status=409)
    if recording.chunks_received != recording.chunk_count:
        raise Refused(f"{recording.chunks_received} of {recording.chunk_count} chunks have arrived: send the rest "
                      "before finishing.", status=409)
    actual = plaintext_sha256(recording)  # outside the transaction: reads the whole file
    with transaction.atomic():
        locked = Recording.objects.select_for_update().select_related("course__therapist").get(pk=recording.pk)
        if locked.state != Recording.State.UPLOADING:
            raise Refused("This upload is closed: start a new one.", status=409)
        if actual != declared:
            _delete_media(locked, because=Recording.DeletedBecause.UPLOAD_FAILED, by=by, state=Recording.State.FAILED)
            failed = Refused("The file did not arrive intact (its SHA-256 does not match): nothing was kept. "
                             "Upload it again.", status=422)
        else:
            locked.state, locked.sha256, locked.finished_at = Recording.State.READY, declared, timezone.now()
            locked.save(update_fields=["state", "sha256", "finished_at"])
            log.record("recording.ready", actor=by, target=locked, patient_id=locked.course.patient_id,
                       course_id=locked.course_id)
            assign_default_raters(recording=locked, rng=rng)
            return locked
    raise failed


def draw_second_rating(share_percent: int, rng: random.Random | None = None) -> bool:
    """Whether a recording is sampled for a second, blind rating: true for ``share_percent`` in 100
    draws on average. Drawn with ``secrets`` (the operating system's CSPRNG) unless a seeded
    generator is given (tests)."""
    if share_percent <= 0:
        return False
    if share_percent >= 100:
        return True
    draw = (rng or secrets.SystemRandom()).randrange(100)
    return draw < share_percent


def assign_default_raters(*, recording: Recording, rng: random.Random | None = None) -> list[RatingAssignment]:
    """The therapist's supervisor rates every recording on the default scale; a sampled share
    (INTERPERSONAL_RECORDINGS_SECOND_RATER_PERCENT) is also given, blind, to a second rater drawn
    from the other supervisors. Nothing is assigned when no scale fits the therapy."""
    course = recording.course
    scale = rules.default_scale(course)
    if scale is None or recording.phase not in scale.phases_for(rules.therapy_of(course)):
        return []
    made = []
    first = next(iter(access.supervisors_of(course.therapist)), None)
    if first is not None:
        made.append(_assign(recording, first, scale, RatingAssignment.Kind.SUPERVISOR, by=None))
    if draw_second_rating(rules.second_rater_percent(), rng):
        recording.second_rating_sampled = True
        recording.save(update_fields=["second_rating_sampled"])
        pool = sorted(_rater_pool(exclude={course.therapist_id, *(a.rater_id for a in made)}), key=lambda u: u.pk)
        if pool:
            second = (rng or secrets.SystemRandom()).choice(pool)
            made.append(_assign(recording, second, scale, RatingAssignment.Kind.SECOND_BLIND, by=None))
        log.record("recording.sampled_for_second_rating", actor=None, target=recording,
                   patient_id=course.patient_id, assigned=bool(pool))
    return made


def _rater_pool(exclude: set[int]) -> list[Any]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True).exclude(pk__in=exclude)
    return [u for u in users if access.may_rate(u)]


def _assign(recording: Recording, rater: Any, scale: scales.Scale, kind: str, *, by: Any) -> RatingAssignment:
    assignment = RatingAssignment.objects.create(recording=recording, rater=rater, scale=scale.id,
                                                 phase=recording.phase, kind=kind, assigned_by=by)
    log.record("rating.assigned", actor=by, target=assignment, patient_id=recording.course.patient_id,
               recording_id=recording.pk, rater_id=rater.pk, scale=scale.id, kind=kind)
    return assignment


@transaction.atomic
def assign_rater(*, recording: Recording, rater: Any, scale_id: str, by: Any) -> RatingAssignment:
    """Give the recording to ``rater`` by hand (a supervisor of the therapist assigns)."""
    locked = Recording.objects.select_for_update().select_related("course__therapist").get(pk=recording.pk)
    if not access.may_manage(by, locked):
        raise PermissionDenied("Only the therapist's supervisors assign raters.")
    if locked.state != Recording.State.READY:
        raise Refused("Only a recording that is ready can be rated.", status=409)
    if not access.may_rate(rater) or not rater.is_active or rater.pk == locked.course.therapist_id:
        raise Refused("Choose a rater who supervises (never the course's own therapist).")
    try:
        scale = scales.get(scale_id)
    except scales.UnknownScale:
        raise Refused("Choose a rating scale the service has loaded.") from None
    if locked.phase not in scale.phases_for(rules.therapy_of(locked.course)):
        raise Refused(f"{scale.title} has no phase {locked.phase!r} for this therapy: choose another scale.")
    if locked.assignments.filter(rater=rater).exists():
        raise Refused("That rater is already rating this recording.", status=409)
    return _assign(locked, rater, scale, RatingAssignment.Kind.MANUAL, by=by)


# --- Rating ---------------------------------------------------------------------------------


def _scored(assignment: RatingAssignment, ratings: Mapping[str, Any]) -> scales.ScaleScore:
    try:
        result = scales.get(assignment.scale).score(ratings)
    except scales.UnknownScale:
        raise Refused("The scale of this rating is no longer loaded: ask the system administrator.") from None
    except scales.InvalidRatings as exc:
        raise Refused(str(exc)) from None
    if not result.scorable:
        raise Refused(result.reason or "Rate every item.")
    return result


@transaction.atomic
def submit_rating(*, assignment: RatingAssignment, ratings: Mapping[str, Any], by: Any) -> RatingAssignment:
    """Submit a rating, item by item; final once submitted (a change is :func:`correct_rating`)."""
    locked = RatingAssignment.objects.select_for_update().select_related("recording__course").get(pk=assignment.pk)
    if locked.rater_id != by.pk or not access.may_rate(by):
        raise PermissionDenied("Only the assigned rater submits this rating.")
    if locked.is_submitted:
        raise Refused("This rating was submitted and is final: correct it, giving a reason.", status=409)
    if locked.recording.state != Recording.State.READY:
        raise Refused("The recording is no longer available (deleted), so it cannot be rated.", status=409)
    result = _scored(locked, ratings)
    locked.ratings = dict(result.ratings)
    locked.total, locked.mean, locked.passed = result.total, result.mean, result.passed
    locked.submitted_at = timezone.now()
    locked.save(update_fields=["ratings", "total", "mean", "passed", "submitted_at"])
    log.record("rating.submitted", actor=by, target=locked, patient_id=locked.recording.course.patient_id,
               recording_id=locked.recording_id, scale=locked.scale, passed=result.passed)
    return locked


@transaction.atomic
def correct_rating(*, assignment: RatingAssignment, ratings: Mapping[str, Any], reason: str, expected_version: int,
                   by: Any) -> RatingAssignment:
    """Correct a submitted rating: the reason is required, the earlier ratings are kept."""
    locked = RatingAssignment.objects.select_for_update().select_related("recording__course").get(pk=assignment.pk)
    if locked.rater_id != by.pk or not access.may_rate(by):
        raise PermissionDenied("Only the rater corrects their rating.")
    if not locked.is_submitted:
        raise Refused("This rating has not been submitted: submit it instead.", status=409)
    if locked.version != expected_version:
        raise Refused("The rating was changed after you opened it: check it again.", status=409)
    reason = (reason or "").strip()
    if not reason:
        raise Refused("Say why the rating is corrected.")
    if len(reason) > REASON_MAX:
        raise Refused(f"The reason must be at most {REASON_MAX} characters.")
    result = _scored(locked, ratings)
    now = timezone.now()
    RatingCorrection.objects.create(
        assignment=locked, kind=RatingCorrection.Kind.CORRECTED, reason=reason, version=locked.version, by=by, at=now,
        previous={"ratings": locked.ratings, "total": locked.total, "mean": locked.mean, "passed": locked.passed,
                  "submitted_at": locked.submitted_at.isoformat() if locked.submitted_at else None},
    )
    locked.ratings = dict(result.ratings)
    locked.total, locked.mean, locked.passed = result.total, result.mean, result.passed
    locked.version += 1
    locked.save(update_fields=["ratings", "total", "mean", "passed", "version"])
    log.record("rating.corrected", actor=by, target=locked, patient_id=locked.recording.course.patient_id,
               recording_id=locked.recording_id, version=locked.version)
    return locked


@transaction.atomic
def hold_for_accreditation(*, recording: Recording, held: bool, by: Any) -> Recording:
    """Keep (or stop keeping) a rated recording for accreditation: it is then deleted only when
    its retention period ends, not as soon as its ratings are complete."""
    locked = Recording.objects.select_for_update().select_related("course__therapist").get(pk=recording.pk)
    if not access.may_manage(by, locked):
        raise PermissionDenied("Only the therapist's supervisors decide what is kept for accreditation.")
    locked.held_for_accreditation = held
    locked.save(update_fields=["held_for_accreditation"])
    log.record("recording.held_for_accreditation" if held else "recording.released", actor=by, target=locked,
               patient_id=locked.course.patient_id)
    return locked


# --- Deleting the media ---------------------------------------------------------------------


def _delete_media(recording: Recording, *, because: str, by: Any, state: str = Recording.State.DELETED) -> None:
    """Tombstone the row (inside the caller's transaction) and delete the encrypted chunks after
    the commit. The row keeps its metadata and its ratings; the key is destroyed with the data."""
    prefix, count = recording.storage_prefix, max(recording.chunk_count, recording.chunks_received)
    recording.state, recording.deleted_at, recording.deleted_because = state, timezone.now(), because
    recording.wrapped_key = ""
    recording.save(update_fields=["state", "deleted_at", "deleted_because", "wrapped_key"])
    log.record("recording.media_deleted", actor=by, target=recording, patient_id=recording.course.patient_id,
               because=because)
    transaction.on_commit(functools.partial(delete_files, prefix, count), robust=True)


def delete_files(prefix: str, count: int) -> None:
    try:
        media.delete_all(prefix, count)
    except OSError:
        # The retention sweep (retention.sweep_orphans) tries again; the prefix names no one.
        logger.exception("fidelity: could not delete a recording's encrypted chunks")
