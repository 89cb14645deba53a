"""Fixtures for the metrics tests: the same generated incidents in a server database and a cache."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from bench._metrics_data import Generated, generate, server_incident_row, server_timeline_row
from console.server.core.db import Database
from console.server.core.tables import IncidentRow, TimelineRow
from console.store import Cache

# The generated incidents span the 120 days before END; "now" for the backlog.
END = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def load_server(url: str, data: list[Generated]) -> None:
    """Bulk-insert the incidents and their timeline into the server database at ``url``."""
    db = Database(url)
    try:
        with db.engine.begin() as conn:
            conn.execute(
                insert(IncidentRow),
                [
                    server_incident_row(g.incident, n, g.timeline)
                    for n, g in enumerate(data, start=1)
                ],
            )
            rows = [server_timeline_row(e) for g in data for e in g.timeline]
            if rows:
                conn.execute(insert(TimelineRow), rows)
    finally:
        db.dispose()


def load_cache(cache: Cache, data: list[Generated]) -> None:
    cache.upsert_incidents(g.incident for g in data)
    cache.upsert_timeline(e for g in data for e in g.timeline)


@pytest.fixture(scope="module")
def generated() -> list[Generated]:
    return list(generate(2500, end=END, days=120, seed=7))


@pytest.fixture
def filled_cache(tmp_path: Path, generated: list[Generated]) -> Iterator[Cache]:
    cache = Cache.open(tmp_path / "cache.sqlite3")
    load_cache(cache, generated)
    yield cache
    cache.close()


# The real-server fixtures (a server process on loopback, a PostgreSQL schema).
