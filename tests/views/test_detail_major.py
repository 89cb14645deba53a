"""#19: the detail pane's major-incident line (countdowns, overdue state) and declare suggestion,
and Shift+M declaring or standing down with the why, through the outbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog
from pytestqt.qtbot import QtBot

from console.domain.major import declare_criteria
from console.domain.severity import Severity
from console.domain.sla import SlaPolicy
from console.models.incident_table import IncidentTableModel
from console.store import Cache
from console.views.actions import MainWindowActions
from console.views.detail import DetailPane, major_line_text
from console.views.main_window import MainWindow
from tests.helpers.factories import NOW, desk_incident

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def _major(due_in_min: float) -> object:
    return replace(
        desk_incident(7, Severity.SEV1, title="Checkout down"),
        major=True,
        next_update_due=(
            ("internal", NOW + timedelta(minutes=due_in_min)),
            ("executive", None),
            ("customer", None),
        ),
    )


def test_the_line_counts_down_then_turns_overdue_in_words_and_a_frame(
    qtbot: QtBot, policy: SlaPolicy
) -> None:
    model = IncidentTableModel(policy, NOW, [_major(1)])  # type: ignore[list-item]
    pane = DetailPane(model, MainWindowActions([("light", "Light")], "light"))
    qtbot.addWidget(pane)
    pane.show()
    pane.show_incident("inc-7")
    assert pane.major_line.isVisible()
    assert pane.major_line.text() == "Major incident · next updates: Internal 1:00"
    model.tick(NOW + timedelta(minutes=3))
    pane.tick()
    text = pane.major_line.text()
    assert text.startswith("◷ update overdue (internal 2 min) — publish it")
    assert "Internal OVERDUE 2:00" in text
    assert pane.major_line.property("overdue") is True
    assert pane.major_line.lineWidth() == 3  # a thick frame: shape, not colour alone
    assert pane.major_line.font().bold()


def test_suggests_declaring_with_the_criterion_and_the_key(policy: SlaPolicy) -> None:
    sev1 = desk_incident(1, Severity.SEV1)
    text, late = major_line_text(sev1, None, NOW, "Shift+M")
    assert text == (
        "▶ Declare a major incident? SEV-1: every critical incident is run as a major "
        "incident. Press Shift+M to declare (the criterion goes on the timeline as the why)."
    )
    assert not late
    assert major_line_text(desk_incident(2, Severity.SEV3), None, NOW, "Shift+M") == (None, False)


def test_shift_m_declares_with_the_criterion_as_why(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    desk.select_incident("inc-1")  # the unacknowledged SEV-1
    shown = desk.detail.major_line.text()
    assert "Declare a major incident? SEV-1" in shown
    assert "Shift+M" in shown
    qtbot.keyClick(desk.table, Qt.Key.Key_M, Qt.KeyboardModifier.ShiftModifier)
    (record,) = desk_cache.pending_outbox()
    reason = "; ".join(declare_criteria(desk_incident(1, Severity.SEV1)))
    assert record.payload["fields"] == {"major": True, "major_reason": reason}
    incident = desk.model.queue.get("inc-1")
    assert incident is not None
    assert incident.major  # shown at once


def test_shift_m_stands_down_only_with_a_reason(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    major = replace(
        desk_incident(3, Severity.SEV3, assignee="bkim", service="checkout"), major=True
    )
    desk_cache.upsert_incidents([replace(major, version=2)])
    desk.model.upsert([replace(major, version=2)])
    desk.select_incident("inc-3")
    qtbot.keyClick(desk.table, Qt.Key.Key_M, Qt.KeyboardModifier.ShiftModifier)
    dialog = desk.controller.dialog
    assert isinstance(dialog, QInputDialog)
    assert "Why stand INC-000003 down" in dialog.labelText()
    dialog.setTextValue("   ")
    dialog.accept()
    assert desk_cache.pending_outbox() == []  # no why, no stand-down
    qtbot.keyClick(desk.table, Qt.Key.Key_M, Qt.KeyboardModifier.ShiftModifier)
    dialog = desk.controller.dialog
    assert isinstance(dialog, QInputDialog)
    dialog.setTextValue("contained to one tenant")
    dialog.accept()
    (record,) = desk_cache.pending_outbox()
    assert record.payload["fields"] == {"major": False, "major_reason": "contained to one tenant"}
