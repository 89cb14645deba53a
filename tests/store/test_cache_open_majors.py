"""``Cache.open_major_incidents``: only open majors, without reading the whole queue."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from console.domain.lifecycle import State
from console.domain.severity import Severity
from console.store import Cache
from tests.helpers.factories import NOW
from tests.helpers.factories import desk_incident as make_incident


def test_only_open_major_incidents(tmp_path: Path) -> None:
    with Cache.open(tmp_path / "cache.db") as cache:
        cache.upsert_incidents(
            [
                make_incident(1, Severity.SEV1, major=True),
                make_incident(2, Severity.SEV1),
                make_incident(
                    3,
                    Severity.SEV2,
                    major=True,
                    state=State.RESOLVED,
                    resolved_at=NOW - timedelta(minutes=1),
                ),
            ]
        )
        assert [i.id for i in cache.open_major_incidents()] == ["inc-1"]
