"""The filter bar above the queue and the board: free text, severity, state, service, team,
"mine", "SLA at risk", and saved views.

Every change emits :attr:`FilterBar.filter_changed` with the new
:class:`QueueFilter` at once (no debounce: a keystroke over 100k incidents is
answered in milliseconds by :mod:`console.services.queue`). Esc in the search
box clears the text and hands the focus back to the list.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QToolButton,
    QWidget,
)

from console.domain.incident import Source
from console.domain.lifecycle import State
from console.domain.severity import Severity
from console.services.queue import OPEN_QUEUE, IncidentQueue, QueueFilter, SavedViews

CUSTOM_VIEW = "Custom filter"


class SearchBox(QLineEdit):
    """The free-text box: Esc clears it and gives the focus back (``escaped``)."""

    escaped = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.clear()
            self.escaped.emit()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Down):
            self.escaped.emit()  # done typing: go to the results
            return
        super().keyPressEvent(event)


class FilterBar(QWidget):
    """The operator's filter and saved views (see the module docstring)."""

    filter_changed = Signal(object)
    """The new :class:`QueueFilter`."""
    done = Signal()
    """The operator left the search box (Esc, Enter, ↓): focus the results."""

    def __init__(
        self, queue: IncidentQueue, views: SavedViews, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("filterBar")
        self._queue = queue
        self._views = views
        self._filter = OPEN_QUEUE
        self._updating = False
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(6)

        self.view_choice = QComboBox(self)
        self.view_choice.setObjectName("savedViews")
        self.view_choice.setToolTip("Saved views")
        self.view_choice.activated.connect(self._view_chosen)
        layout.addWidget(self.view_choice)

        self.search = SearchBox(self)
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Filter: number, title, service, assignee   ( / )")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda text: self._change(text=text))
        self.search.escaped.connect(self.done)
        layout.addWidget(self.search, 3)

        self.severity_buttons: dict[Severity, QToolButton] = {}
        for severity in Severity:
            button = QToolButton(self)
            button.setObjectName("severityToggle")
            button.setCheckable(True)
            button.setText(f"{severity.style.glyph} {severity.code}")
            button.setToolTip(f"Only {severity.code} {severity.label} (combine several)")
            button.setProperty("severity", severity.value)
            button.toggled.connect(lambda _on: self._change(severities=self._severities()))
            layout.addWidget(button)
            self.severity_buttons[severity] = button

        self.state_menu = QMenu(self)
        self.state_actions: dict[State, QAction] = {}
        for state in State:
            action = self.state_menu.addAction(state.label)
            action.setCheckable(True)
            action.toggled.connect(lambda _on: self._change(states=self._states()))
            self.state_actions[state] = action
        self.state_button = self._menu_button("State", self.state_menu)
        layout.addWidget(self.state_button)

        self.service_menu = QMenu(self)
        self.service_menu.aboutToShow.connect(self._fill_services)
        self.service_button = self._menu_button("Service", self.service_menu)
        layout.addWidget(self.service_button)
        self.group_menu = QMenu(self)
        self.group_menu.aboutToShow.connect(self._fill_groups)
        self.group_button = self._menu_button("Team", self.group_menu)
        layout.addWidget(self.group_button)
        self.source_menu = QMenu(self)
        self.source_menu.aboutToShow.connect(self._fill_sources)
        self.source_button = self._menu_button("Source", self.source_menu)
        self.source_button.setToolTip("How incidents came in: Monitoring is what alerts opened")
        layout.addWidget(self.source_button)

        # Alt+N: Alt+F is the File menu's.
        self.finished = QCheckBox("Fi&nished too", self)
        self.finished.setToolTip("Also show resolved, closed and cancelled incidents")
        self.finished.toggled.connect(lambda on: self._change(open_only=not on))
        self.mine = QCheckBox("Mine", self)
        self.mine.setToolTip("Only incidents assigned to you (m)")
        self.mine.toggled.connect(lambda on: self._change(mine=on))
        self.at_risk = QCheckBox("SLA at risk", self)
        self.at_risk.setToolTip("Only incidents whose SLA clock reads warning or breached")
        self.at_risk.toggled.connect(lambda on: self._change(at_risk=on))
        for box in (self.finished, self.mine, self.at_risk):
            layout.addWidget(box)

        self.count = QLabel(self)
        self.count.setObjectName("filterCount")
        layout.addWidget(self.count)
        self._fill_views()
        self._show(self._filter)

    # ------------------------------------------------------------- public

    @property
    def current_filter(self) -> QueueFilter:
        return self._filter

    def set_filter(self, wanted: QueueFilter) -> None:
        """Show ``wanted`` in the widgets and announce it."""
        self._show(wanted)
        self._set(wanted)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def set_count(self, shown: int) -> None:
        self.count.setText(f"{shown:,} shown".replace(",", " "))

    def ask_save(self) -> None:
        """Ask for a name and keep the current filter under it."""
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Save view")
        dialog.setLabelText("Name of this view:")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.textValueSelected.connect(self.save_as)
        dialog.open()
        self._save_dialog = dialog

    def save_as(self, name: str) -> None:
        try:
            self._views.save(name, self._filter)
        except ValueError as exc:
            self.count.setText(str(exc))
            return
        self._fill_views()
        self._select_view(name.strip())

    # ------------------------------------------------------------ internals

    def _menu_button(self, text: str, menu: QMenu) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setMenu(menu)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        return button

    def _severities(self) -> frozenset[Severity]:
        return frozenset(s for s, b in self.severity_buttons.items() if b.isChecked())

    def _states(self) -> frozenset[State]:
        return frozenset(s for s, a in self.state_actions.items() if a.isChecked())

    def _fill_services(self) -> None:
        self._fill_choice_menu(
            self.service_menu,
            [(s, self._queue.names.service(s)) for s in self._queue.services()],
            self._filter.services,
            "services",
        )

    def _fill_groups(self) -> None:
        self._fill_choice_menu(
            self.group_menu,
            [(g, self._queue.names.team(g)) for g in self._queue.groups()],
            self._filter.groups,
            "groups",
        )

    def _fill_sources(self) -> None:
        self._fill_choice_menu(
            self.source_menu,
            [(s.value, s.value.capitalize()) for s in Source],
            self._filter.sources,
            "sources",
        )

    def _fill_choice_menu(
        self, menu: QMenu, choices: list[tuple[str, str]], chosen: frozenset[str], field: str
    ) -> None:
        menu.clear()
        for key, label in sorted(choices, key=lambda c: c[1].lower()):
            action = menu.addAction(label)
            action.setCheckable(True)
            action.setChecked(key in chosen)
            action.toggled.connect(lambda on, k=key, f=field: self._toggle_member(f, k, on))

    def _toggle_member(self, field: str, key: str, on: bool) -> None:
        current: frozenset[str] = getattr(self._filter, field)
        self._change(**{field: current | {key} if on else current - {key}})

    def _change(self, **changes: object) -> None:
        if self._updating:
            return
        self._set(replace(self._filter, **changes))  # type: ignore[arg-type]

    def _set(self, wanted: QueueFilter) -> None:
        self._filter = wanted
        self._label_buttons()
        self._select_view(self._view_name(wanted))
        self.filter_changed.emit(wanted)

    def _show(self, wanted: QueueFilter) -> None:
        self._updating = True
        try:
            if self.search.text() != wanted.text:
                self.search.setText(wanted.text)
            for severity, button in self.severity_buttons.items():
                button.setChecked(severity in wanted.severities)
            for state, action in self.state_actions.items():
                action.setChecked(state in wanted.states)
            self.finished.setChecked(not wanted.open_only)
            self.mine.setChecked(wanted.mine)
            self.at_risk.setChecked(wanted.at_risk)
        finally:
            self._updating = False
        self._filter = wanted
        self._label_buttons()

    def _label_buttons(self) -> None:
        f = self._filter
        for button, text, chosen in (
            (self.state_button, "State", len(f.states)),
            (self.service_button, "Service", len(f.services)),
            (self.group_button, "Team", len(f.groups)),
            (self.source_button, "Source", len(f.sources)),
        ):
            button.setText(f"{text} ({chosen})" if chosen else text)

    def _fill_views(self) -> None:
        self.view_choice.clear()
        for name in self._views.names():
            self.view_choice.addItem(name)
        self.view_choice.addItem(CUSTOM_VIEW)

    def _view_name(self, wanted: QueueFilter) -> str:
        for name, saved in self._views:
            if saved == wanted:
                return name
        return CUSTOM_VIEW

    def _select_view(self, name: str) -> None:
        position = self.view_choice.findText(name)
        self.view_choice.setCurrentIndex(
            position if position >= 0 else self.view_choice.count() - 1
        )

    def _view_chosen(self, position: int) -> None:
        name = self.view_choice.itemText(position)
        if name != CUSTOM_VIEW:
            self.set_filter(self._views[name])
