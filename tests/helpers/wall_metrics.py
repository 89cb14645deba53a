"""Known incidents for the wall's metrics page: a real cache with figures worked out by hand.

``NOW`` is Wednesday 2026-11-18 10:00 UTC, so "this week" starts Monday
2026-11-16 00:00 UTC. SEV-1: two incidents this week, one responded to in
time and resolved in time, one responded to late (response 50 %,
resolution 100 %); SEV-2: one opened last week (not counted this week, still
in the backlog); SEV-3: none; SEV-4: one not acknowledged yet (nothing to
measure). Open backlog: < 1 day 1, 1–3 days 1, 3–7 days 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from console.domain.incident import Incident
from console.domain.lifecycle import State
from console.domain.severity import Severity
from console.store import Cache
from tests.helpers.factories import NOW, desk_incident

MONDAY = NOW - timedelta(days=2, hours=10)


def known_incidents() -> list[Incident]:
    h = timedelta(hours=1)
    m = timedelta(minutes=1)
    tue = MONDAY + timedelta(days=1)
    return [
        desk_incident(
            1,
            Severity.SEV1,
            opened_at=MONDAY + 9 * h,
            acknowledged_at=MONDAY + 9 * h + 5 * m,
            response_due=MONDAY + 9 * h + 15 * m,
            resolved_at=MONDAY + 10 * h,
            resolution_due=MONDAY + 13 * h,
            state=State.RESOLVED,
        ),
        desk_incident(
            2,
            Severity.SEV1,
            opened_at=tue + 9 * h,
            acknowledged_at=tue + 9 * h + 30 * m,
            response_due=tue + 9 * h + 15 * m,
            resolution_due=tue + 13 * h,
        ),
        desk_incident(
            3,
            Severity.SEV2,
            opened_at=NOW - timedelta(days=5),
            acknowledged_at=NOW - timedelta(days=5) + m,
            response_due=NOW - timedelta(days=5) + 30 * m,
        ),
        desk_incident(
            4,
            Severity.SEV4,
            opened_at=NOW - h,
            acknowledged_at=None,
            response_due=NOW + 3 * h,
            state=State.NEW,
        ),
    ]


@pytest.fixture
def known_cache(tmp_path: Path) -> Iterator[Cache]:
    cache = Cache.open(tmp_path / "known.db")
    cache.upsert_incidents(known_incidents())
    yield cache
    cache.close()


@pytest.fixture
def empty_cache(tmp_path: Path) -> Iterator[Cache]:
    cache = Cache.open(tmp_path / "empty.db")
    yield cache
    cache.close()
