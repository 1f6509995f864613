"""Who may read or change which course (the same rule as patients.access)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.audit import log
from interpersonal.web.courses.models import Course
from interpersonal.web.supervision.reach import is_supervising, supervises

if TYPE_CHECKING:
    from interpersonal.web.referrals.models import Referral


def courses_visible_to(user: Any, *, write: bool = False) -> QuerySet[Course]:
    rule = Q(pk__in=[])
    if has_permission(user, Permission.HOLD_CASELOAD):
        rule |= Q(therapist=user)
    if not write and has_permission(user, Permission.SUPERVISE):
        rule |= supervises(user)
    return Course.objects.filter(rule)


def needs_a_clinician() -> Q:
    """Active, or (ended, stepped up, whatever its state) with a risk alert still open: an open
    alert stays in front of the clinicians responsible until one of them acknowledges it."""
    from interpersonal.web.assessments.models import RiskAlert

    open_alert = RiskAlert.objects.filter(course=OuterRef("pk"), acknowledged_at__isnull=True)
    return Q(status=Course.Status.ACTIVE) | Q(Exists(open_alert))


def caseload_for(user: Any) -> QuerySet[Course]:
    """The courses ``user`` delivers that are active or have an open risk alert (empty for
    roles without a caseload)."""
    if not has_permission(user, Permission.HOLD_CASELOAD):
        return Course.objects.none()
    return Course.objects.filter(needs_a_clinician(), therapist=user)


def supervised_caseload_for(user: Any) -> QuerySet[Course]:
    """Their supervisees' courses that are active or have an open risk alert (read only)."""
    if not has_permission(user, Permission.SUPERVISE):
        return Course.objects.none()
    return courses_visible_to(user).filter(needs_a_clinician()).exclude(therapist=user)


def _without_active_course() -> Q:
    from interpersonal.web.referrals.models import Referral

    return Q(status__in=Referral.OPEN) & ~Q(Exists(Course.objects.filter(referral=OuterRef("pk"),
                                                                           status=Course.Status.ACTIVE)))


def allocated_referrals_for(user: Any) -> QuerySet[Referral]:
    """Open referrals allocated to ``user`` (Referral.therapist) that are in no active course:
    awaiting screening and triage, waiting, or between steps. Empty without a caseload."""
    from interpersonal.web.referrals.models import Referral

    if not has_permission(user, Permission.HOLD_CASELOAD):
        return Referral.objects.none()
    return Referral.objects.filter(_without_active_course(), therapist=user)


def supervised_allocated_referrals_for(user: Any) -> QuerySet[Referral]:
    """The same for their supervisees (read only)."""
    from interpersonal.web.referrals.models import Referral

    if not has_permission(user, Permission.SUPERVISE):
        return Referral.objects.none()
    return Referral.objects.filter(_without_active_course(), supervises(user)).exclude(therapist=user)


def get_course_for_user(user: Any, pk: Any, *, write: bool = False, audited: bool = True) -> Course:
    """The course, read by ``user`` (audited unless ``audited=False``, for a page that shows
    nothing of the course, such as a letter PDF's progress page); 404 if not visible, 403 if
    read-only for them."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such course") from None
    course = courses_visible_to(user).select_related("patient", "therapist", "referral").filter(pk=pk).first()
    if course is None:
        raise Http404("No such course")
    if write and course.therapist_id != user.pk:
        raise PermissionDenied("Only the course's therapist may change it.")
    if audited:
        log.record("course.viewed", actor=user, target=course, patient_id=course.patient_id)
    return course


def may_acknowledge_alerts(user: Any, course: Course) -> bool:
    """The course's therapist, or a current supervisor of theirs: clinicians responsible for the case."""
    if course.therapist_id == user.pk:
        return has_permission(user, Permission.HOLD_CASELOAD)
    return has_permission(user, Permission.SUPERVISE) and is_supervising(user, course.therapist_id)
