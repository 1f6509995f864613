"""Who may read which part of the supervision log (deny by default; refusals are 404s so that
nobody learns who supervises whom by guessing ids).

- A supervisor logs sessions they give and reads the log of sessions they gave.
- A supervisee's supervision history is read by the supervisee themself and by anyone who
  *currently* supervises them (supervision.reach); a former supervisor, an administrator, the
  service lead and an unrelated clinician are refused.
- Within a history, a case discussed (a patient's course) is shown only when the reader may read
  that course (courses.access.courses_visible_to); others are counted, never named.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.audit import log
from interpersonal.web.supervision.models import SupervisionSession
from interpersonal.web.supervision.reach import is_supervising


def may_log(user: Any) -> bool:
    return has_permission(user, Permission.SUPERVISE)


def require_may_log(user: Any) -> None:
    if not may_log(user):
        raise PermissionDenied("Only a supervisor logs supervision.")


def sessions_given_by(user: Any) -> QuerySet[SupervisionSession]:
    """The sessions ``user`` gave (none without the SUPERVISE permission)."""
    if not may_log(user):
        return SupervisionSession.objects.none()
    return SupervisionSession.objects.filter(supervisor=user)


def get_supervisee_for_user(user: Any, pk: Any) -> Any:
    """The account whose supervision history ``user`` asks for: themself (if they hold a caseload),
    or someone they currently supervise; else 404. The read is audited."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such supervisee") from None
    own = pk == getattr(user, "pk", None) and has_permission(user, Permission.HOLD_CASELOAD)
    if not own and not (has_permission(user, Permission.SUPERVISE) and is_supervising(user, pk)):
        raise Http404("No such supervisee")
    person = get_user_model().objects.filter(pk=pk).first()
    if person is None:
        raise Http404("No such supervisee")
    log.record("supervision.history_viewed", actor=user, target=person, supervisee_id=pk)
    return person
