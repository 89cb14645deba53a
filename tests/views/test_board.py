"""The live board: every model passes the model tester, live changes keep the operator's place.

Live inserts, updates and removals must keep the selected incident selected
and the incident at the top of the view where it was; filters and re-sorts
arrive as layout changes, never resets; the tick repaints only the clocks.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QMimeData, QModelIndex, QObject, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QPaintEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.domain.incident import HoldPeriod, Incident, TimelineEvent, TimelineKind
from console.domain.lifecycle import HoldReason, State
from console.domain.severity import Severity
from console.domain.sla import SlaPolicy
from console.models.board import CARD_ROLE, INCIDENT_MIME, BoardModel, Card
from console.models.incident_table import FLASH_COLOUR, Column, IncidentTableModel
from console.models.projection import FLASH_ROLE, FLASH_TICKS
from console.models.timeline import TimelineModel
from console.services.queue import OPEN_QUEUE, QueueFilter
from console.store import Cache
from console.views.dialogs import StateDialog
from console.views.incident_table import IncidentTableView
from console.views.main_window import MainWindow
from tests.helpers.factories import NOW
from tests.helpers.factories import desk_incident as make_incident

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def many(count: int = 300) -> list[Incident]:
    """Enough SEV-3 and SEV-4 work to scroll through."""
    return [
        make_incident(n, Severity.SEV3 if n % 2 else Severity.SEV4, age_min=n % 500)
        for n in range(100, 100 + count)
    ]


def paused(n: int, left_min: int) -> Incident:
    """A SEV-1 on hold (awaiting a vendor) with ``left_min`` of its 4 h left."""
    used = 240 - left_min
    return make_incident(
        n,
        Severity.SEV1,
        age_min=used + 60,
        state=State.ON_HOLD,
        hold_reason=HoldReason.AWAITING_VENDOR,
        holds=(HoldPeriod(NOW - timedelta(minutes=60)),),
    )


def test_every_model_passes_the_model_tester_through_live_changes(
    qtmodeltester, policy: SlaPolicy
) -> None:
    model = IncidentTableModel(policy, NOW, many(40), wanted=OPEN_QUEUE)
    board = BoardModel(model.queue, OPEN_QUEUE)
    timeline = TimelineModel()
    for tested in (model, *board.columns, timeline):
        qtmodeltester.check(tested, force_py=False)
    # The testers watch every signal from here on.
    model.upsert(
        [make_incident(1, Severity.SEV1, age_min=1, state=State.NEW, acknowledged_at=None)]
    )
    model.upsert([replace(make_incident(101, Severity.SEV3), state=State.TRIAGED)])
    model.upsert([paused(2, left_min=30)])
    model.remove(["inc-102", "inc-103"])
    model.set_filter(replace(OPEN_QUEUE, text="number 1"))
    board.set_filter(replace(OPEN_QUEUE, severities=frozenset({Severity.SEV1})))
    model.set_filter(replace(OPEN_QUEUE, at_risk=True))
    model.tick(NOW + timedelta(hours=3))  # the paused row slides; rows become at risk
    model.upsert([replace(make_incident(1, Severity.SEV1), state=State.RESOLVED, resolved_at=NOW)])
    events = [
        TimelineEvent("e1", "inc-1", TimelineKind.WORK_NOTE, NOW, "avogel", "Looking"),
        TimelineEvent("e2", "inc-1", TimelineKind.STATE_CHANGE, NOW, "avogel", "Resolved"),
    ]
    timeline.show("inc-1", events[:1])
    timeline.show("inc-1", events)
    timeline.show("inc-2", [])


def scrolled_view(qtbot: QtBot, model: IncidentTableModel) -> IncidentTableView:
    view = IncidentTableView(model)
    qtbot.addWidget(view)
    view.resize(1000, 400)
    view.show()
    qtbot.waitExposed(view)
    middle = model.incident_at(150).id
    assert view.select_incident(middle)
    view.scrollTo(model.index(140, 0), IncidentTableView.ScrollHint.PositionAtTop)
    return view


def place(view: IncidentTableView) -> tuple[str, int, str]:
    """(top visible incident, its pixel offset, selected incident) — what the operator sees."""
    top = view.rowAt(0)
    selected = view.selected_incident()
    assert selected is not None
    return view.model().incident_at(top).id, view.rowViewportPosition(top), selected.id


def test_live_changes_keep_the_selection_and_the_scroll_position(
    qtbot: QtBot, policy: SlaPolicy
) -> None:
    model = IncidentTableModel(policy, NOW, many(), wanted=OPEN_QUEUE)
    view = scrolled_view(qtbot, model)
    resets: list[bool] = []
    model.modelAboutToBeReset.connect(lambda: resets.append(True))
    before = place(view)

    with qtbot.waitSignal(model.rowsInserted):  # above the view
        model.upsert([make_incident(1, Severity.SEV1, age_min=1)])
    assert place(view) == before
    with qtbot.waitSignal(model.rowsRemoved):  # above the view
        model.remove([model.incident_at(10).id, model.incident_at(11).id])
    assert place(view) == before
    with qtbot.waitSignal(model.rowsMoved):  # a row from below jumps above the view
        model.upsert([replace(model.incident_at(280), severity=Severity.SEV1)])
    assert place(view) == before
    with qtbot.waitSignal(model.dataChanged):  # the selected row itself changes in place
        model.upsert([replace(model.incident_at(model.row_of(before[2]) or 0), title="Edited")])
    assert place(view) == before
    selected = view.selected_incident()
    assert selected is not None
    assert selected.title == "Edited"
    # The selected incident moves to the top: still selected, the view stays put.
    with qtbot.waitSignal(model.rowsMoved):
        model.upsert([replace(selected, severity=Severity.SEV1)])
    now_selected = view.selected_incident()
    assert now_selected is not None
    assert now_selected.id == before[2]
    assert place(view)[:2] == before[:2]
    assert resets == []


def test_at_the_top_new_urgent_work_appears_at_the_top(qtbot: QtBot, policy: SlaPolicy) -> None:
    model = IncidentTableModel(policy, NOW, many(), wanted=OPEN_QUEUE)
    view = IncidentTableView(model)
    qtbot.addWidget(view)
    view.resize(1000, 400)
    view.show()
    qtbot.waitExposed(view)
    model.upsert([make_incident(1, Severity.SEV1, age_min=1)])
    assert view.rowAt(0) == 0
    assert model.incident_at(0).id == "inc-1"


def test_a_filter_change_is_a_layout_change_that_keeps_the_selection(
    qtbot: QtBot, policy: SlaPolicy
) -> None:
    model = IncidentTableModel(policy, NOW, many(), wanted=OPEN_QUEUE)
    view = scrolled_view(qtbot, model)
    chosen = place(view)[2]
    resets: list[bool] = []
    model.modelAboutToBeReset.connect(lambda: resets.append(True))
    with qtbot.waitSignal(model.layoutChanged):
        model.set_filter(replace(OPEN_QUEUE, severities=frozenset({Severity.SEV3, Severity.SEV4})))
    with qtbot.waitSignal(model.layoutChanged):
        model.set_filter(replace(OPEN_QUEUE, text=chosen.split("-")[1][:2]))
    selected = view.selected_incident()
    assert selected is not None
    assert selected.id == chosen
    assert view.visualRect(view.currentIndex()).intersects(view.viewport().rect())
    assert view.verticalHeader().count() == model.rowCount()
    assert resets == []


def test_new_and_changed_rows_are_highlighted_briefly(qtbot: QtBot, policy: SlaPolicy) -> None:
    model = IncidentTableModel(policy, NOW, many(5))
    row = model.row_of("inc-100")
    assert row is not None
    assert model.index(row, Column.TITLE).data(FLASH_ROLE) is False
    model.upsert([replace(model.incident_at(row), title="Changed")])
    model.upsert([make_incident(1, Severity.SEV1)])
    for incident_id in ("inc-100", "inc-1"):
        index = model.index(model.row_of(incident_id) or 0, Column.TITLE)
        assert index.data(FLASH_ROLE) is True
        assert index.data(Qt.ItemDataRole.BackgroundRole) == FLASH_COLOUR
    for tick in range(1, FLASH_TICKS + 1):
        model.tick(NOW + timedelta(seconds=tick))
    index = model.index(model.row_of("inc-1") or 0, Column.TITLE)
    assert index.data(FLASH_ROLE) is False
    assert index.data(Qt.ItemDataRole.BackgroundRole) is None


def test_a_paused_clock_sliding_past_a_running_one_resorts_without_a_reset(
    qtbot: QtBot, policy: SlaPolicy
) -> None:
    running = make_incident(1, Severity.SEV1, age_min=200)  # 40 min left, running
    on_hold = paused(2, left_min=35)  # 35 min left, paused
    model = IncidentTableModel(policy, NOW, [running, on_hold])
    view = IncidentTableView(model)
    qtbot.addWidget(view)
    view.select_incident("inc-2")
    assert [i.id for i in model.shown()] == ["inc-2", "inc-1"]
    model.tick(NOW + timedelta(minutes=2))  # 38 left vs 35: no change of order
    assert [i.id for i in model.shown()] == ["inc-2", "inc-1"]
    with qtbot.waitSignal(model.layoutChanged):
        model.tick(NOW + timedelta(minutes=6))  # 34 left vs 35: the running one is first now
    assert [i.id for i in model.shown()] == ["inc-1", "inc-2"]
    selected = view.selected_incident()
    assert selected is not None
    assert selected.id == "inc-2"


def test_the_at_risk_filter_takes_in_rows_as_their_clocks_reach_warning(
    qtbot: QtBot, policy: SlaPolicy
) -> None:
    model = IncidentTableModel(
        policy,
        NOW,
        [make_incident(1, Severity.SEV1, age_min=170)],
        wanted=QueueFilter(at_risk=True),
    )
    assert model.rowCount() == 0  # 170 of 240 min: not yet 75 %
    with qtbot.waitSignal(model.rowsInserted):
        model.tick(NOW + timedelta(minutes=11))
    assert model.incident_at(0).id == "inc-1"


def test_the_tick_repaints_only_the_clocks(qtbot: QtBot, policy: SlaPolicy) -> None:
    model = IncidentTableModel(policy, NOW, many(20))
    board = BoardModel(model.queue)
    changes: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda tl, br, _roles=(): changes.append((tl.row(), tl.column(), br.row(), br.column()))
    )
    cards: list[tuple[int, int]] = []
    column = board.columns[2]  # in progress
    column.dataChanged.connect(lambda tl, br, roles=(): cards.append((tl.row(), br.row())))
    model.tick(NOW + timedelta(seconds=1))
    assert changes == [(0, Column.SLA, 19, Column.SLA)]
    assert cards == [(0, column.rowCount() - 1)]


def test_the_tick_repaints_only_the_clock_cells_on_screen(qtbot: QtBot, policy: SlaPolicy) -> None:
    model = IncidentTableModel(policy, NOW, many())
    view = IncidentTableView(model)
    qtbot.addWidget(view)
    view.resize(1000, 400)
    view.show()
    qtbot.waitExposed(view)
    painted: list[QRect] = []

    class Watch(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                assert isinstance(event, QPaintEvent)
                painted.append(event.rect())
            return False

    view.viewport().repaint()  # the first full paint, done before watching
    QApplication.processEvents()
    watch = Watch()
    view.viewport().installEventFilter(watch)
    model.tick(NOW + timedelta(seconds=1))
    qtbot.waitUntil(lambda: bool(painted))
    sla = QRect(view.columnViewportPosition(Column.SLA), 0, view.columnWidth(Column.SLA), 1)
    for rect in painted:
        assert rect.left() == sla.left()
        assert rect.width() == sla.width()


def test_board_columns_follow_the_lifecycle(policy: SlaPolicy) -> None:
    incidents = [
        make_incident(1, state=State.NEW, acknowledged_at=None),
        make_incident(2, state=State.TRIAGED),
        make_incident(3, state=State.IN_PROGRESS),
        make_incident(4, state=State.REOPENED),
        paused(5, left_min=100),
        make_incident(6, state=State.RESOLVED, resolved_at=NOW),
        make_incident(7, state=State.CLOSED, closed_at=NOW),
        make_incident(8, state=State.CANCELLED),
    ]
    model = IncidentTableModel(policy, NOW, incidents)
    board = BoardModel(model.queue, OPEN_QUEUE)  # the queue's "open only" does not hide resolved
    columns = [[i.id for i in column.shown()] for column in board.columns]
    assert columns == [["inc-1"], ["inc-2"], ["inc-3", "inc-4"], ["inc-5"], ["inc-6"]]
    card: Card = board.columns[2].index(1, 0).data(CARD_ROLE)
    assert card.state == "Reopened"
    on_hold: Card = board.columns[3].index(0, 0).data(CARD_ROLE)
    assert on_hold.state == "On hold · vendor"
    assert on_hold.sla.startswith("Paused")
    assert on_hold.severity is Severity.SEV1


def drop(window: MainWindow, incident_id: str, column: int) -> None:
    """Drop the card of ``incident_id`` on board column ``column``, as a drag would."""
    data = QMimeData()
    data.setData(INCIDENT_MIME, incident_id.encode())
    target = window.board_model.columns[column]
    assert target.canDropMimeData(data, Qt.DropAction.MoveAction, -1, -1, QModelIndex())
    target.dropMimeData(data, Qt.DropAction.MoveAction, -1, -1, QModelIndex())


def test_dragging_a_card_changes_the_state_through_the_outbox(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    desk.menu_actions.show_board.trigger()
    new, triaged = desk.board_model.columns[0], desk.board_model.columns[1]
    with qtbot.waitSignal(triaged.rowsInserted):
        drop(desk, "inc-1", 1)  # new → triaged
    assert [i.id for i in new.shown()] == []
    assert "inc-1" in [i.id for i in triaged.shown()]
    (record,) = desk_cache.pending_outbox()
    assert record.payload["fields"] == {"state": "triaged"}
    incident = desk.model.queue.get("inc-1")
    assert incident is not None
    assert incident.acknowledged_at is not None  # leaving new counts as the acknowledgement


def test_an_illegal_drop_is_refused_with_the_reason(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    desk.menu_actions.show_board.trigger()
    drop(desk, "inc-3", 1)  # in progress → triaged: not allowed
    assert desk.banner.isVisible()
    assert desk.banner.text() == (
        "INC-000003: cannot move an incident from in_progress to triaged; "
        "allowed from in_progress: on_hold, resolved, cancelled"
    )
    assert desk_cache.pending_outbox() == []
    assert desk.board_model.column_of("inc-3") == (2, 0)


def test_dropping_on_hold_asks_for_the_reason(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    desk.menu_actions.show_board.trigger()
    drop(desk, "inc-3", 3)
    dialog = desk.controller.dialog
    assert isinstance(dialog, StateDialog)
    assert dialog.state.currentData() is State.ON_HOLD
    dialog.accept()
    (record,) = desk_cache.pending_outbox()
    assert record.payload["fields"] == {"state": "on_hold", "hold_reason": "awaiting_caller"}
    assert desk.board_model.column_of("inc-3") == (3, 0)


@pytest.mark.parametrize("on_a_card", [False, True])
def test_a_real_drop_event_on_a_column_asks_for_the_move(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache, on_a_card: bool
) -> None:
    """The drop as Qt delivers it (the drag itself needs a real mouse and window system)."""
    desk.menu_actions.show_board.trigger()
    source = desk.board.columns[0]
    data = source.model().mimeData([source.model().index(0, 0)])
    target = desk.board.columns[2]  # new → in progress
    point = (
        target.visualRect(target.model().index(0, 0)).center()
        if on_a_card
        else QPoint(10, target.viewport().height() - 5)
    )
    # Qt 6 takes whole pixels for enter/move events and a QPointF for the drop.
    pos = QPointF(point)
    buttons = Qt.MouseButton.LeftButton
    none = Qt.KeyboardModifier.NoModifier
    move = Qt.DropAction.MoveAction
    enter = QDragEnterEvent(point, move, data, buttons, none)
    QApplication.sendEvent(target.viewport(), enter)
    assert enter.isAccepted()
    drag_move = QDragMoveEvent(point, move, data, buttons, none)
    QApplication.sendEvent(target.viewport(), drag_move)
    assert drag_move.isAccepted()
    QApplication.sendEvent(target.viewport(), QDropEvent(pos, move, data, buttons, none))
    (record,) = desk_cache.pending_outbox()
    assert record.incident_id == "inc-1"
    assert record.payload["fields"] == {"state": "in_progress"}
    assert desk.board_model.column_of("inc-1") == (2, 0)  # SEV-1 first in its column


def test_a_major_owing_a_late_update_shows_the_queue_rows_overdue_pill_on_its_card(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """The demo's running SEV-1 (INC-004301) owes an update: its card says so in words and a
    framed amber pill, the queue row's; a major that owes nothing has no pill."""
    from console.app.gui import _build_window
    from console.config.settings import load_settings
    from console.views.title_delegate import OVERDUE_BACKGROUND

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    cache = Cache.open(tmp_path / "cache.db")
    window = _build_window(app, load_settings(tmp_path / "settings.toml"), cache, demo=True)
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    window.tabs.setCurrentWidget(window.board)
    qtbot.waitExposed(window.board)
    cards = {
        card.number: (view, row)
        for view in window.board.columns
        for row in range(view.model().rowCount())
        if isinstance(card := view.model().index(row, 0).data(CARD_ROLE), Card)
    }
    view, row = cards["INC-004301"]
    index = view.model().index(row, 0)
    card = index.data(CARD_ROLE)
    assert card.major
    assert card.update_overdue == window.table.model().queue.update_overdue(card.incident_id)
    assert card.update_overdue.startswith("◷ update overdue")
    assert card.update_overdue in index.data(Qt.ItemDataRole.ToolTipRole)
    assert card.update_overdue in index.data(Qt.ItemDataRole.AccessibleTextRole)
    view.scrollTo(index)

    def amber(at: QRect) -> int:
        image = view.viewport().grab(at).toImage()
        target = OVERDUE_BACKGROUND.rgb()
        return sum(
            image.pixel(x, y) == target for x in range(image.width()) for y in range(image.height())
        )

    assert amber(view.visualRect(index)) > 100  # the pill is painted
    others = [
        (v, r)
        for number, (v, r) in cards.items()
        if number != "INC-004301" and not v.model().index(r, 0).data(CARD_ROLE).update_overdue
    ]
    other_view, other_row = others[0]
    other_index = other_view.model().index(other_row, 0)
    other_view.scrollTo(other_index)
    assert amber(other_view.visualRect(other_index)) == 0
    if os.environ.get("NOC_SCREENSHOTS"):
        window.grab().save(os.environ["NOC_SCREENSHOTS"] + "/board-overdue.png")
    window.close()
    cache.close()
