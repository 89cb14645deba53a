"""The main window: filter bar, queue and board tabs, the detail pane, and the status bar.

Wiring only: the widgets live in their own modules, the banner and the status
bar's messages in :mod:`console.views.status_messages`, the actions in
:mod:`console.views.actions`, what the actions do in
:mod:`console.views.actions_controller`; ``console.app.gui`` supplies the edits
(the outbox), the timeline source and the saved views.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QFont, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console import __version__
from console.domain.clock import utc_now
from console.domain.incident import Incident, TimelineEvent
from console.domain.major import running_major
from console.models.board import BoardModel
from console.models.incident_table import IncidentTableModel
from console.services.queue import OPEN_QUEUE, QueueFilter, SavedViews
from console.services.triage_context import TriageContext
from console.views.actions import MainWindowActions
from console.views.actions_controller import IncidentActions, IncidentEdits, ReadOnlyEdits
from console.views.board import BoardView
from console.views.cheat_sheet import CheatSheet
from console.views.command_palette import CommandPalette
from console.views.detail import DetailPane
from console.views.filter_bar import FilterBar
from console.views.incident_table import IncidentTableView
from console.views.status_messages import StatusMessages

TICK_MS = 1000
"""How often the SLA clocks and the data age move (once a second, as the design says)."""
DETAIL_SHARE = 0.33
"""The detail pane's share of the window's width when it is shown."""
REFERENCE_SCREEN_HEIGHT = 1080
"""Screens taller than this (in logical pixels) get proportionally bigger type…"""
MAX_SCREEN_SCALE = 1.6
"""…up to this factor."""


class MainWindow(StatusMessages):
    """The console's window (see the module docstring)."""

    def __init__(
        self,
        model: IncidentTableModel,
        *,
        themes: Sequence[tuple[str, str]],
        current_theme: str,
        clock: Callable[[], datetime] = utc_now,
        edits: IncidentEdits | None = None,
        timeline_source: Callable[[str], Sequence[TimelineEvent]] = lambda _id: (),
        saved_views: SavedViews | None = None,
        operator: str | None = None,
        escalation_source: Callable[[Incident], str | None] | None = None,
        triage: TriageContext | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("NOC Console")
        self._clock = clock
        self._data_time = None
        self._current_id: str | None = None
        self._sized = False
        self._board_filter_due = False
        self.matrix: QWidget | None = None
        # Views of their own, each with its own filter (Reviews, Problems: add_view).
        self.side_views: list[QWidget] = []
        self.settings_dialog: QDialog | None = None
        self.on_call_for: Callable[[Incident], QDialog | None] | None = None
        """Builds the ``c`` dialog for an incident (None: no on-call data); set by the app."""
        self.on_call_dialog: QDialog | None = None
        self.connect_dialog: QDialog | None = None
        model.queue.set_operator(operator)

        actions = self.menu_actions = MainWindowActions(themes, current_theme, self)
        self._build_menus()

        self.filter_bar = FilterBar(model.queue, saved_views or SavedViews(), self)
        self.table = IncidentTableView(model, self)
        self.board_model = BoardModel(model.queue, OPEN_QUEUE, self)
        self.board = BoardView(self.board_model, self)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("views")
        self.tabs.addTab(self.table, "&Queue")
        self.tabs.addTab(self.board, "&Board")
        self.detail = DetailPane(
            model, actions, timeline_source, self, escalation_source=escalation_source
        )
        self.controller = IncidentActions(
            edits or ReadOnlyEdits(),
            model,
            current=self.current_incident,
            operator=operator,
            dialog_parent=self,
            triage=triage,
        )
        self._build_status()

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.tabs)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 7)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(True)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self.splitter = splitter

        self._wire(model)
        self.filter_bar.set_filter(OPEN_QUEUE)

        self.ticker = QTimer(self)
        self.ticker.setInterval(TICK_MS)
        self.ticker.timeout.connect(self.tick)
        self.ticker.start()
        self.refresh_age()

    # ------------------------------------------------------------- public

    @property
    def model(self) -> IncidentTableModel:
        return self.table.model()

    def current_incident(self) -> Incident | None:
        """The incident the operator is on (selected in the queue or the board)."""
        return None if self._current_id is None else self.model.queue.get(self._current_id)

    def select_incident(self, incident_id: str) -> bool:
        """Select ``incident_id`` in the visible view (queue or board)."""
        if self.tabs.currentWidget() is self.board:
            return self.board.select_incident(incident_id)
        return self.table.select_incident(incident_id)

    def select_first(self) -> None:
        """Open on what is acted on first: the running major incident (most severe, then
        oldest) when one is open and shown, else the top of the queue."""
        major = running_major(self.model.shown())
        if major is None or not self.table.select_incident(major.id):
            self.table.move_selection(1)

    def tick(self) -> None:
        """Once a second: move the SLA clocks and the data age."""
        self.model.tick(self._clock())
        self.detail.tick()
        self.refresh_age()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            self._scale_to_screen()
            self._show_detail(self.tabs.currentWidget() is not self.board)

    def _scale_to_screen(self) -> None:
        """Grow the type on big screens (1440p, 4K), so the queue reads as well as on 1080p.

        Sizes in the views follow the font, so this scales everything; the wall
        theme's style sheet sets its own large sizes and is left alone.
        """
        screen = self.screen()
        if screen is None:
            return
        factor = screen.availableGeometry().height() / REFERENCE_SCREEN_HEIGHT
        factor = min(MAX_SCREEN_SCALE, factor)
        if factor > 1.05:
            font = QFont(self.font())
            font.setPointSizeF(font.pointSizeF() * factor)
            self.setFont(font)

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About NOC Console",
            f"<h3>NOC Console {__version__}</h3>"
            "<p>Incident management for the operations centre, following ITIL 4: "
            "the live queue, SLA clocks and escalation for dispatchers, "
            "incident commanders and the wall display.</p>",
        )

    def open_palette(self) -> None:
        self._palette = CommandPalette(self.menu_actions, self)
        self._palette.open()

    def open_on_call(self) -> None:
        """``c``: who is on call now for the current incident's service, phones one key away."""
        incident = self.current_incident()
        if incident is None:
            self.show_refusal("Select an incident first (j/k), then press c.")
            return
        dialog = self.on_call_for(incident) if self.on_call_for is not None else None
        if dialog is None:
            self.show_refusal(
                f"No on-call data for {incident.number}'s service yet: the escalation matrix "
                "comes with the backend's reference data (Ctrl+3 shows what is loaded)."
            )
            return
        self.on_call_dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.open()

    def open_cheat_sheet(self) -> None:
        self._cheat_sheet = CheatSheet(self.menu_actions, self)
        self._cheat_sheet.open()

    # ------------------------------------------------------------ wiring

    def _wire(self, model: IncidentTableModel) -> None:
        a = self.menu_actions
        c = self.controller
        a.quit.triggered.connect(self.close)
        a.about.triggered.connect(self.show_about)
        a.new_incident.triggered.connect(c.ask_new)
        a.open_incident.triggered.connect(self._open_current)
        a.acknowledge.triggered.connect(lambda: c.acknowledge())
        a.take.triggered.connect(lambda: c.take())
        a.assign.triggered.connect(lambda: c.ask_assign())
        a.change_state.triggered.connect(lambda: c.ask_state())
        a.resolve.triggered.connect(lambda: c.ask_resolve())
        a.escalate.triggered.connect(lambda: c.ask_escalate())
        a.declare_major.triggered.connect(lambda: c.ask_declare_major())  # #19
        a.add_note.triggered.connect(lambda: self.detail.composer.start("work_note"))
        a.status_update.triggered.connect(lambda: self.detail.composer.start("status_update"))
        a.show_queue.triggered.connect(lambda: self._show_view(self.table))
        a.show_board.triggered.connect(lambda: self._show_view(self.board))
        a.show_matrix.triggered.connect(
            lambda: self._show_view(self.matrix) if self.matrix is not None else None
        )
        a.next_incident.triggered.connect(lambda: self._move(1))
        a.previous_incident.triggered.connect(lambda: self._move(-1))
        a.focus_filter.triggered.connect(self._focus_filter)
        a.toggle_mine.triggered.connect(lambda on: self.filter_bar.mine.setChecked(on))
        a.toggle_at_risk.triggered.connect(lambda on: self.filter_bar.at_risk.setChecked(on))
        a.clear_filter.triggered.connect(lambda: self.filter_bar.set_filter(OPEN_QUEUE))
        a.save_view.triggered.connect(self.filter_bar.ask_save)
        a.palette.triggered.connect(self.open_palette)
        a.call_on_call.triggered.connect(self.open_on_call)
        a.cheat_sheet.triggered.connect(self.open_cheat_sheet)

        self.filter_bar.filter_changed.connect(self._apply_filter)
        self.filter_bar.done.connect(self._focus_view)
        self.table.current_incident_changed.connect(self._set_current)
        self.board.current_incident_changed.connect(self._set_current)
        self.table.incident_activated.connect(lambda incident: self._open(incident.id))
        self.board.incident_activated.connect(self._open)
        self.board.move_requested.connect(c.move)
        self.tabs.currentChanged.connect(self._view_changed)
        self.detail.note_requested.connect(self._add_note)
        c.done.connect(self.show_done)
        c.refused.connect(self.show_refusal)
        c.created.connect(self.select_incident)
        c.select_requested.connect(self.select_incident)

        for signal in (
            model.rowsInserted,
            model.rowsRemoved,
            model.modelReset,
            model.layoutChanged,
        ):
            signal.connect(self._update_counts)
        model.incident_changed.connect(self._update_counts)
        for column in self.board_model.columns:
            for signal in (
                column.rowsInserted,
                column.rowsRemoved,
                column.modelReset,
                column.layoutChanged,
            ):
                signal.connect(self._update_counts)
        self._set_current(None)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        for group in self.menu_actions.groups():
            menu = bar.addMenu(f"&{group.title}")
            group.fill(menu)
            if group.title == "View":
                menu.addSeparator()
                theme_menu = menu.addMenu("&Theme")
                for action in self.menu_actions.themes.values():
                    theme_menu.addAction(action)

    def add_matrix(self, matrix: QWidget) -> None:
        """Add the escalation matrix as the third view (Ctrl+3)."""
        self.matrix = matrix
        self.tabs.addTab(matrix, "&Escalation matrix")
        self.menu_actions.show_matrix.setEnabled(True)

    def _focus_filter(self) -> None:
        """``/``: the filter of the view shown (a view of its own has its own)."""
        view = self.tabs.currentWidget()
        if view in self.side_views and hasattr(view, "focus_search"):
            view.focus_search()
        else:
            self.filter_bar.focus_search()

    def add_view(self, view: QWidget, title: str, action: QAction) -> None:
        """Add a view of its own (Reviews, Problems) as a tab that ``action`` shows."""
        self.side_views.append(view)
        self.tabs.addTab(view, title)
        action.triggered.connect(lambda: self._show_view(view))
        action.setEnabled(True)

    def _apply_filter(self, wanted: QueueFilter) -> None:
        self.model.set_filter(wanted)
        # The hidden board catches up when shown: each keystroke filters one view.
        self._board_filter_due = self.tabs.currentWidget() is not self.board
        if not self._board_filter_due:
            self.board_model.set_filter(wanted)
        self.menu_actions.toggle_mine.setChecked(wanted.mine)
        self.menu_actions.toggle_at_risk.setChecked(wanted.at_risk)
        self._update_counts()

    def _set_current(self, incident_id: object) -> None:
        self._current_id = incident_id if isinstance(incident_id, str) else None
        for action in self.menu_actions.incident_actions:
            action.setEnabled(self._current_id is not None)
        self.detail.show_incident(self._current_id)

    def _open(self, incident_id: str) -> None:
        self._set_current(incident_id)
        if not self.detail.width():
            self._show_detail(True)
        self.detail.timeline_view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _open_current(self) -> None:
        if self._current_id is not None:
            self._open(self._current_id)

    def _add_note(self, incident_id: str, body: str, kind: str) -> None:
        incident = self.model.queue.get(incident_id)
        if incident is not None and self.controller.add_note(incident, body, kind):
            self.detail.clear_composer()

    def _move(self, delta: int) -> None:
        if self.tabs.currentWidget() is self.board:
            self.board.move_selection(delta)
        else:
            self.table.move_selection(delta)

    def _show_view(self, view: QWidget) -> None:
        self.tabs.setCurrentWidget(view)
        self._focus_view()

    def _show_detail(self, shown: bool) -> None:
        """Give the detail pane its share of the width, or all of it to the queue/board."""
        total = sum(self.splitter.sizes()) or self.width()
        share = 0 if not shown else round(total * DETAIL_SHARE)
        self.splitter.setSizes([total - share, share])

    def _focus_view(self) -> None:
        if self.tabs.currentWidget() in self.side_views:
            self.tabs.currentWidget().setFocus(Qt.FocusReason.OtherFocusReason)
        elif self.matrix is not None and self.tabs.currentWidget() is self.matrix:
            self.matrix.setFocus(Qt.FocusReason.OtherFocusReason)
        elif self.tabs.currentWidget() is self.board:
            self.board.focus_board()
        else:
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def _view_changed(self, _index: int) -> None:
        on_matrix = self.matrix is not None and self.tabs.currentWidget() is self.matrix
        # A view of its own (Reviews, Problems) has its own filter, like the matrix.
        on_matrix = on_matrix or self.tabs.currentWidget() in self.side_views
        # The incident filter and detail pane mean nothing beside the matrix.
        self.filter_bar.setVisible(not on_matrix)
        if on_matrix:
            self._show_detail(False)
            return
        on_board = self.tabs.currentWidget() is self.board
        if on_board and self._board_filter_due:
            self._board_filter_due = False
            self.board_model.set_filter(self.filter_bar.current_filter)
        # The board needs the width for five columns: its detail pane opens on Enter.
        self._show_detail(not on_board)
        self._update_counts()
        # The other view follows the incident the operator was on.
        if self._current_id is not None:
            self.select_incident(self._current_id)

    def _update_counts(self, *_: object) -> None:
        model = self.model
        shown = model.rowCount()
        text = f"{model.open_count} open · {len(model.queue)} total"
        if shown != model.open_count:
            text = f"{shown} shown · {text}"
        self.counts_label.setText(text)
        if self.tabs.currentWidget() is self.board:
            # The board's count is what its columns hold, its Resolved column included.
            self.filter_bar.set_count(sum(c.rowCount() for c in self.board_model.columns))
        else:
            self.filter_bar.set_count(shown)
