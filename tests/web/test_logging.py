"""What the service writes to its log for a refused request (issue #12)."""

from __future__ import annotations

import io
import logging

import pytest
from django.test import Client
from django.urls import reverse


@pytest.fixture
def console():
    """The configured console handler's output (settings.LOGGING), captured."""
    handler = logging.getLogger("django").handlers[0]
    stream = io.StringIO()
    old = handler.setStream(stream)
    yield stream
    handler.setStream(old)


def test_a_403_is_logged_as_one_line_without_a_traceback(console, service_lead, dit_course):
    client = Client()
    client.force_login(service_lead)
    console.seek(0)  # drop the sign-in's own lines
    console.truncate()

    response = client.get(reverse("courses:detail", args=[dit_course.pk]))

    assert response.status_code == 403
    assert console.getvalue().splitlines() == [f"Forbidden (Permission denied): /courses/{dit_course.pk}/"]


def test_a_404_is_logged_as_one_line_without_a_traceback(console, unrelated_therapist, dit_course):
    client = Client()
    client.force_login(unrelated_therapist)
    console.seek(0)
    console.truncate()

    response = client.get(reverse("courses:detail", args=[dit_course.pk]))

    assert response.status_code == 404
    assert console.getvalue().splitlines() == [f"Not Found: /courses/{dit_course.pk}/"]


def test_a_500_keeps_its_traceback():
    from interpersonal.web.logging import NoClientErrorTracebacks

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error: /x/", (),
                                   sys.exc_info())
    record.status_code = 500
    assert NoClientErrorTracebacks().filter(record) is True
    assert record.exc_info is not None
