"""Panels of the referral page (``/referrals/<pk>/``) that other parts of the pathway add:
screening and suitability, triage, the waiting list.

A panel is a template and a function that gives its context; the page renders each, in order,
in its ``{% block screening %}`` (templates/referrals/detail.html), after the referral's received
details and before its history. Add one from the owning module (at import of its app's
``ready()`` or module level)::

    from interpersonal.web.referrals import panels

    panels.register(panels.Panel("screening", "referrals/screening/_panel.html", screening_context))

``context(request, referral)`` reads through the owning app's access functions (audited) and
returns a dict, or None to show nothing. The referral given has already been read by the user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    context: Callable[[HttpRequest, Any], dict[str, Any] | None]


PANELS: list[Panel] = []


def register(panel: Panel) -> None:
    """Add ``panel`` (once: registering a name again replaces it, so a reload does not repeat it)."""
    PANELS[:] = [p for p in PANELS if p.name != panel.name] + [panel]


def render_all(request: HttpRequest, referral: Any) -> list[SafeString]:
    out = []
    for panel in PANELS:
        context = panel.context(request, referral)
        if context is not None:
            out.append(render_to_string(panel.template, {"referral": referral, **context}, request=request))
    return out
