"""gunicorn.conf.py, as gunicorn itself reads it."""

from __future__ import annotations

from pathlib import Path

from gunicorn.app.base import Application
from gunicorn.config import Config

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


class _Reader(Application):
    """gunicorn's own loader of a config file, without parsing this process's command line."""

    def __init__(self) -> None:
        self.usage, self.prog, self.callable = None, None, None
        self.load_default_config()

    def load(self) -> None:
        raise AssertionError("this reader only reads the config file; it never serves")


def _settings() -> Config:
    reader = _Reader()
    reader.load_config_from_file(str(CONF))
    return reader.cfg


def test_no_control_socket_shared_between_services_on_one_host():
    config = _settings()

    assert Config().control_socket_disable is False  # gunicorn's default would open ~/.gunicorn/gunicorn.ctl
    assert config.control_socket_disable is True


def test_access_log_redacts_questionnaire_tokens():
    assert _settings().logger_class.__name__ == "RedactingGunicornLogger"
