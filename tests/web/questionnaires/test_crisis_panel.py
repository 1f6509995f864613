"""Issue 14: on a phone the crisis panel after a risk answer never pushes the question off the
first screen, and its numbers are tap-to-call links with accessible names.

Numbers (settings.py, beside INTERPERSONAL_CRISIS_MESSAGE): NHS 111 option 2 for mental health
(NHS England 2024), 999 or A&E in an emergency, Samaritans 116 123 (samaritans.org)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from interpersonal.web.questionnaires.templatetags.crisis import tel_links

from .conftest import question_url

pytestmark = pytest.mark.django_db


def test_default_crisis_numbers_are_tel_links_named_with_the_visible_number():
    html = tel_links("call NHS 111 and choose option 2, call 999 or go to A&E, or call Samaritans free on 116 123.")
    assert '<a class="tel-link" href="tel:111" aria-label="Call 111">111</a>' in html
    assert '<a class="tel-link" href="tel:999" aria-label="Call 999">999</a>' in html
    assert '<a class="tel-link" href="tel:116123" aria-label="Call 116 123">116 123</a>' in html
    assert "A&amp;E" in html  # the rest escaped
    assert "option 2," in html  # a lone digit is not a number to call


def test_a_services_text_is_escaped_and_not_every_number_is_a_phone_number():
    html = tel_links('<b>Crisis line</b> 01632 960 983; 2024; 1111; 9999')
    assert "&lt;b&gt;Crisis line&lt;/b&gt;" in html
    assert 'href="tel:01632960983"' in html
    assert html.count("<a ") == 1


def test_after_a_risk_answer_the_question_comes_before_the_crisis_panel(sent):
    _, token = sent
    client = Client(REMOTE_ADDR="203.0.113.7")
    saved = client.post(question_url(token, "phq9", "9"), {"go": "next", "answer": "2"})
    page = client.get(saved["Location"]).content.decode()
    main = page[page.index("<main"):page.index("</main>")]

    pointer, question, panel = (main.index('class="crisis-compact"'), main.index("<legend"),
                                main.index('<section class="crisis" id="crisis"'))
    assert pointer < question < panel
    assert 'href="#crisis"' in main[pointer:question]
    for number in ("tel:111", "tel:999", "tel:116123"):
        assert f'href="{number}"' in main[panel:]


def test_no_crisis_pointer_before_any_risk_answer(sent):
    _, token = sent
    page = Client(REMOTE_ADDR="203.0.113.7").get(question_url(token, "phq9", "1")).content.decode()
    assert "crisis-compact" not in page
    assert 'href="tel:116123"' in page  # the footer's help is always a tap away
    assert reverse("questionnaires:review", args=[token]) in page
