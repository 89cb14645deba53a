"""The permanent warning shown while the console talks to a backend over plain HTTP.

``--insecure-http`` lets an operator use an ``http://`` backend on another
machine (a lab, a trusted segment). The token then crosses the network in
clear text, so the window says so for as long as it is open: a strip across
the top that cannot be closed, moved or hidden from the toolbar menu.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow, QSizePolicy, QToolBar

OBJECT_NAME = "insecureBanner"
# Its own colours, the same in every theme: it must stand out on all of them.
_STYLE = (
    "QToolBar#insecureBanner { background: #8b1a1a; border: none; padding: 2px; }"
    "QToolBar#insecureBanner QLabel { color: #ffffff; font-weight: bold; padding: 4px 8px; }"
)


def install_insecure_banner(window: QMainWindow, text: str) -> QToolBar:
    """Add the warning strip above everything else in ``window``; returns it."""
    bar = QToolBar("Insecure connection", window)
    bar.setObjectName(OBJECT_NAME)
    bar.setMovable(False)
    bar.setFloatable(False)
    bar.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
    bar.toggleViewAction().setEnabled(False)  # not hideable from the toolbar menu
    bar.toggleViewAction().setVisible(False)
    bar.setStyleSheet(_STYLE)
    label = QLabel(f"⚠ {text}", bar)
    label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    label.setAccessibleName("Insecure connection warning")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    bar.addWidget(label)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    window.insertToolBarBreak(bar)
    return bar
