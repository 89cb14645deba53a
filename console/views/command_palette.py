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


def key_label(action: QAction) -> str:
    """The keys as the operator presses them: ``a`` (not ``A``), ``Shift+A``, ``Ctrl+K``."""
    keys = shortcut_text(action)
    return keys.lower() if len(keys) == 1 else keys


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
        """What the list shows now: (text, keys as shown, enabled) per row."""
        out: list[tuple[str, str, bool]] = []
        for row in range(self.list.count()):
            action = self.list.item(row).data(ACTION_ROLE)
            if isinstance(action, QAction):
                out.append((plain_text(action), key_label(action), action.isEnabled()))
        return out

    def _refill(self, text: str) -> None:
        words = text.lower().split()
        self.list.clear()
        found: list[tuple[int, int, QAction]] = []
        for group in self._actions.groups():
            for action in group.actions:
                name = plain_text(action).lower()
                haystack = f"{group.title} {name} {action.statusTip()}".lower()
                if not all(word in haystack for word in words):
                    continue
                # Best first: the name starts with what was typed, then holds every
                # word, then only the description does; menu order within each.
                if words and name.startswith(words[0]):
                    rank = 0
                elif all(word in name for word in words):
                    rank = 1
                else:
                    rank = 2
                found.append((rank, len(found), action))
        for _rank, _order, action in sorted(found, key=lambda item: item[:2]):
            name = plain_text(action)
            keys = key_label(action)
            label = f"{name.rstrip('…')}    {keys}" if keys else name.rstrip("…")
            item = QListWidgetItem(label, self.list)
            item.setData(ACTION_ROLE, action)
            item.setToolTip(action.statusTip())
            if not action.isEnabled():
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                why = (
                    "select an incident first"
                    if action in self._actions.incident_actions
                    else "not available here"
                )
                item.setToolTip(f"{action.statusTip()} — {why}")
        if not found:
            empty = QListWidgetItem(f"No action matches “{text.strip()}” — try fewer letters")
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(empty)
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
        action = item.data(ACTION_ROLE)
        if not isinstance(action, QAction) or not action.isEnabled():
            return
        self.accept()
        action.trigger()
