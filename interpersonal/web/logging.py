"""Logging that never writes a questionnaire-link token (they are keys to patients' answers).

``RedactTokens`` filters Django's log records (django.request logs the path of every 4xx/5xx);
``RedactingGunicornLogger`` does the same for gunicorn's access log (gunicorn.conf.py)."""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.glogging import Logger

from interpersonal.web.questionnaires.tokens import redact


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


class RedactingGunicornLogger(Logger):
    """gunicorn's access log with tokens redacted from every field."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        # Every string: the request line, path, referrer, and the {VAR}e environ atoms.
        return {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}
