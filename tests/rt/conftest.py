"""Fixtures for tests against a real Request Tracker 5 (see ``tests/rt/rtserver.py``).

``rt_server`` starts one ``rt-server`` per test session on a free loopback port
over a fresh SQLite copy of the seeded template database; ``rt`` hands each test
that same server through a queue of its own (set up like NOC: same custom
fields, same rights), so tests never see each other's tickets.

Without RT installed the tests skip, naming ``.ci/install-rt``;
``NOC_REQUIRE_RT=1`` (as CI sets) turns the skip into a failure.

Tests elsewhere use these fixtures with
``from tests.rt.conftest import rt, rt_server  # noqa: F401`` in their conftest.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import require_or_skip
from tests.rt.rtserver import RtInstance, RtServer, RtUnavailable, rt_unavailable_reason


def require_rt() -> None:
    """Skip (or, with NOC_REQUIRE_RT=1, fail) the test when RT cannot run here."""
    reason = rt_unavailable_reason()
    require_or_skip(reason is None, reason or "", "NOC_REQUIRE_RT")


@pytest.fixture(scope="session")
def rt_server() -> Iterator[RtInstance]:
    """A running RT seeded with queue NOC, its five custom fields, the console user
    with a dispatcher's rights, and that user's auth token."""
    require_rt()
    server = RtServer()
    try:
        server.start()
    except RtUnavailable as exc:
        require_or_skip(False, str(exc), "NOC_REQUIRE_RT")
    try:
        yield server.instance()
    finally:
        server.stop()


@pytest.fixture
def rt(rt_server: RtInstance) -> Iterator[RtInstance]:
    """The session's RT seen through a fresh queue set up like NOC (its ``queue``).

    Tokens the test revokes (the console's too) work again for the next test.
    """
    yield rt_server.with_queue(rt_server.server.take_spare_queue())
    rt_server.server.restore_tokens()
