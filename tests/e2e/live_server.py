"""Counting the requests the live server is handling, so that a test's teardown can wait until
none is in flight (see conftest.py for why)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

QUIET_SECONDS = 0.3  # no request in flight and none started for this long: the server is quiet
WAIT_SECONDS = 30.0  # a request still running after this long is a fault of its own: say which


class InFlight:
    """A WSGI wrapper that counts the requests being handled, until their response is closed
    (Django fires ``request_finished``, which touches the connections, at the close)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.paths: Counter[str] = Counter()
        self.last_change = time.monotonic()

    def _start(self, path: str) -> None:
        with self.lock:
            self.paths[path] += 1
            self.last_change = time.monotonic()

    def _finish(self, path: str) -> None:
        with self.lock:
            self.paths[path] -= 1
            if self.paths[path] <= 0:
                del self.paths[path]
            self.last_change = time.monotonic()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = f"{environ.get('REQUEST_METHOD', '?')} {environ.get('PATH_INFO', '?')}"
        self._start(path)
        try:
            result = self.app(environ, start_response)
        except BaseException:
            self._finish(path)
            raise
        return Body(result, lambda: self._finish(path))

    def in_flight(self) -> tuple[list[str], float]:
        with self.lock:
            return sorted(self.paths.elements()), time.monotonic() - self.last_change

    def wait_quiet(self) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            paths, since = self.in_flight()
            if not paths and since >= QUIET_SECONDS:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"the live server still had requests in flight after {WAIT_SECONDS:.0f} s: {paths}")
            time.sleep(0.05)


class Body:
    def __init__(self, result: Iterable[bytes], finished: Callable[[], None]) -> None:
        self.result = result
        self.finished = finished

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.result)

    def close(self) -> None:
        try:
            close = getattr(self.result, "close", None)
            if close is not None:
                close()
        finally:
            self.finished()
