"""The console's major-incident read model and drafts (console/services/major.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from console.domain.incident import TimelineEvent, TimelineKind
from console.domain.severity import Severity
from console.services.major import (
    DEFAULT_TEMPLATES,
    DRAFT_FIELDS,
    TemplateRefused,
    render_draft,
    snapshot,
)
from console.store import Cache
from tests.helpers.factories import T0, make_incident


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    opened = Cache.open(tmp_path / "cache.sqlite3")
    yield opened
    opened.close()


def _event(n: int, kind: TimelineKind, body: str = "-", **data: object) -> TimelineEvent:
    return TimelineEvent(
        id=f"e{n}",
        incident_id="i1",
        kind=kind,
        at=T0 + timedelta(minutes=n),
        author="lfernandez",
        body=body,
        data=dict(data),
    )


def test_a_snapshot_reads_roles_updates_countdowns_and_what_is_being_done(cache: Cache) -> None:
    incident = make_incident(id="i1", severity=Severity.SEV1, service="Checkout", major=True)
    cache.upsert_incidents([incident])
    cache.upsert_timeline(
        [
            _event(0, TimelineKind.ESCALATION, major=True, commander="lfernandez"),
            _event(1, TimelineKind.WORK_NOTE, "failing over the database\nthen more"),
            _event(2, TimelineKind.STATUS_UPDATE, "we know", audience="internal", status="odd"),
        ]
    )
    snap = snapshot(cache, incident, customer_facing={"Checkout"})
    assert snap.declared_at == T0
    assert snap.roles == {"Incident Commander": "lfernandez"}
    assert [(u.audience, u.status) for u in snap.updates] == [("internal", "investigating")]
    assert snap.customer_facing
    assert snap.due["internal"] == T0 + timedelta(minutes=2 + 15)
    assert snap.due["customer"] == T0 + timedelta(minutes=15)
    assert snap.doing == "failing over the database"


def test_every_default_template_renders_and_an_unknown_field_is_refused() -> None:
    fields = {name: name.upper() for name in DRAFT_FIELDS}
    for source in DEFAULT_TEMPLATES.values():
        assert "SERVICE" in render_draft(source, fields)
    with pytest.raises(TemplateRefused, match="unknown field 'owner'"):
        render_draft("{{ owner }}", fields)
