"""Who sees what on the outcomes dashboard.

The dashboard is aggregates only (``Permission.VIEW_SERVICE_AGGREGATES``): no patient record, so
no read of one to audit. Therapists are shown by pseudonymous id ("T12"), as everywhere aggregates
go, except to the service lead, who manages them and sees their names beside their recovery rates
(issue 13: "the funnel plot names therapists for the lead"). A role given aggregate access later
keeps the pseudonymous ids unless it is added here.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from interpersonal.web.accounts.models import Role
from interpersonal.web.accounts.roles import Permission, has_permission

NAMING_ROLES = frozenset({Role.SERVICE_LEAD.value})


def may_see_therapist_names(user: Any) -> bool:
    return has_permission(user, Permission.VIEW_SERVICE_AGGREGATES) and getattr(user, "role", None) in NAMING_ROLES


def therapist_names(user: Any, therapist_ids: list[str],
                    rows: list[tuple[int, str, str, str]] | None = None) -> dict[str, str]:
    """``{"T12": "Tess Therapist (T12)"}`` for the ids ``user`` may see named; empty otherwise.
    ``rows``: the staff rows already read (dataset.therapist_rows), to spare a query."""
    if not may_see_therapist_names(user):
        return {}
    pks = [int(t[1:]) for t in therapist_ids if t[:1] == "T" and t[1:].isdigit()]
    wanted = set(pks)
    users: Any = ([r for r in rows if r[0] in wanted] if rows is not None else
                  get_user_model().objects.filter(pk__in=pks).values_list("pk", "first_name", "last_name", "username"))
    return {f"T{pk}": f"{(f'{first} {last}'.strip() or username)} (T{pk})" for pk, first, last, username in users}
