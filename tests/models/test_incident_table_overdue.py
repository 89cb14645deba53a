"""#19 item 4: an overdue stakeholder update shows in the queue row's title, in words."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from console.domain.incident import Incident
from console.domain.severity import Severity
from console.domain.sla import SlaPolicy
from console.models.incident_table import Column, IncidentTableModel
from tests.helpers.factories import NOW, desk_incident


def _major(due_in_min: float) -> Incident:
    return replace(
        desk_incident(1, Severity.SEV1, title="Checkout down"),
        major=True,
        next_update_due=(("internal", NOW + timedelta(minutes=due_in_min)),),
    )


def _title(model: IncidentTableModel, role: int = Qt.ItemDataRole.DisplayRole) -> object:
    return model.data(model.index(0, int(Column.TITLE)), role)


def test_the_title_reads_overdue_and_the_row_repaints_when_it_turns(
    qtbot: QtBot, policy: SlaPolicy
) -> None:
    model = IncidentTableModel(policy, NOW, [_major(1)])
    assert _title(model) == "MAJOR · Checkout down"
    changed: list[tuple[int, int, int]] = []
    model.dataChanged.connect(
        lambda top, bottom, _roles=(): changed.append((top.row(), top.column(), bottom.column()))
    )
    model.tick(NOW + timedelta(minutes=3))
    assert _title(model) == "MAJOR · ◷ update overdue (internal 2 min) · Checkout down"
    assert (0, 0, len(Column) - 1) in changed  # the whole row, not only the SLA column
    tip = _title(model, Qt.ItemDataRole.ToolTipRole)
    assert isinstance(tip, str)
    assert tip.startswith("◷ update overdue (internal 2 min): publish it")

    changed.clear()
    model.tick(NOW + timedelta(minutes=3, seconds=1))  # same minute: only the clocks repaint
    assert (0, 0, len(Column) - 1) not in changed


def test_a_published_update_clears_it(qtbot: QtBot, policy: SlaPolicy) -> None:
    model = IncidentTableModel(policy, NOW, [_major(-4)])
    assert "◷ update overdue" in str(_title(model))
    model.upsert([replace(_major(15), version=2)])
    assert _title(model) == "MAJOR · Checkout down"
