"""The one definition of "``user`` currently supervises this therapist" (issue 15).

Every access rule that lets a supervisor read a supervisee's cases (courses, patients, referrals,
screening, risk alerts, the supervisee grouping of the caseload) reads it from here, never from a
column of the user: a relationship gives reach from its ``started`` day until the day before its
``ended`` day, once confirmed (ADR 0008). "Today" is the service's local date.

The query form is an ``Exists`` over :class:`SupervisionRelationship` correlated on the row's
therapist column: on PostgreSQL it is planned as a semi-join that the ``supervision_reach`` index
(supervisor, supervisee, started) answers, so a caseload of 100,000 patients pays one index probe per
candidate row and no join fan-out (docs/performance.md, "Supervision reach").
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from interpersonal.web.supervision.models import SupervisionRelationship


def today() -> dt.date:
    return timezone.localdate()


def current(on: dt.date | None = None) -> Q:
    """Relationships in force on ``on`` (today): confirmed, started, not yet ended."""
    day = on or today()
    return (Q(confirmed_at__isnull=False) & Q(started__lte=day)
            & (Q(ended__isnull=True) | Q(ended__gt=day)))


def current_relationships(on: dt.date | None = None) -> QuerySet[SupervisionRelationship]:
    return SupervisionRelationship.objects.filter(current(on))


def supervises(user: Any, therapist_field: str = "therapist") -> Q:
    """A filter for rows whose ``therapist_field`` (a user foreign key, as a lookup path of the
    queried model) is currently supervised by ``user``."""
    if user is None or getattr(user, "pk", None) is None:
        return Q(pk__in=[])
    return Q(Exists(current_relationships().filter(supervisor_id=user.pk,
                                                   supervisee_id=OuterRef(therapist_field))))


def is_supervising(user: Any, therapist_id: int | None) -> bool:
    """Whether ``user`` currently supervises the account ``therapist_id`` (one query)."""
    if therapist_id is None or user is None or getattr(user, "pk", None) is None or user.pk == therapist_id:
        return False
    return current_relationships().filter(supervisor_id=user.pk, supervisee_id=therapist_id).exists()


def supervisors_of(user_id: int, on: dt.date | None = None) -> QuerySet[Any]:
    """The accounts currently supervising ``user_id`` (any kind), one row each."""
    from django.contrib.auth import get_user_model

    ids = current_relationships(on).filter(supervisee_id=user_id).values("supervisor_id")
    return get_user_model().objects.filter(pk__in=ids)


def supervisee_ids(user: Any, on: dt.date | None = None) -> QuerySet[Any]:
    """The ids of the accounts ``user`` currently supervises (a subquery)."""
    return current_relationships(on).filter(supervisor_id=user.pk).values("supervisee_id")


def individual_supervisor(user: Any) -> Any:
    """The account's current individual supervisor — the latest started if there are several —
    or None: what the staff form's "Individual supervisor" shows and sets."""
    from django.contrib.auth import get_user_model

    row = (current_relationships().filter(supervisee_id=user.pk, kind=SupervisionRelationship.Kind.INDIVIDUAL)
           .order_by("-started", "-pk").values_list("supervisor_id", flat=True).first())
    return None if row is None else get_user_model().objects.filter(pk=row).first()
