"""``noc-console --screenshot PATH``: the main window saved as a PNG once it shows its data."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from console.app.gui import EXIT_OK, EXIT_USER_ERROR, SCREENSHOT_TIMEOUT_MS
from console.views.main_window import MainWindow


class ScreenshotTaker(QObject):
    """Saves the window as a PNG once the table has painted its rows, then quits the app.

    Waiting for the table's first paint (rather than a fixed delay) makes the
    picture show the data whatever the machine's speed; a timeout still takes
    the picture if a paint never arrives.
    """

    def __init__(self, window: MainWindow, path: Path) -> None:
        super().__init__(window)
        self._window = window
        self._path = path
        self._taken = False
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.setInterval(SCREENSHOT_TIMEOUT_MS)
        self._timeout.timeout.connect(self.capture)

    def start(self) -> None:
        self._window.table.viewport().installEventFilter(self)
        self._timeout.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self._taken:
            # Let this paint (and any layout it triggers) finish first.
            QTimer.singleShot(0, self.capture)
        return False

    def capture(self) -> None:
        if self._taken:
            return
        self._taken = True
        self._timeout.stop()
        self._window.table.viewport().removeEventFilter(self)
        app = QApplication.instance()
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            saved = self._window.grab().save(str(self._path), "PNG")
        except OSError as exc:
            print(f"noc-console: cannot write the screenshot {self._path}: {exc}", file=sys.stderr)
            saved = False
        else:
            if not saved:
                print(f"noc-console: cannot write the screenshot {self._path}", file=sys.stderr)
        if app is not None:
            app.exit(EXIT_OK if saved else EXIT_USER_ERROR)
