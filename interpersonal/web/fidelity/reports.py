"""What other parts of the product read of fidelity: the supervisor's dashboard (recordings
awaiting rating, courses whose fidelity is below the pass mark) and the accreditation evaluator's
evidence (rated recordings per course, with phase and pass). Callers check access first: these
functions filter by what they are given."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from interpersonal.core.fidelity import scales
from interpersonal.web.courses.models import Course
from interpersonal.web.fidelity.models import RatingAssignment, Recording


def awaiting_rating(user: Any) -> QuerySet[RatingAssignment]:
    """``user``'s assignments not yet submitted, on recordings still ready to play, oldest first."""
    return (RatingAssignment.objects.filter(rater=user, submitted_at__isnull=True, recording__state=Recording.State.READY)
            .select_related("recording__course__patient", "recording__session").order_by("assigned_at", "pk"))


@dataclass(frozen=True)
class BelowPass:
    course_id: int
    recording_id: int
    scale: str
    phase: str
    mean: float | None
    total: float | None
    pass_mark: float


def _complete(recording_ids: Iterable[int]) -> set[int]:
    """Recordings every one of whose ratings is submitted (the blind rule: only then are they read)."""
    rows = RatingAssignment.objects.filter(recording_id__in=list(recording_ids)).values_list("recording_id",
                                                                                             "submitted_at")
    pending = {rid for rid, at in rows if at is None}
    return {rid for rid, _ in rows} - pending


def _submitted(courses: Iterable[Course] | QuerySet[Course]) -> list[RatingAssignment]:
    ids = [c.pk if isinstance(c, Course) else int(c) for c in courses]
    rows = list(RatingAssignment.objects.filter(recording__course_id__in=ids, submitted_at__isnull=False)
                .select_related("recording").order_by("recording__course_id", "submitted_at", "pk"))
    done = _complete({a.recording_id for a in rows})
    return [a for a in rows if a.recording_id in done]


def fidelity_below_pass(courses: Iterable[Course] | QuerySet[Course]) -> dict[int, list[BelowPass]]:
    """Per course, its completely rated recordings whose ratings fall below the scale's pass mark
    (a course is absent when none does)."""
    found: dict[int, list[BelowPass]] = {}
    for a in _submitted(courses):
        if a.passed is False:
            try:
                mark = scales.get(a.scale).pass_mark.at_or_above
            except scales.UnknownScale:
                continue
            found.setdefault(a.recording.course_id, []).append(
                BelowPass(a.recording.course_id, a.recording_id, a.scale, a.phase, a.mean, a.total, mark))
    return found


@dataclass(frozen=True)
class RatedRecording:
    """One rating as accreditation evidence: which case (course), which phase, passed or not."""

    case_id: int
    recording_id: int
    session_id: int
    phase: str
    scale: str
    rater_id: int
    passed: bool


def rated_recordings(courses: Iterable[Course] | QuerySet[Course]) -> dict[int, list[RatedRecording]]:
    """Per course (case id), every submitted rating of its completely rated recordings."""
    found: dict[int, list[RatedRecording]] = {}
    for a in _submitted(courses):
        found.setdefault(a.recording.course_id, []).append(RatedRecording(
            case_id=a.recording.course_id, recording_id=a.recording_id, session_id=a.recording.session_id,
            phase=a.phase, scale=a.scale, rater_id=a.rater_id, passed=bool(a.passed)))
    return found
