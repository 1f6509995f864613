"""``{% load roles %}`` … ``{% if user|can:"caseload.hold" %}``: navigation by permission."""

from __future__ import annotations

from typing import Any

from django import template

from interpersonal.web.accounts.roles import Permission, has_permission

register = template.Library()


@register.filter
def can(user: Any, permission: str) -> bool:
    return has_permission(user, Permission(permission))
