"""The main window's actions, in one place (menus and shortcuts are built from these)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence


class MainWindowActions(QObject):
    """Quit, theme choice and About, with their shortcuts.

    The actions only say what the operator asked for (signals); the wiring in
    ``console.app`` decides what happens, so these stay free of settings and I/O.
    """

    theme_chosen = Signal(str)
    """The operator picked a theme in the View menu (its name)."""

    def __init__(
        self,
        themes: Sequence[tuple[str, str]],
        current_theme: str,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.quit = QAction("&Quit", self)
        self.quit.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit.setStatusTip("Close NOC Console")

        self.theme_group = QActionGroup(self)
        self.theme_group.setExclusive(True)
        self.themes: dict[str, QAction] = {}
        for name, label in themes:
            action = QAction(label, self)
            action.setCheckable(True)
            action.setChecked(name == current_theme)
            action.setData(name)
            self.theme_group.addAction(action)
            self.themes[name] = action
        self.theme_group.triggered.connect(lambda action: self.theme_chosen.emit(action.data()))

        self.about = QAction("&About NOC Console", self)
        self.about.setMenuRole(QAction.MenuRole.AboutRole)
