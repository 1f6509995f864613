"""The focus pages a course has, from its protocol's features (never its therapy's name)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from interpersonal.core import protocols

PAGES: dict[str, tuple[str, str]] = {
    "ipaf": ("formulation:ipaf", "Interpersonal affective focus (IPAF)"),
    "timeline": ("formulation:timeline", "Timeline"),
    "inventory": ("formulation:inventory", "Interpersonal inventory"),
    "ipt_formulation": ("formulation:ipt", "Formulation and contract"),
}
"""The page of each feature in interpersonal.core.protocols.FEATURES: URL name, link text
(a test checks that every feature has one)."""


def focus_links(course: Any) -> list[tuple[str, str]]:
    """``(link text, url)`` of each focus page the course's protocol lists, in its order."""
    try:
        features = course.definition.features
    except protocols.UnknownProtocol:
        return []
    return [(PAGES[f][1], reverse(PAGES[f][0], args=[course.pk])) for f in features if f in PAGES]
