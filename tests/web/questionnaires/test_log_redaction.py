"""No questionnaire-link token is ever written to a log."""

from __future__ import annotations

import logging

from interpersonal.web.logging import RedactingGunicornLogger, RedactTokens
from interpersonal.web.questionnaires.tokens import new_token, redact


def test_redact_removes_tokens_from_paths_and_leaves_other_text():
    token = new_token()
    assert redact(f"Gone: /q/{token}/submit/") == "Gone: /q/[redacted]/submit/"
    assert redact("GET /courses/12/ 200") == "GET /courses/12/ 200"


def test_django_log_records_are_redacted():
    token = new_token()
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Gone: %s", (f"/q/{token}/",), None)

    RedactTokens().filter(record)

    assert token not in record.getMessage()
    assert "/q/[redacted]/" in record.getMessage()


def test_gunicorn_access_log_atoms_are_redacted():
    token = new_token()

    class Cfg:
        access_log_format = '%(h)s "%(r)s" %(s)s'
        errorlog = "-"
        accesslog = None
        loglevel = "info"
        syslog = False
        capture_output = False
        logconfig = None
        logconfig_dict = {}
        logconfig_json = None
        disable_redirect_access_to_syslog = False
        user = 0
        group = 0

    class Req:
        method = "GET"
        path = f"/q/{token}/"
        query = ""
        uri = f"/q/{token}/"
        version = (1, 1)
        headers = []

    class Resp:
        status = "410 Gone"
        sent = 10
        headers = []
        response_length = 10

    environ = {"REMOTE_ADDR": "127.0.0.1", "RAW_URI": f"/q/{token}/", "PATH_INFO": f"/q/{token}/",
               "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1", "REQUEST_METHOD": "GET"}
    import datetime as dt

    atoms = RedactingGunicornLogger(Cfg()).atoms(Resp(), Req(), environ, dt.timedelta(seconds=0.01))

    assert all(token not in str(v) for v in atoms.values())
    assert "/q/[redacted]/" in atoms["r"]
