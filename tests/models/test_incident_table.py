"""The incident table model: triage order, live updates without resets, the SLA tick."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from console.domain.incident import HoldPeriod, Incident
from console.domain.lifecycle import HoldReason, State
from console.domain.severity import Severity
from console.domain.sla import SlaPolicy, SlaStatus
from console.models.incident_table import (
    INCIDENT_ROLE,
    SEVERITY_ROLE,
    SLA_ROLE,
    Column,
    DisplayNames,
    IncidentTableModel,
)
from console.store import Cache
from console.views.incident_table import IncidentTableView
from tests.helpers.factories import NOW
from tests.helpers.factories import desk_incident as make_incident

DISPLAY = Qt.ItemDataRole.DisplayRole


def mixed_incidents() -> list[Incident]:
    """Every severity, open and finished, some near or past their SLA."""
    return [
        make_incident(1, Severity.SEV3, age_min=30),
        make_incident(2, Severity.SEV1, age_min=200),  # 4 h target: warning
        make_incident(3, Severity.SEV1, age_min=20),
        make_incident(4, Severity.SEV4, age_min=60),
        make_incident(5, Severity.SEV2, age_min=600),  # 8 h target: breached
        make_incident(6, Severity.SEV2, age_min=5, state=State.NEW, acknowledged_at=None),
        make_incident(
            7,
            Severity.SEV1,
            age_min=300,
            state=State.RESOLVED,
            resolved_at=NOW - timedelta(minutes=100),
        ),
        make_incident(
            8,
            Severity.SEV3,
            age_min=90,
            state=State.ON_HOLD,
            hold_reason=HoldReason.AWAITING_VENDOR,
            holds=(HoldPeriod(NOW - timedelta(minutes=30)),),
        ),
    ]


def numbers(model: IncidentTableModel) -> list[str]:
    return [model.incident_at(row).id for row in range(model.rowCount())]


def sla_cell(model: IncidentTableModel, incident_id: str) -> str:
    row = model.row_of(incident_id)
    assert row is not None
    return model.index(row, Column.SLA).data(DISPLAY)


def test_model_passes_qt_model_tester(qtmodeltester, policy: SlaPolicy) -> None:
    model = IncidentTableModel(policy, NOW, mixed_incidents())
    qtmodeltester.check(model, force_py=False)
    # And again through live updates: the tester watches every signal.
    model.upsert([make_incident(9, Severity.SEV1, age_min=1)])
    model.upsert([replace(mixed_incidents()[0], severity=Severity.SEV1)])
    model.remove(["inc-4"])
    model.tick(NOW + timedelta(minutes=5))


def test_open_incidents_come_first_by_severity_then_most_urgent(policy: SlaPolicy) -> None:
    model = IncidentTableModel(policy, NOW, mixed_incidents())
    # Within a severity the earliest due comes first: inc-2 (40 min left)
    # before inc-3 (3 h 40 min), the breached inc-5 before inc-6 (respond in
    # 25 min), the paused inc-8 (47 h left) before inc-1 (47 h 30 min).
    assert numbers(model) == [
        "inc-2",
        "inc-3",
        "inc-5",
        "inc-6",
        "inc-8",
        "inc-1",
        "inc-4",
        "inc-7",  # resolved: after every open incident
    ]


def test_severity_column_has_label_colour_and_role(policy: SlaPolicy) -> None:
    model = IncidentTableModel(policy, NOW, [make_incident(1, Severity.SEV1)])
    index = model.index(0, Column.SEVERITY)
    assert index.data(DISPLAY) == "SEV-1 Critical"
    assert index.data(SEVERITY_ROLE) is Severity.SEV1
    assert index.data(Qt.ItemDataRole.DecorationRole) == QColor(Severity.SEV1.style.colour)
    assert index.data(INCIDENT_ROLE).id == "inc-1"


def test_sla_column_reads_without_colour(policy: SlaPolicy) -> None:
    model = IncidentTableModel(policy, NOW, mixed_incidents())
    assert sla_cell(model, "inc-3") == "Resolve in 3 h 40 min"
    assert sla_cell(model, "inc-2").startswith("⚠ Resolve in 40 min")
    assert sla_cell(model, "inc-5") == "✖ Resolution overdue 2 h 00 min"
    assert sla_cell(model, "inc-6") == "Respond in 25 min"
    assert sla_cell(model, "inc-7") == "Resolution met"
    assert sla_cell(model, "inc-8").startswith("Paused")
    row = model.row_of("inc-5")
    assert row is not None
    breached = model.index(row, Column.SLA)
    assert breached.data(SLA_ROLE).status is SlaStatus.BREACHED
    assert breached.data(Qt.ItemDataRole.BackgroundRole) == QColor("#C62828")
    assert breached.data(Qt.ItemDataRole.FontRole).bold()


def test_names_replace_ids(policy: SlaPolicy) -> None:
    names = DisplayNames.from_reference(
        services=[{"id": "payments-api", "name": "Payments API"}],
        contacts=[{"id": "avogel", "name": "Anja Vogel"}],
        teams=[{"id": "network", "name": "Network Engineering"}],
    )
    incidents = [
        make_incident(1, assignee="avogel"),
        make_incident(2, assignee=None, assignment_group="network"),
        make_incident(3, service="unknown-service"),
    ]
    model = IncidentTableModel(policy, NOW, incidents, names=names)

    def cell(incident_id: str, column: Column) -> str:
        row = model.row_of(incident_id)
        assert row is not None
        return model.index(row, column).data(DISPLAY)

    assert cell("inc-1", Column.SERVICE) == "Payments API"
    assert cell("inc-1", Column.ASSIGNEE) == "Anja Vogel"
    assert cell("inc-2", Column.ASSIGNEE) == "Network Engineering"
    row = model.row_of("inc-2")
    assert row is not None
    queue = model.index(row, Column.ASSIGNEE)
    assert queue.data(Qt.ItemDataRole.FontRole).italic()
    assert "waiting in the Network Engineering queue" in queue.data(Qt.ItemDataRole.ToolTipRole)
    assert cell("inc-3", Column.SERVICE) == "unknown-service"


def test_live_updates_keep_the_selected_row_and_never_reset(
    qtbot: QtBot, policy: SlaPolicy
) -> None:
    model = IncidentTableModel(policy, NOW, mixed_incidents())
    view = IncidentTableView(model)
    qtbot.addWidget(view)
    assert view.select_incident("inc-1")
    resets: list[bool] = []
    model.modelAboutToBeReset.connect(lambda: resets.append(True))

    # A new SEV-1 lands above the selection, another row leaves, one changes in place.
    with qtbot.waitSignal(model.rowsInserted):
        model.upsert([make_incident(20, Severity.SEV1, age_min=1)])
    with qtbot.waitSignal(model.rowsRemoved):
        model.remove(["inc-4"])
    with qtbot.waitSignal(model.dataChanged):
        model.upsert([replace(model.incident_at(model.row_of("inc-3") or 0), title="Retitled")])
    selected = view.selected_incident()
    assert selected is not None
    assert selected.id == "inc-1"

    # The selected incident itself is escalated to SEV-1: its row moves, still selected.
    before = model.row_of("inc-1")
    escalated = replace(make_incident(1, Severity.SEV1, age_min=30), title="Now critical")
    with qtbot.waitSignal(model.rowsMoved):
        model.upsert([escalated])
    after = model.row_of("inc-1")
    assert after is not None
    assert before is not None
    assert after < before
    selected = view.selected_incident()
    assert selected is not None
    assert selected.id == "inc-1"
    assert selected.title == "Now critical"
    assert view.selectionModel().selectedRows()[0].row() == after
    assert resets == []


def test_moves_keep_the_order_consistent(policy: SlaPolicy) -> None:
    model = IncidentTableModel(policy, NOW, mixed_incidents())
    # Down the list and back up again.
    model.upsert([make_incident(2, Severity.SEV4, age_min=200)])
    assert numbers(model)[-3:] == ["inc-2", "inc-4", "inc-7"]
    model.upsert([make_incident(2, Severity.SEV1, age_min=200)])
    assert model.incident_at(0).id == "inc-2"
    for row in range(model.rowCount()):
        assert model.row_of(model.incident_at(row).id) == row


def test_tick_changes_only_the_sla_column(qtbot: QtBot, policy: SlaPolicy) -> None:
    model = IncidentTableModel(policy, NOW, mixed_incidents())
    before = sla_cell(model, "inc-3")
    changes: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda tl, br, _roles=(): changes.append((tl.row(), tl.column(), br.row(), br.column()))
    )
    with qtbot.waitSignal(model.dataChanged):
        model.tick(NOW + timedelta(minutes=50))
    assert changes == [(0, Column.SLA, model.rowCount() - 1, Column.SLA)]
    assert sla_cell(model, "inc-3") == "Resolve in 2 h 50 min"
    assert sla_cell(model, "inc-3") != before
    # inc-2 crossed its 4 h target during those 50 minutes.
    assert sla_cell(model, "inc-2") == "✖ Resolution overdue 10 min"


def test_changes_from_the_store_apply_incrementally(
    qtbot: QtBot, policy: SlaPolicy, tmp_path: Path
) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    try:
        cache.upsert_incidents(mixed_incidents())
        model = IncidentTableModel(policy, NOW, cache.incidents())
        resets: list[bool] = []
        model.modelAboutToBeReset.connect(lambda: resets.append(True))
        newer = replace(make_incident(1, Severity.SEV3, age_min=30), title="Updated", version=2)
        changes = cache.upsert_incidents([newer, make_incident(30, Severity.SEV2)])
        with qtbot.waitSignal(model.rowsInserted):
            model.apply_changes(changes, cache.incident)
        assert model.rowCount() == len(mixed_incidents()) + 1
        row = model.row_of("inc-1")
        assert row is not None
        assert model.index(row, Column.TITLE).data(DISPLAY) == "Updated"
        removed = cache.delete_incidents(["inc-4"])
        model.apply_changes(removed, cache.incident)
        assert model.row_of("inc-4") is None
        assert resets == []
    finally:
        cache.close()


def test_open_count_follows_updates(policy: SlaPolicy) -> None:
    model = IncidentTableModel(policy, NOW, mixed_incidents())
    assert model.open_count == 7
    model.upsert([replace(make_incident(1), state=State.RESOLVED, resolved_at=NOW)])
    assert model.open_count == 6
    model.remove(["inc-2"])
    assert model.open_count == 5


@pytest.mark.parametrize("severity", list(Severity))
def test_major_incident_title_is_marked(policy: SlaPolicy, severity: Severity) -> None:
    model = IncidentTableModel(policy, NOW, [make_incident(1, severity, major=True)])
    title = model.index(0, Column.TITLE)
    assert title.data(DISPLAY).startswith("MAJOR · ")
    assert title.data(Qt.ItemDataRole.FontRole).bold()
