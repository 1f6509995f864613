"""Logging that never writes a one-time token: questionnaire links (keys to patients' answers)
and staff enrolment links (keys to an account; ADR 0008).

``RedactTokens`` filters Django's log records (django.request logs the path of every 4xx/5xx);
``RedactingGunicornLogger`` does the same for gunicorn's access log (gunicorn.conf.py).
``NoClientErrorTracebacks`` keeps a refused request (403, 404, 400) to its one line."""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

SECRET_PATHS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(/q/)[A-Za-z0-9_-]{16,}"),  # questionnaire links (questionnaires/tokens.py)
    re.compile(r"(/accounts/enrol/)[^/\s?#\"]+", re.IGNORECASE),  # enrolment links: any token, even a wrong one
    re.compile(r"(/diary/feed/)[^/\s?#\"]+", re.IGNORECASE),  # a therapist's calendar feed (courses.diary)
)
"""The one list of paths whose next segment is a secret: every logger here redacts them all."""


def redact(text: str) -> str:
    """``text`` with the token of every secret path replaced by ``[redacted]``."""
    for pattern in SECRET_PATHS:
        text = pattern.sub(r"\1[redacted]", text)
    return text


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(str(record.msg))
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            record.request = None  # the request object carries the path too; handlers don't need it
        return True


class NoClientErrorTracebacks(logging.Filter):
    """django.request logs a 403 (PermissionDenied) or a 404 (Http404) with the exception's
    traceback. A refusal is the service working as designed: one line (status and path) is
    enough, and a traceback per refusal buries the faults that need one. 5xx keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class RedactingGunicornLogger(Logger):
    """gunicorn's access log with tokens redacted from every field."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        # Every string: the request line, path, referrer, and the {VAR}e environ atoms.
        return {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}
