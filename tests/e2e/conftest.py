"""The live server is quiet before the database is emptied.

A browser can leave a request in flight when a test ends: one sent just before its context
closed, or a navigation the test did not wait for. The live server shares the test's database
connection (the in-memory SQLite database has only the one), so such a request, still saving its
session (``SESSION_SAVE_EVERY_REQUEST``), collides with the flush that empties the database after
the test: "database table is locked: django_session" on SQLite, or a request that finds database
access already withdrawn. Every request through the live server is counted here, and each test's
teardown waits until none is in flight and none has started for a short while, before the
database fixture's own teardown runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.live_server import InFlight


@pytest.fixture(scope="session")
def _live_server_counted(live_server) -> InFlight:
    httpd = live_server.thread.httpd
    counted = InFlight(httpd.get_app())
    httpd.set_app(counted)
    return counted


@pytest.fixture(autouse=True)
def _live_server_quiet_at_teardown(request: pytest.FixtureRequest) -> Iterator[None]:
    if "live_server" not in request.fixturenames:
        yield
        return
    # Asked for here, the database fixture is set up before this one and so torn down after it.
    request.getfixturevalue("transactional_db")
    counted: InFlight = request.getfixturevalue("_live_server_counted")
    yield
    counted.wait_quiet()
