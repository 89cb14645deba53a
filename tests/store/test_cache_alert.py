"""The cache keeps the alert facts of monitoring incidents (schema v4), and older caches upgrade."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.domain.incident import AlertInfo, Incident, Source
from console.domain.lifecycle import State
from console.domain.severity import Impact, Severity, Urgency
from console.store import Cache, migrations
from tests.helpers.store import old_cache

NOW = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
ALERT = AlertInfo(
    integration="alertmanager",
    key="fp-1",
    status="firing",
    first_seen=NOW - timedelta(minutes=5),
    last_seen=NOW,
    repeat_count=12,
    labels=(("alertname", "DiskFull"), ("instance", "gw1")),
    generator_url="http://prometheus.example/graph",
    monitor="noc",
    flapping=True,
)


def _incident(n: int, **changes: object) -> Incident:
    fields: dict[str, object] = {
        "id": f"inc-{n}",
        "number": f"INC-{n:06d}",
        "title": f"Incident {n}",
        "service": "core",
        "impact": Impact.HIGH,
        "urgency": Urgency.HIGH,
        "severity": Severity.SEV1,
        "state": State.NEW,
        "opened_at": NOW,
        "updated_at": NOW,
    }
    fields.update(changes)
    return Incident(**fields)  # type: ignore[arg-type]


def test_alert_facts_round_trip(tmp_path: Path) -> None:
    with Cache.open(tmp_path / "cache.db") as cache:
        cache.upsert_incidents([_incident(1, source=Source.MONITORING, alert=ALERT), _incident(2)])
    with Cache.open(tmp_path / "cache.db") as cache:  # the second launch reads them back
        assert cache.incident("inc-1").alert == ALERT  # type: ignore[union-attr]
        assert cache.incident("inc-2").alert is None  # type: ignore[union-attr]


def test_a_version_3_cache_upgrades_and_refetches_its_monitoring_incidents(
    tmp_path: Path,
) -> None:
    path = old_cache(tmp_path / "cache.db", 3)
    columns = (
        "id, number, title, service, impact, urgency, severity, state, opened_at, updated_at, "
        "version, description, source, major, holds"
    )
    with sqlite3.connect(path) as db:
        for n, source, version in ((1, "monitoring", 5), (2, "phone", 3), (3, "monitoring", 4)):
            db.execute(
                f"INSERT INTO incidents ({columns}) VALUES "
                "(?, ?, 't', 'core', 'high', 'high', 1, 'new', ?, ?, ?, '', ?, 0, '[]')",
                (f"inc-{n}", f"INC-{n:06d}", str(NOW), str(NOW), version, source),
            )
        # An operator's edit of inc-3 waits to be sent: its base version must stay.
        db.execute(
            "INSERT INTO outbox (operation, incident_id, payload, base_version, idempotency_key, "
            "created_at, status, attempts) VALUES ('patch', 'inc-3', '{}', 4, 'k', ?, "
            "'pending', 0)",
            (str(NOW),),
        )
        db.execute("INSERT INTO sync_state (backend, cursor) VALUES ('noc+http://x', 812)")
    db.close()
    assert migrations.latest_version() >= 4  # later steps leave this one alone
    for _launch in range(2):
        with Cache.open(path) as cache:
            versions = {i.id: i.version for i in cache.incidents()}
            assert versions == {"inc-1": 1, "inc-2": 3, "inc-3": 4}
            assert cache.cursor("noc+http://x") == 0  # the next sync re-reads the feed
            assert all(i.alert is None for i in cache.incidents())
    # What the re-read brings replaces the lowered version, alert facts included.
    with Cache.open(path) as cache:
        cache.upsert_incidents([_incident(1, source=Source.MONITORING, alert=ALERT, version=5)])
        assert cache.incident("inc-1").alert == ALERT  # type: ignore[union-attr]
