"""Crisis numbers as tap-to-call links on the patient's pages.

The crisis message is a service's text (INTERPERSONAL_CRISIS_MESSAGE); the phone numbers in it
become ``tel:`` links, so a patient on a phone reaches help in one tap: 999, NHS 111 (option 2,
mental health), Samaritans 116 123 (the defaults' sources are cited beside the setting in
settings.py), and any UK number a service writes (0… with 10 or 11 digits). Each link's
accessible name says what it does and contains the number as written ("Call 116 123"): the
visible text is part of the name (WCAG 2.2 2.5.3 Label in Name, checked by axe-core), so a
voice-control user can say what they see.
"""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

PHONE = re.compile(r"(?<![\d\w])(999|111|116 ?123|0\d(?:[ -]?\d){8,9})(?![\d\w])")
"""A UK number as people write it: 999, 111, 116 123, or 0 and 9-10 more digits with spaces."""


def _link(match: re.Match[str]) -> str:
    written = match.group(1)
    digits = re.sub(r"\D", "", written)
    return format_html('<a class="tel-link" href="tel:{}" aria-label="Call {}">{}</a>', digits, written, written)


@register.filter
def tel_links(message: str) -> SafeString:
    """``message`` escaped, with each phone number in it a ``tel:`` link."""
    return mark_safe(PHONE.sub(_link, str(escape(message))))  # noqa: S308 - escaped, links built by format_html
