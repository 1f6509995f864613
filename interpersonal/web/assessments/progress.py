"""Markup for a measure's change on the course page: the reliable-change verdict of
:func:`interpersonal.web.assessments.charts.change_of` (the core's one definition) in words
and a symbol, never colour alone."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from interpersonal.web.assessments.charts import Change, number

__all__ = ["ONLY_ONE_SCORE", "reliable_change_cell"]

ONLY_ONE_SCORE = mark_safe('<span class="muted">only one score so far</span>')


def reliable_change_cell(change: Change | None) -> SafeString:
    """"▲ Reliable deterioration: 13 points worse (criterion 13)", "▼ Reliable improvement…",
    "No reliable change (criterion 6)", or why there is no verdict."""
    if change is None:
        return mark_safe("")
    if change.criterion is None:
        return mark_safe('<span class="muted">no reliable-change criterion defined</span>')
    if not change.paired:
        return mark_safe('<span class="muted">needs a score from a later session</span>')
    points = number(abs(change.difference))
    criterion = number(change.criterion)
    if change.reliable == "deteriorated":
        return format_html('<strong class="risk-text reliable-deterioration">▲ Reliable deterioration</strong>: '
                           '{} points worse <span class="muted">(criterion {})</span>', points, criterion)
    if change.reliable == "improved":
        return format_html('<strong>▼ Reliable improvement</strong>: {} points better '
                           '<span class="muted">(criterion {})</span>', points, criterion)
    return format_html('No reliable change <span class="muted">(criterion {})</span>', criterion)
