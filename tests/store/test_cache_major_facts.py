"""#19: a major incident's roles and next update due in the cache (step 6 of the schema)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from console.domain.severity import Severity
from console.store import Cache
from tests.helpers.factories import NOW, desk_incident
from tests.helpers.store import old_cache

ROLES = (("Incident Commander", "Tom Whitfield"), ("Communications Lead", "Lucía Fernández"))
DUE = (("internal", NOW + timedelta(minutes=15)), ("executive", NOW), ("customer", None))


def test_roles_and_due_times_round_trip_in_order(tmp_path: Path) -> None:
    major = replace(desk_incident(1, Severity.SEV1), major=True, roles=ROLES, next_update_due=DUE)
    with Cache.open(tmp_path / "cache.db") as cache:
        cache.upsert_incidents([major, desk_incident(2)])
    with Cache.open(tmp_path / "cache.db") as cache:  # the next launch reads them back
        back = cache.incident("inc-1")
        assert back is not None
        assert back.roles == ROLES
        assert back.next_update_due == DUE
        plain = cache.incident("inc-2")
        assert plain is not None
        assert (plain.roles, plain.next_update_due) == ((), ())
        assert [i.id for i in cache.open_major_incidents()] == ["inc-1"]


def test_a_version_5_cache_upgrades_and_refetches_its_major_incidents(tmp_path: Path) -> None:
    path = old_cache(tmp_path / "cache.db", 5)
    columns = (
        "id, number, title, service, impact, urgency, severity, state, opened_at, updated_at, "
        "version, description, source, major, holds"
    )
    with sqlite3.connect(path) as db:
        for n, major, version in ((1, 1, 5), (2, 0, 3)):
            db.execute(
                f"INSERT INTO incidents ({columns}) VALUES "
                "(?, ?, 't', 'core', 'high', 'high', 1, 'new', ?, ?, ?, '', 'phone', ?, '[]')",
                (f"inc-{n}", f"INC-{n:06d}", str(NOW), str(NOW), version, major),
            )
        db.execute("INSERT INTO sync_state (backend, cursor) VALUES ('noc+http://x', 77)")
    db.close()
    for _launch in range(2):
        with Cache.open(path) as cache:
            versions = {i.id: i.version for i in cache.incidents()}
            assert versions == {"inc-1": 1, "inc-2": 3}  # the major one is fetched again
            assert cache.cursor("noc+http://x") == 0
            assert all(i.next_update_due == () for i in cache.incidents())
    with Cache.open(path) as cache:  # the backend's version, with its facts, then replaces it
        fresh = replace(
            desk_incident(1, Severity.SEV1), major=True, version=6, roles=ROLES, next_update_due=DUE
        )
        cache.upsert_incidents([fresh])
        back = cache.incident("inc-1")
        assert back is not None
        assert back.roles == ROLES
