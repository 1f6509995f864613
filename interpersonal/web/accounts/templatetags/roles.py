"""``{% load roles %}`` … ``{% if user|can:"caseload.hold" %}``: navigation by permission."""

from __future__ import annotations

from typing import Any

from django import template

from interpersonal.web.accounts.roles import Permission, has_permission

register = template.Library()


@register.filter
def can(user: Any, permission: str) -> bool:
    return has_permission(user, Permission(permission))


@register.simple_tag
def pending_access_requests(user: Any) -> int:
    """How many access requests wait: for a confirmer, those they may decide; for the service lead
    (who is told), all of them; for anyone else, 0."""
    from interpersonal.web.accounts.actions import may_decide
    from interpersonal.web.accounts.models import AccessGrant

    if not getattr(user, "is_authenticated", False):
        return 0
    pending = AccessGrant.objects.filter(status=AccessGrant.Status.PENDING).select_related("user")
    if has_permission(user, Permission.VIEW_SERVICE_AGGREGATES):
        return pending.count()
    if (getattr(user, "is_superuser", False) and user.is_active) or has_permission(
            user, Permission.CONFIRM_ACCESS_GRANTS):
        return sum(may_decide(user, grant) for grant in pending)
    return 0
