"""Formatting for the waiting-list pages: percentages, weeks and money, one way everywhere."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    """0.875 → "87.5%"; None → "—"."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%"


@register.filter
def weeks(days: int | None) -> str:
    """A wait in days as weeks and days: 45 → "6 weeks 3 days"."""
    if days is None:
        return "—"
    w, d = divmod(int(days), 7)
    parts = ([f"{w} week{'s' if w != 1 else ''}"] if w else []) + ([f"{d} day{'s' if d != 1 else ''}"] if d or not w else [])
    return " ".join(parts)


@register.filter
def money(value: Decimal | None) -> str:
    """£1,234.50; None → "—"."""
    if value is None:
        return "—"
    return f"£{value:,.2f}"


@register.filter
def rate(value: float | None) -> str:
    """Starts a week to one decimal place; None → "—"."""
    if value is None:
        return "—"
    return f"{value:.1f}"


@register.filter
def get(mapping: Any, key: Any) -> Any:
    try:
        return mapping[key]
    except (KeyError, IndexError, TypeError):
        return None


@register.filter
def breached(queue: Any, standard_id: str) -> int:
    """``{{ queue|breached:standard.id }}``: referrals in the queue whose clock has run out."""
    return int(queue.breached(standard_id))


@register.filter
def forecast_breach(queue: Any, standard_id: str) -> int:
    """``{{ queue|forecast_breach:standard.id }}``: not yet breached, but forecast to."""
    return int(queue.forecast_breach(standard_id))


@register.filter
def clock(forecast: Any, standard_id: str) -> Any:
    """``{{ row.forecast|clock:standard.id }}``: one standard's clock of a referral."""
    return forecast.clock(standard_id)
