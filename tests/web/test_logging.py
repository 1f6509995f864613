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


def test_a_refused_enrolment_link_is_logged_without_its_token(console, db):
    token = "EnrolTokenThatMustNeverReachALog0123456789A"
    console.seek(0)
    console.truncate()

    response = Client().get(f"/accounts/enrol/{token}/")

    assert response.status_code == 404
    assert console.getvalue().splitlines() == ["Not Found: /accounts/enrol/[redacted]/"]


@pytest.mark.parametrize("path", ["/accounts/enrol/{t}/", "/ACCOUNTS/ENROL/{t}/?next=/", "/q/{t}/submit/"])
def test_every_secret_path_is_redacted_in_django_and_gunicorn_logs(path):
    import datetime as dt

    from interpersonal.web.logging import RedactingGunicornLogger, RedactTokens

    token = "SecretToken_0123456789-abcdefghijklmnopqrstu"
    url = path.format(t=token)
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found: %s", (url,), None)

    class Cfg:
        access_log_format = '%(h)s "%(r)s" %(s)s %(U)s'
        errorlog, accesslog, loglevel, syslog, capture_output = "-", None, "info", False, False
        logconfig, logconfig_dict, logconfig_json, disable_redirect_access_to_syslog = None, {}, None, False
        user = group = 0

    class Req:
        method, query, version, headers = "GET", "", (1, 1), []
        path = uri = url

    class Resp:
        status, sent, headers, response_length = "404 Not Found", 10, [], 10

    environ = {"REMOTE_ADDR": "127.0.0.1", "RAW_URI": url, "PATH_INFO": url, "QUERY_STRING": "",
               "SERVER_PROTOCOL": "HTTP/1.1", "REQUEST_METHOD": "GET"}
    RedactTokens().filter(record)
    atoms = RedactingGunicornLogger(Cfg()).atoms(Resp(), Req(), environ, dt.timedelta(seconds=0.01))

    assert token not in record.getMessage()
    assert "[redacted]" in record.getMessage()
    assert all(token not in str(value) for value in atoms.values())
    assert "[redacted]" in atoms["r"]
