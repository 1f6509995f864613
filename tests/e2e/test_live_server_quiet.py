"""The e2e teardown waits for the live server's requests in flight (tests/e2e/conftest.py): a
request is counted from the call until its response is closed, and the wait returns only once none
is in flight and none has started for QUIET_SECONDS. No browser here: a WSGI app held on an event."""

from __future__ import annotations

import threading
import time

import pytest

from tests.e2e import live_server
from tests.e2e.live_server import InFlight


def _held_app(release: threading.Event, entered: threading.Event):
    def app(environ, start_response):
        entered.set()
        release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    return app


def _serve(counted: InFlight, path: str) -> threading.Thread:
    def run():
        body = counted({"REQUEST_METHOD": "GET", "PATH_INFO": path}, lambda status, headers: None)
        list(body)
        body.close()  # as the WSGI server does once the response is sent
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_wait_lasts_until_the_request_in_flight_is_closed():
    release, entered = threading.Event(), threading.Event()
    counted = InFlight(_held_app(release, entered))
    thread = _serve(counted, "/slow/")
    assert entered.wait(5)
    assert counted.in_flight()[0] == ["GET /slow/"]

    waited = threading.Event()
    waiter = threading.Thread(target=lambda: (counted.wait_quiet(), waited.set()))
    waiter.start()
    time.sleep(live_server.QUIET_SECONDS * 2)
    assert not waited.is_set()  # the request is still being handled: the database must not be emptied yet

    release.set()
    thread.join(5)
    assert counted.in_flight()[0] == []
    waiter.join(5)
    assert waited.is_set()


def test_a_response_is_counted_until_closed_not_until_returned():
    counted = InFlight(lambda environ, start_response: (start_response("200 OK", []), [b"x"])[1])
    body = counted({"REQUEST_METHOD": "POST", "PATH_INFO": "/a/"}, lambda status, headers: None)
    assert counted.in_flight()[0] == ["POST /a/"]  # Django's request_finished fires at the close
    body.close()
    assert counted.in_flight()[0] == []


def test_an_app_that_raises_is_not_left_counted():
    def app(environ, start_response):
        raise RuntimeError("boom")
    counted = InFlight(app)
    with pytest.raises(RuntimeError):
        counted({"REQUEST_METHOD": "GET", "PATH_INFO": "/x/"}, lambda status, headers: None)
    assert counted.in_flight()[0] == []


def test_a_request_that_never_ends_fails_the_wait_and_names_itself(monkeypatch):
    monkeypatch.setattr(live_server, "WAIT_SECONDS", 0.2)
    release, entered = threading.Event(), threading.Event()
    counted = InFlight(_held_app(release, entered))
    thread = _serve(counted, "/stuck/")
    assert entered.wait(5)
    try:
        with pytest.raises(pytest.fail.Exception, match="GET /stuck/"):
            counted.wait_quiet()
    finally:
        release.set()
        thread.join(5)
