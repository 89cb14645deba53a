"""``--demo``: every window says DEMO, so made-up data is never taken for the real queue.

:func:`mark_demo_windows` installs an application-wide event filter that puts
``DEMO — `` in front of the title of each window (main window, dialogs, the
wall, message boxes) as it is shown or retitled.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget

DEMO_PREFIX = "DEMO — "


class DemoTitles(QObject):
    """Keeps ``DEMO — `` in front of every window title."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if (
            kind in (QEvent.Type.Show, QEvent.Type.WindowTitleChange)
            and isinstance(watched, QWidget)
            and watched.isWindow()
        ):
            mark_title(watched)
        return False


def mark_title(widget: QWidget) -> None:
    """Prefix the window's title with ``DEMO — `` (once)."""
    title = widget.windowTitle()
    if not title.startswith(DEMO_PREFIX):
        widget.setWindowTitle(DEMO_PREFIX + (title or "NOC Console"))


def mark_demo_windows(app: QApplication, owner: QObject | None = None) -> DemoTitles:
    """Mark every window of ``app`` from now on (and those already shown).

    The marker lives as long as ``owner`` (the main window or the wall; default:
    the application), and stops marking when it goes.
    """
    marker = DemoTitles(owner if owner is not None else app)
    app.installEventFilter(marker)
    for widget in app.topLevelWidgets():
        if widget.isVisible():
            mark_title(widget)
    return marker
