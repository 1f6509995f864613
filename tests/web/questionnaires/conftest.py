"""A questionnaire link for ``therapist``'s DIT course, and helpers that answer it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from interpersonal.web.questionnaires.actions import issue_link


@pytest.fixture
def sent(dit_course, therapist):
    """(link, token) for PHQ-9 + GAD-7 + WSAS: 10 + 8 + 5 = 23 questions."""
    return issue_link(course=dit_course, instruments=["phq9", "gad7", "wsas"], by=therapist)


@pytest.fixture
def patient_client() -> Client:
    """A browser with no session: the patient is never signed in."""
    return Client(REMOTE_ADDR="203.0.113.7")


def question_url(token: str, instrument: str, item: str) -> str:
    return reverse("questionnaires:question", args=[token, instrument, item])
