"""Ctrl+K: every action by name, with its shortcut; type to narrow, Enter to run.

Built from :meth:`MainWindowActions.groups`, so it lists exactly what the
menus hold. Disabled actions (no incident selected) are shown greyed with the
reason instead of hidden, so the operator learns what exists.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.views.actions import MainWindowActions, plain_text, shortcut_text

ACTION_ROLE = Qt.ItemDataRole.UserRole + 1


class CommandPalette(QDialog):
    """A search box over every action; Enter runs the highlighted one."""

    def __init__(self, actions: MainWindowActions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("commandPalette")
        self.setWindowTitle("Command palette")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self._actions = actions
        layout = QVBoxLayout(self)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Type an action, e.g. “ack” or “board”")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setObjectName("paletteList")
        self.list.setUniformItemSizes(True)
        self.hint = QLabel("↑/↓ choose · Enter run · Esc close", self)
        self.hint.setObjectName("paletteHint")
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.hint)
        self.search.textChanged.connect(self._refill)
        self.search.installEventFilter(self)
        self.list.itemActivated.connect(self._run)
        metrics = self.fontMetrics()
        self.resize(metrics.horizontalAdvance("M") * 46, metrics.lineSpacing() * 22)
        self._refill("")

    def entries(self) -> list[tuple[str, str, bool]]:
        """What the list shows now: (text, shortcut, enabled) per row."""
        out: list[tuple[str, str, bool]] = []
        for row in range(self.list.count()):
            action: QAction = self.list.item(row).data(ACTION_ROLE)
            out.append((plain_text(action), shortcut_text(action), action.isEnabled()))
        return out

    def _refill(self, text: str) -> None:
        words = text.lower().split()
        self.list.clear()
        for group in self._actions.groups():
            for action in group.actions:
                name = plain_text(action)
                haystack = f"{group.title} {name} {action.statusTip()}".lower()
                if not all(word in haystack for word in words):
                    continue
                keys = shortcut_text(action)
                label = f"{name.rstrip('…')}    {keys}" if keys else name.rstrip("…")
                item = QListWidgetItem(label, self.list)
                item.setData(ACTION_ROLE, action)
                item.setToolTip(action.statusTip())
                if not action.isEnabled():
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                    item.setToolTip(f"{action.statusTip()} — select an incident first")
        for row in range(self.list.count()):
            if self.list.item(row).flags() & Qt.ItemFlag.ItemIsEnabled:
                self.list.setCurrentRow(row)
                break

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Up/Down and Enter in the search box drive the list, so the hands stay on the keys.
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._step(1 if key == Qt.Key.Key_Down else -1)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                item = self.list.currentItem()
                if item is not None:
                    self._run(item)
                return True
        return super().eventFilter(watched, event)

    def _step(self, delta: int) -> None:
        row = self.list.currentRow()
        for _ in range(self.list.count()):
            row = (row + delta) % max(1, self.list.count())
            if self.list.item(row).flags() & Qt.ItemFlag.ItemIsEnabled:
                self.list.setCurrentRow(row)
                return

    def _run(self, item: QListWidgetItem) -> None:
        action: QAction = item.data(ACTION_ROLE)
        if not action.isEnabled():
            return
        self.accept()
        action.trigger()
