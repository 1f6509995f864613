"""Who may see and do what with recordings and ratings. Deny by default; someone who may not see
a recording gets a 404, as if it did not exist.

* The course's therapist: records consent, uploads, plays their recordings, sees ratings once all
  are in.
* Their supervisors (:func:`supervises`): play, assign raters, hold for accreditation, see
  ratings once all are in.
* A rater assigned to the recording: plays it while it is ready, rates it; sees another rater's
  rating only when both are submitted (the blind rule, :func:`ratings_visible_to`).

Everyone else (an unrelated therapist, a service lead, the records officer, an administrator)
gets 404: the records officer reaches recordings through subject access and erasure only.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.audit import log
from interpersonal.web.courses.models import Course
from interpersonal.web.fidelity.models import RatingAssignment, Recording
from interpersonal.web.supervision import reach


def supervises(user: Any, therapist: Any) -> bool:
    """Whether ``user`` currently supervises ``therapist`` (supervision.reach: the one definition)."""
    if therapist is None or user is None or not has_permission(user, Permission.SUPERVISE):
        return False
    return reach.is_supervising(user, therapist.pk)


def supervised_by(user: Any, path: str = "therapist") -> Q:
    """The queryset form of :func:`supervises`: rows whose ``path`` (a user) ``user`` supervises."""
    if not has_permission(user, Permission.SUPERVISE):
        return Q(pk__in=[])
    return reach.supervises(user, path)


def supervisors_of(therapist: Any) -> list[Any]:
    """The therapist's current supervisors who may rate (the default first rater first: the
    individual supervisor, then the others by name)."""
    first = reach.individual_supervisor(therapist)
    others = [u for u in reach.supervisors_of(therapist.pk).order_by("last_name", "first_name", "pk")
              if first is None or u.pk != first.pk]
    return [u for u in ([first] if first is not None else []) + others if has_permission(u, Permission.SUPERVISE)]


def may_rate(user: Any) -> bool:
    """Raters are clinicians who supervise (they hold the adherence scales' training)."""
    return has_permission(user, Permission.SUPERVISE)


# --- Courses --------------------------------------------------------------------------------


def get_course_for_recordings(user: Any, pk: Any, *, write: bool = False) -> Course:
    """The course whose recordings ``user`` may see (its therapist, their supervisors); 404
    otherwise; 403 for a supervisor asking to write (consent and uploads are the therapist's)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such course") from None
    rule = Q(pk__in=[])
    if has_permission(user, Permission.HOLD_CASELOAD):
        rule |= Q(therapist=user)
    rule |= supervised_by(user)
    course = Course.objects.filter(rule, pk=pk).select_related("patient", "therapist").first()
    if course is None:
        raise Http404("No such course")
    if write and course.therapist_id != user.pk:
        raise PermissionDenied("Only the course's therapist records consent and uploads recordings.")
    log.record("recordings.listed", actor=user, target=course, patient_id=course.patient_id)
    return course


# --- Recordings -----------------------------------------------------------------------------


def recordings_visible_to(user: Any) -> QuerySet[Recording]:
    rule = Q(pk__in=[])
    if has_permission(user, Permission.HOLD_CASELOAD):
        rule |= Q(course__therapist=user)
    rule |= supervised_by(user, "course__therapist")
    if may_rate(user):
        rule |= Q(pk__in=RatingAssignment.objects.filter(rater=user).values("recording_id"))
    return Recording.objects.filter(rule)


def get_recording_for_user(user: Any, pk: Any, *, audited: bool = True) -> Recording:
    """The recording (any state), read by ``user``: audited as ``recording.viewed``; 404 if not visible."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such recording") from None
    recording = (recordings_visible_to(user).select_related("course__patient", "course__therapist", "session", "consent")
                 .filter(pk=pk).first())
    if recording is None:
        raise Http404("No such recording")
    if audited:
        log.record("recording.viewed", actor=user, target=recording, patient_id=recording.course.patient_id)
    return recording


def may_manage(user: Any, recording: Recording) -> bool:
    """Assign raters and hold for accreditation: the therapist's supervisors."""
    return supervises(user, recording.course.therapist)


def may_upload(user: Any, recording: Recording) -> bool:
    return recording.course.therapist_id == user.pk and has_permission(user, Permission.HOLD_CASELOAD)


# --- Ratings --------------------------------------------------------------------------------


def get_assignment_for_rater(user: Any, pk: Any) -> RatingAssignment:
    """An assignment of ``user``'s own (a rater rates only what they were given); 404 otherwise."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such rating") from None
    assignment = (RatingAssignment.objects.select_related("recording__course__patient", "recording__course__therapist")
                  .filter(pk=pk, rater=user).first())
    if assignment is None or not may_rate(user):
        raise Http404("No such rating")
    log.record("rating.viewed", actor=user, target=assignment, patient_id=assignment.recording.course.patient_id)
    return assignment


def ratings_visible_to(user: Any, recording: Recording) -> list[RatingAssignment]:
    """The ratings of ``recording`` that ``user`` may read. The blind rule: a rater sees their own
    rating always, and any other rating only once every rating of the recording is submitted;
    the therapist and supervisors see them once every rating is submitted."""
    assignments = list(recording.assignments.select_related("rater").order_by("assigned_at", "pk"))
    all_in = bool(assignments) and all(a.is_submitted for a in assignments)
    return [a for a in assignments if a.rater_id == user.pk or all_in]
