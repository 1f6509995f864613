"""A supervisor's caseload grouped by supervisee, and filtered to one (issue 14).

Reads only what :mod:`interpersonal.web.courses.access` already lets the supervisor read
(``supervised_caseload_for``, ``supervised_allocated_referrals_for``): the filter narrows, never
widens. Supervisees are the accounts the user currently supervises (supervision.reach, any kind of
relationship) — staff names, no patient data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.safestring import SafeString

from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.courses import caseload
from interpersonal.web.courses.models import Course


@dataclass(frozen=True, slots=True)
class SuperviseeGroup:
    """One supervisee's courses and referrals not in a course, as the caseload shows them."""

    therapist: Any
    rows: list[caseload.CaseloadRow]
    rows_html: SafeString
    allocated: list[caseload.AllocatedRow]

    @property
    def open_alerts(self) -> int:
        return sum(r.open_alerts for r in self.rows)


def supervisees_of(user: Any) -> list[Any]:
    """The accounts ``user`` supervises (none without the SUPERVISE permission), by name."""
    if not has_permission(user, Permission.SUPERVISE):
        return []
    from interpersonal.web.supervision.reach import supervisee_ids

    return list(get_user_model().objects.filter(pk__in=supervisee_ids(user)).exclude(pk=user.pk)
                .order_by("last_name", "first_name", "username"))


def chosen(supervisees: list[Any], value: str | None) -> Any:
    """The supervisee picked by the ``supervisee`` query parameter, or None (all of them); an id
    that is not one of the user's supervisees is ignored, so it reveals nothing."""
    try:
        pk = int(value or "")
    except ValueError:
        return None
    return next((s for s in supervisees if s.pk == pk), None)


def groups(supervisees: list[Any], courses: QuerySet[Course], referrals: QuerySet[Any],
           *, only: Any = None) -> list[SuperviseeGroup]:
    """The supervised courses and referrals, one group per supervisee with any (or only ``only``'s),
    in the supervisees' order; open risk alerts first within each group (caseload.rows' order)."""
    if only is not None:
        courses, referrals = courses.filter(therapist=only), referrals.filter(therapist=only)
    rows = caseload.rows(courses)
    therapist_of: Mapping[int, int] = dict(courses.values_list("pk", "therapist_id"))
    allocated = caseload.allocated_rows(referrals)
    out = []
    for person in supervisees if only is None else [only]:
        mine = [r for r in rows if therapist_of.get(r.course_id) == person.pk]
        theirs = [a for a in allocated if a.referral.therapist_id == person.pk]
        if mine or theirs or only is not None:
            out.append(SuperviseeGroup(person, mine, caseload.rows_html(mine, show_therapist=True), theirs))
    # Anything the supervisor reads that no supervisee holds (a course another clinician runs for a
    # supervisee's patient) is still shown, in a group of its own: risk is never hidden by a grouping.
    grouped = {p.pk for p in supervisees}
    rest = [r for r in rows if therapist_of.get(r.course_id) not in grouped]
    rest_allocated = [a for a in allocated if a.referral.therapist_id not in grouped]
    if rest or rest_allocated:
        out.append(SuperviseeGroup(None, rest, caseload.rows_html(rest, show_therapist=True), rest_allocated))
    return out
