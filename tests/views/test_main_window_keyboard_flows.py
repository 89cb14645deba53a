"""Every action from the keyboard alone, end to end: keys → dialog → outbox → shown at once.

The window runs over a real SQLite cache with the real outbox writer
(``console.sync.edits.LocalEdits``); each test checks what the operator would
notice (the queue, the board, the detail pane) and what the sync engine will
send (the outbox entry and its payload).
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QPlainTextEdit, QWidget
from pytestqt.qtbot import QtBot

from console.domain.lifecycle import HoldReason, State
from console.models.incident_table import Column
from console.store import Cache, OutboxRecord
from console.views.cheat_sheet import CheatSheet
from console.views.command_palette import CommandPalette
from console.views.dialogs import (
    AssignDialog,
    EscalateDialog,
    ResolveDialog,
    StateDialog,
)
from console.views.main_window import MainWindow
from tests.helpers.factories import OPERATOR

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

Key = Qt.Key
SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier


def press(
    qtbot: QtBot, widget: QWidget, key: Key, modifier: Any = Qt.KeyboardModifier.NoModifier
) -> None:
    qtbot.keyClick(widget, key, modifier)


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def select(window: MainWindow, qtbot: QtBot, incident_id: str) -> None:
    """Walk to ``incident_id`` with j, as an operator would."""
    press(qtbot, window.table, Key.Key_J)  # the first j selects the top row
    for _ in range(window.model.rowCount()):
        current = window.current_incident()
        if current is not None and current.id == incident_id:
            return
        press(qtbot, window.table, Key.Key_J)
    raise AssertionError(f"{incident_id} is not in the queue")


def only_pending(cache: Cache) -> OutboxRecord:
    pending = cache.pending_outbox()
    assert len(pending) == 1, pending
    return pending[0]


def open_dialog(qtbot: QtBot, window: MainWindow, kind: type[QDialog]) -> Any:
    """The dialog the last key opened, once it has the keyboard (as the operator sees it)."""
    dialog = window.controller.dialog
    assert isinstance(dialog, kind), dialog
    assert dialog.isVisible()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    assert focused() in dialog.findChildren(QWidget)
    return dialog


def test_j_and_k_move_and_enter_opens(qtbot: QtBot, desk: MainWindow) -> None:
    model = desk.model
    press(qtbot, desk.table, Key.Key_J)
    assert desk.current_incident() == model.incident_at(0)
    press(qtbot, desk.table, Key.Key_J)
    press(qtbot, desk.table, Key.Key_J)
    assert desk.current_incident() == model.incident_at(2)
    press(qtbot, desk.table, Key.Key_K)
    assert desk.current_incident() == model.incident_at(1)
    press(qtbot, desk.table, Key.Key_Down)  # the arrows move too
    assert desk.current_incident() == model.incident_at(2)
    press(qtbot, desk.table, Key.Key_Return)
    shown = desk.detail.incident
    assert shown is not None
    assert shown.id == model.incident_at(2).id
    assert desk.detail.timeline_view.hasFocus()
    assert model.incident_at(2).number in desk.detail.number.text()


def test_a_acknowledges_through_the_outbox_and_shows_at_once(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    select(desk, qtbot, "inc-1")
    assert desk.model.index(0, Column.SLA).data().startswith("Respond in")
    press(qtbot, desk.table, Key.Key_A)
    record = only_pending(desk_cache)
    assert record.operation == "patch"
    assert record.incident_id == "inc-1"
    assert record.payload["fields"] == {"acknowledged": True}
    assert record.base_version == 1
    # Shown at once: the clock switched from response to resolution.
    shown = desk.model.queue.get("inc-1")
    assert shown is not None
    assert shown.acknowledged_at is not None
    assert (
        desk.model.index(desk.model.row_of("inc-1") or 0, Column.SLA).data().startswith("Resolve")
    )
    assert desk.detail.fields["acknowledged"].text() != "—"
    # A second a is refused with the reason, and queues nothing.
    press(qtbot, desk.table, Key.Key_A)
    assert "already acknowledged" in desk.banner.text()
    assert len(desk_cache.pending_outbox()) == 1


def test_shift_a_assigns_with_the_keyboard(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    select(desk, qtbot, "inc-2")
    press(qtbot, desk.table, Key.Key_A, SHIFT)
    dialog: AssignDialog = open_dialog(qtbot, desk, AssignDialog)
    dialog.assignee.setFocus()
    qtbot.keyClicks(dialog.assignee, "Carla")  # type-ahead in the combo box
    press(qtbot, dialog.assignee, Key.Key_Return)
    record = only_pending(desk_cache)
    assert record.payload["fields"] == {"assignee": "cdiaz"}
    row = desk.model.row_of("inc-2")
    assert row is not None
    assert desk.model.index(row, Column.ASSIGNEE).data() == "Carla Díaz"
    assert "assigned to Carla Díaz" in desk.current_message()


def test_t_takes_the_incident(qtbot: QtBot, desk: MainWindow, desk_cache: Cache) -> None:
    select(desk, qtbot, "inc-3")
    press(qtbot, desk.table, Key.Key_T)
    assert only_pending(desk_cache).payload["fields"] == {"assignee": OPERATOR}
    incident = desk.model.queue.get("inc-3")
    assert incident is not None
    assert incident.assignee == OPERATOR


def test_s_changes_state_and_on_hold_asks_why(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    select(desk, qtbot, "inc-3")  # in progress
    press(qtbot, desk.table, Key.Key_S)
    dialog: StateDialog = open_dialog(qtbot, desk, StateDialog)
    # Only the moves the lifecycle allows are offered.
    offered = [dialog.state.itemData(i) for i in range(dialog.state.count())]
    assert offered == [State.ON_HOLD, State.RESOLVED, State.CANCELLED]
    dialog.state.setFocus()
    press(qtbot, dialog.state, Key.Key_Home)  # on hold
    assert dialog.reason.isEnabled()
    dialog.reason.setFocus()
    press(qtbot, dialog.reason, Key.Key_Down)  # awaiting a vendor
    press(qtbot, dialog.reason, Key.Key_Return)
    fields = only_pending(desk_cache).payload["fields"]
    assert fields == {"state": "on_hold", "hold_reason": "awaiting_vendor"}
    incident = desk.model.queue.get("inc-3")
    assert incident is not None
    assert incident.state is State.ON_HOLD
    assert incident.hold_reason is HoldReason.AWAITING_VENDOR
    # The board moved the card at once.
    assert desk.board_model.column_of("inc-3") == (3, 0)


def test_r_resolves_with_the_resolution_on_the_timeline(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    select(desk, qtbot, "inc-3")
    press(qtbot, desk.table, Key.Key_R)
    dialog: ResolveDialog = open_dialog(qtbot, desk, ResolveDialog)
    press(qtbot, dialog.note, Key.Key_Return, CTRL)  # nothing written yet: refused
    assert dialog.isVisible()
    assert "restored the service" in dialog.error.text()
    qtbot.keyClicks(dialog.note, "Restarted the checkout pods")
    press(qtbot, dialog.note, Key.Key_Return, CTRL)
    patch, note = desk_cache.pending_outbox()
    assert patch.payload["fields"] == {"state": "resolved"}
    assert note.operation == "timeline"
    assert note.payload["kind"] == "work_note"
    assert note.payload["body"] == "Resolution: Restarted the checkout pods"
    # Resolved work leaves the open queue at once and shows on the board's last column.
    assert desk.model.row_of("inc-3") is None
    assert desk.board_model.column_of("inc-3") is not None


def test_r_on_resolved_work_is_refused_with_the_reason(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    desk.filter_bar.finished.setChecked(True)
    select(desk, qtbot, "inc-5")
    press(qtbot, desk.table, Key.Key_R)
    assert desk.controller.dialog is None
    assert "cannot move an incident from resolved to resolved" in desk.banner.text()
    assert "allowed from resolved: closed, reopened" in desk.banner.text()
    assert desk_cache.pending_outbox() == []


def test_e_escalates_to_another_team_and_declares_a_major_incident(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    select(desk, qtbot, "inc-2")  # with the NOC (L1)
    press(qtbot, desk.table, Key.Key_E)
    dialog: EscalateDialog = open_dialog(qtbot, desk, EscalateDialog)
    dialog.group.setFocus()
    qtbot.keyClicks(dialog.group, "L2")
    assert dialog.group.currentData() == "network"
    dialog.major.setFocus()
    press(qtbot, dialog.major, Key.Key_Space)
    qtbot.keyClicks(dialog.reason, "BGP flaps on both edges; needs L2")
    press(qtbot, dialog.reason, Key.Key_Return, CTRL)
    patch, note = desk_cache.pending_outbox()
    assert patch.payload["fields"] == {
        "assignment_group": "network",
        "major": True,
        "major_reason": "BGP flaps on both edges; needs L2",  # #19: the why on the entry
    }
    assert note.payload["body"] == (
        "Escalated to Network Engineering and as a major incident: BGP flaps on both edges; "
        "needs L2"
    )
    row = desk.model.row_of("inc-2")
    assert row is not None
    assert desk.model.index(row, Column.TITLE).data().startswith("MAJOR · ")


def test_e_swarms_several_tiers_from_the_keyboard(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    select(desk, qtbot, "inc-2")
    press(qtbot, desk.table, Key.Key_E)
    dialog: EscalateDialog = open_dialog(qtbot, desk, EscalateDialog)
    dialog.swarm.setFocus()
    press(qtbot, dialog.swarm, Key.Key_Space)
    assert dialog.swarm.isChecked()
    press(qtbot, focused(), Key.Key_Tab)
    assert focused() is dialog.tier_boxes[1]
    press(qtbot, focused(), Key.Key_Tab)
    press(qtbot, focused(), Key.Key_Space)  # L2
    press(qtbot, focused(), Key.Key_Tab)
    press(qtbot, focused(), Key.Key_Space)  # L3
    press(qtbot, focused(), Key.Key_Tab)
    assert focused() is dialog.reason
    qtbot.keyClicks(dialog.reason, "Payments down in three regions")
    press(qtbot, dialog.reason, Key.Key_Return, CTRL)
    assert not dialog.isVisible()
    record = only_pending(desk_cache)
    assert record.operation == "engage"
    assert record.incident_id == "inc-2"
    assert record.payload["tiers"] == [2, 3]
    assert record.payload["reason"] == "Payments down in three regions"
    bodies = [e.body for e in desk_cache.timeline("inc-2")]
    assert "Engaging L2, L3: Payments down in three regions (waiting to be sent)" in bodies


def test_swarming_without_a_tier_is_refused_in_the_dialog(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    select(desk, qtbot, "inc-2")
    press(qtbot, desk.table, Key.Key_E)
    dialog: EscalateDialog = open_dialog(qtbot, desk, EscalateDialog)
    dialog.swarm.setFocus()
    press(qtbot, dialog.swarm, Key.Key_Space)
    qtbot.keyClicks(dialog.reason, "all hands")
    press(qtbot, dialog.reason, Key.Key_Return, CTRL)
    assert dialog.isVisible()
    assert "Tick the tiers" in dialog.error.text()
    assert desk_cache.pending_outbox() == []


def test_w_adds_a_work_note_shown_at_once(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    select(desk, qtbot, "inc-4")
    press(qtbot, desk.table, Key.Key_W)
    assert desk.detail.composer.text.hasFocus()
    qtbot.keyClicks(desk.detail.composer.text, "Called the vendor")
    press(qtbot, desk.detail.composer.text, Key.Key_Return, CTRL)
    record = only_pending(desk_cache)
    assert record.operation == "timeline"
    assert record.payload["kind"] == "work_note"
    assert record.payload["body"] == "Called the vendor"
    events = desk.detail.timeline.events()
    assert events[0].body == "Called the vendor"
    assert "waiting to be sent" in desk.detail.timeline.heading(events[0])
    assert desk.detail.composer.text.toPlainText() == ""


def test_u_posts_a_status_update(qtbot: QtBot, desk: MainWindow, desk_cache: Cache) -> None:
    select(desk, qtbot, "inc-4")
    press(qtbot, desk.table, Key.Key_U)
    qtbot.keyClicks(desk.detail.composer.text, "Next update in 30 min")
    press(qtbot, desk.detail.composer.text, Key.Key_Return, CTRL)
    assert only_pending(desk_cache).payload["kind"] == "status_update"


def test_slash_filters_and_escape_clears(qtbot: QtBot, desk: MainWindow) -> None:
    press(qtbot, desk.table, Key.Key_Slash)
    search = desk.filter_bar.search
    assert search.hasFocus()
    qtbot.keyClicks(search, "payments")
    assert [i.id for i in desk.model.shown()] == ["inc-1", "inc-2", "inc-4"]
    # Letters typed into the filter are text, never shortcuts.
    qtbot.keyClicks(search, " down")
    assert [i.id for i in desk.model.shown()] == ["inc-1"]
    press(qtbot, search, Key.Key_Escape)
    assert search.text() == ""
    assert desk.table.hasFocus()
    assert desk.model.rowCount() == 4


def test_m_toggles_mine(qtbot: QtBot, desk: MainWindow) -> None:
    press(qtbot, desk.table, Key.Key_M)
    assert [i.id for i in desk.model.shown()] == ["inc-4"]
    assert desk.filter_bar.mine.isChecked()
    press(qtbot, desk.table, Key.Key_M)
    assert desk.model.rowCount() == 4


def test_ctrl_k_lists_every_action_and_runs_one(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    select(desk, qtbot, "inc-1")
    press(qtbot, desk.table, Key.Key_K, CTRL)
    palettes = desk.findChildren(CommandPalette)
    assert palettes
    palette = palettes[-1]
    assert palette.isVisible()
    listed = {text: keys for text, keys, _enabled in palette.entries()}
    for action in desk.menu_actions.all_actions():
        assert action.text().replace("&", "") in listed
    # Keys as they are pressed: a lower-case letter, not the capital of the menu.
    assert listed["Acknowledge"] == "a"
    assert listed["Escalate…"] == "e"
    assert listed["Resolve…"] == "r"
    assert listed["Filter…"] == "/"
    assert listed["New incident…"] == "n"
    assert listed["Assign…"] == "Shift+A"
    assert listed["Open incident"] == "Enter"
    assert listed["Keyboard shortcuts"] == "?"
    qtbot.keyClicks(palette.search, "zzqx")
    assert palette.entries() == []
    assert palette.list.count() == 1
    assert palette.list.item(0).text() == "No action matches “zzqx” — try fewer letters"
    palette.search.clear()
    qtbot.keyClicks(palette.search, "ack")
    # Best match first ("backend" in the connection actions holds "ack" too).
    assert next(text for text, _k, _e in palette.entries()) == "Acknowledge"
    press(qtbot, palette.search, Key.Key_Return)
    assert not palette.isVisible()
    assert only_pending(desk_cache).payload["fields"] == {"acknowledged": True}


def test_question_mark_shows_every_shortcut(qtbot: QtBot, desk: MainWindow) -> None:
    press(qtbot, desk.table, Key.Key_Question)
    sheets = desk.findChildren(CheatSheet)
    assert sheets
    assert sheets[-1].isVisible()
    rows = CheatSheet.rows(desk.menu_actions)
    keys = {keys for _group, keys, _what in rows}
    assert {"a", "e", "r", "/", "n", "j", "k", "c", "Ctrl+K", "?", "Enter"} <= keys


def test_board_by_keyboard(qtbot: QtBot, desk: MainWindow) -> None:
    press(qtbot, desk.table, Key.Key_2, CTRL)
    assert desk.tabs.currentWidget() is desk.board
    column = desk.board.columns[0]  # new
    assert column.hasFocus()
    press(qtbot, column, Key.Key_J)
    assert desk.board.selected_incident_id() == "inc-1"
    press(qtbot, column, Key.Key_Right)  # to triaged
    assert desk.board.columns[1].hasFocus()
    assert desk.board.selected_incident_id() == "inc-2"
    press(qtbot, desk.board.columns[1], Key.Key_Return)
    shown = desk.detail.incident
    assert shown is not None
    assert shown.id == "inc-2"
    assert desk.detail.width() > 0  # the pane opened beside the board
    press(qtbot, desk.detail.timeline_view, Key.Key_1, CTRL)
    assert desk.tabs.currentWidget() is desk.table
    selected = desk.table.selected_incident()
    assert selected is not None
    assert selected.id == "inc-2"  # the queue follows the card the operator was on


def test_actions_without_a_selection_say_what_to_do(qtbot: QtBot, desk: MainWindow) -> None:
    press(qtbot, desk.table, Key.Key_J)
    assert desk.current_incident() is not None
    # Filtering the selected incident away leaves nothing to act on.
    desk.filter_bar.search.setText("no such incident")
    assert desk.current_incident() is None
    assert not desk.menu_actions.acknowledge.isEnabled()
    desk.controller.acknowledge()
    assert "Select an incident first" in desk.banner.text()


def test_text_boxes_never_fire_single_key_shortcuts(qtbot: QtBot, desk: MainWindow) -> None:
    select(desk, qtbot, "inc-4")
    box: QPlainTextEdit = desk.detail.composer.text
    box.setFocus()
    qtbot.keyClicks(box, "area network")  # a, e, r, n, w, t, k: all text here
    assert box.toPlainText() == "area network"
    assert desk.controller.dialog is None
    search: QLineEdit = desk.filter_bar.search
    assert search.text() == ""


def test_ctrl_3_opens_the_escalation_matrix_and_hides_the_incident_filter(
    qtbot: QtBot, desk: MainWindow
) -> None:
    assert not desk.menu_actions.show_matrix.isEnabled()
    matrix = QWidget(desk)
    desk.add_matrix(matrix)
    assert desk.menu_actions.show_matrix.isEnabled()
    desk.table.setFocus()
    qtbot.keyClick(desk.table, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert desk.tabs.currentWidget() is matrix
    assert desk.filter_bar.isHidden()
    qtbot.keyClick(matrix, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert desk.tabs.currentWidget() is desk.table
    assert not desk.filter_bar.isHidden()
