"""Builders for the view tests: incidents around a fixed instant, a round-the-clock policy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.domain.calendar import TWENTY_FOUR_SEVEN
from console.domain.incident import Incident, format_number
from console.domain.lifecycle import State
from console.domain.severity import DEFAULT_MATRIX, Impact, Severity, Urgency
from console.domain.sla import SlaPolicy
from console.models.incident_table import IncidentTableModel
from console.services.queue import SAVED_VIEWS_META_KEY, DisplayNames, SavedViews
from console.store import Cache
from console.sync.edits import LocalEdits
from console.views.main_window import MainWindow

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday morning

# Impact/urgency pairs the default matrix maps to each severity.
_PAIRS = {
    Severity.SEV1: (Impact.HIGH, Urgency.HIGH),
    Severity.SEV2: (Impact.HIGH, Urgency.MEDIUM),
    Severity.SEV3: (Impact.MEDIUM, Urgency.MEDIUM),
    Severity.SEV4: (Impact.LOW, Urgency.LOW),
}


def make_incident(
    n: int, severity: Severity = Severity.SEV3, *, age_min: int = 10, **changes: Any
) -> Incident:
    """Incident ``n``, opened ``age_min`` minutes before NOW and acknowledged at once."""
    impact, urgency = _PAIRS[severity]
    assert DEFAULT_MATRIX.severity(impact, urgency) is severity
    opened = NOW - timedelta(minutes=age_min)
    fields: dict[str, Any] = {
        "id": f"inc-{n}",
        "number": format_number(n),
        "title": f"Incident number {n}",
        "service": "payments-api",
        "impact": impact,
        "urgency": urgency,
        "severity": severity,
        "state": State.IN_PROGRESS,
        "opened_at": opened,
        "updated_at": opened,
        "acknowledged_at": opened,
    }
    fields.update(changes)
    return Incident(**fields)


@pytest.fixture
def policy() -> SlaPolicy:
    """The default targets, round the clock, so the figures do not depend on the weekday."""
    return SlaPolicy.default(TWENTY_FOUR_SEVEN)


# --------------------------------------------------------------------------
# A whole console window over a real SQLite cache and the real outbox writer
# --------------------------------------------------------------------------

OPERATOR = "avogel"

PEOPLE = [
    {"id": "avogel", "name": "Anja Vogel"},
    {"id": "bkim", "name": "Bora Kim"},
    {"id": "cdiaz", "name": "Carla Díaz"},
]
TEAMS = [
    {"id": "noc", "name": "NOC Operations", "tier": "L1"},
    {"id": "network", "name": "Network Engineering", "tier": "L2"},
    {"id": "vendor", "name": "Vendor support", "tier": "L3"},
]
SERVICES = [
    {"id": "payments-api", "name": "Payments API"},
    {"id": "checkout", "name": "Checkout"},
]


def desk_incidents() -> list[Incident]:
    """A small NOC: every board column, every severity, one unacknowledged SEV-1."""
    return [
        make_incident(
            1,
            Severity.SEV1,
            age_min=5,
            state=State.NEW,
            acknowledged_at=None,
            title="Payments down",
        ),
        make_incident(2, Severity.SEV2, age_min=40, state=State.TRIAGED, assignment_group="noc"),
        make_incident(3, Severity.SEV3, age_min=90, assignee="bkim", service="checkout"),
        make_incident(4, Severity.SEV4, age_min=30, assignee=OPERATOR),
        make_incident(
            5,
            Severity.SEV3,
            age_min=300,
            state=State.RESOLVED,
            resolved_at=NOW - timedelta(minutes=10),
        ),
    ]


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def desk_cache(tmp_path: Path) -> Iterator[Cache]:
    """A real cache file with the desk incidents and their reference data."""
    cache = Cache.open(tmp_path / "cache.db")
    cache.upsert_incidents(desk_incidents())
    cache.upsert_reference("contacts", PEOPLE)
    cache.upsert_reference("teams", TEAMS)
    cache.upsert_reference("services", SERVICES)
    yield cache
    cache.close()


@pytest.fixture
def desk(qtbot: QtBot, policy: SlaPolicy, desk_cache: Cache) -> MainWindow:
    """The console window as the app builds it: real cache, real outbox writer, shown and active."""
    names = DisplayNames.from_reference(SERVICES, PEOPLE, TEAMS)
    model = IncidentTableModel(policy, NOW, desk_cache.incidents(), names=names)
    clock = FakeClock(NOW)  # edits and SLA clocks on the same (test) time
    window = MainWindow(
        model,
        themes=[("light", "Light"), ("dark", "Dark"), ("wall", "Wall display")],
        current_theme="light",
        clock=clock,
        edits=LocalEdits(desk_cache, author=OPERATOR, clock=clock),
        timeline_source=desk_cache.timeline,
        saved_views=SavedViews(
            lambda: desk_cache.meta(SAVED_VIEWS_META_KEY),
            lambda text: desk_cache.set_meta(SAVED_VIEWS_META_KEY, text),
        ),
        operator=OPERATOR,
    )
    window.ticker.stop()  # the tests tick by hand
    qtbot.addWidget(window)
    window.resize(1400, 800)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.table.setFocus()
    return window
