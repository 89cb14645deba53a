"""A database made by a schema-1 server is upgraded in place when a newer server opens it.

Step 2 derives the metrics' columns from the stored rows in SQL; they must be
exactly what the writer would have stored (``store_incident``, ``note_entries``),
on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, insert, select, text

from bench._metrics_data import Generated, generate, server_incident_row, server_timeline_row
from console.server.core.db import Database
from console.server.core.settings import sqlite_url
from console.server.core.tables import IncidentRow, TimelineRow

_METRIC_COLUMNS = (
    "opened_s", "ack_s", "fix_s", "response_met", "resolution_met",
    "escalated", "reopened", "csat", "csat_at",
)  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "old.db")
    else:
        yield request.getfixturevalue("pg_url")


def _incidents() -> list[Generated]:
    # Escalations, reassignments, reopens and CSAT scores among them (seeded).
    data = list(generate(600, end=datetime(2026, 11, 30, tzinfo=UTC), days=30, seed=11))
    kinds = {e.kind.value for g in data for e in g.timeline}
    assert {"escalation", "assignment", "state_change", "csat"} <= kinds
    return data


def _make_schema_1(url: str, data: list[Generated]) -> list[dict[str, Any]]:
    """A database as a schema-1 server left it; returns the rows the writer would store."""
    expected = [server_incident_row(g.incident, n, g.timeline) for n, g in enumerate(data, 1)]
    db = Database(url)
    try:
        with db.engine.begin() as conn:
            for name in _METRIC_COLUMNS:
                conn.execute(text(f"ALTER TABLE incidents DROP COLUMN {name}"))
            conn.execute(text("UPDATE server_meta SET value = '1' WHERE key = 'schema_version'"))
            old = [{k: v for k, v in row.items() if k not in _METRIC_COLUMNS} for row in expected]
            schema_1 = Table(
                "incidents",
                MetaData(),
                *(c._copy() for c in IncidentRow.__table__.c if c.key not in _METRIC_COLUMNS),
            )
            conn.execute(insert(schema_1), old)
            conn.execute(
                insert(TimelineRow), [server_timeline_row(e) for g in data for e in g.timeline]
            )
    finally:
        db.dispose()
    return expected


def test_a_schema_1_database_gets_the_metrics_columns_the_writer_would_have_stored(
    url: str,
) -> None:
    data = _incidents()
    expected = _make_schema_1(url, data)
    db = Database(url)  # upgrades
    try:
        with db.read_session() as session:
            version = session.execute(
                text("SELECT value FROM server_meta WHERE key = 'schema_version'")
            ).scalar_one()
            stored = {
                row.id: row
                for row in session.execute(
                    select(IncidentRow.id, *(IncidentRow.__table__.c[n] for n in _METRIC_COLUMNS))
                )
            }
    finally:
        db.dispose()
    assert version == "2"
    assert len(stored) == len(expected)
    for row in expected:
        got = stored[row["id"]]
        assert {n: getattr(got, n) for n in _METRIC_COLUMNS} == {
            n: row[n] for n in _METRIC_COLUMNS
        }, row["number"]
    # Every kind of mark occurs, so the comparison covers each derivation.
    assert {n: sum(1 for r in expected if r[n]) > 0 for n in ("escalated", "reopened", "csat")} == {
        "escalated": True,
        "reopened": True,
        "csat": True,
    }
    # Opening again changes nothing (the stamp says 2).
    Database(url).dispose()
