"""Wiring of the metrics dashboard (Ctrl+6) and the CSAT action into the main window.

The dashboard reads the local cache on a worker thread
(:class:`console.models.dashboard.DashboardLoader`); every change the queue's
model sees asks for a fresh snapshot (coalesced) while the tab is on screen,
and a timer keeps the backlog ages current while nothing changes. The view
itself (and pyqtgraph) is built when the tab is first opened
(:class:`DashboardTab`).
"""

from __future__ import annotations

import threading
from typing import Protocol

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from console.domain.errors import DomainError
from console.domain.sla import SlaPolicy
from console.models.dashboard import DashboardLoader, DashboardSnapshot
from console.store import Cache
from console.views.csat_dialog import CsatDialog
from console.views.dashboard import DashboardView
from console.views.dashboard_charts import preload_charts
from console.views.main_window import MainWindow

AGE_REFRESH_MS = 5 * 60_000
"""While nothing changes, the backlog's ages still grow: recompute every 5 minutes."""
PREPARE_DELAY_MS = 2000
"""After start-up, when the chart library is imported and the first figures computed."""


class CsatRecorder(Protocol):
    """The edit that queues a CSAT score (:meth:`console.sync.edits.LocalEdits.add_csat`)."""

    def add_csat(self, incident_id: str, score: int, comment: str = "") -> object: ...


def add_csat_action(window: MainWindow, edits: CsatRecorder) -> QAction:
    """Incident → Record CSAT… (Ctrl+Shift+S, the registry's action) for the selected incident."""
    action = window.menu_actions.record_csat

    def record() -> None:
        incident = window.current_incident()
        if incident is None:
            window.show_refusal("Select a resolved or closed incident to record its CSAT score.")
            return
        dialog = CsatDialog(incident.number, window)
        if dialog.exec() != CsatDialog.DialogCode.Accepted or dialog.score is None:
            return
        try:
            edits.add_csat(incident.id, dialog.score, dialog.comment.text())
        except DomainError as exc:
            window.show_refusal(str(exc))
            return
        window.show_done(f"CSAT {dialog.score}/5 recorded on {incident.number}.")

    action.triggered.connect(record)
    action.setEnabled(True)
    return action


class DashboardTab(QWidget):
    """The Metrics tab: cheap until first opened, then the dashboard view.

    At start-up only this empty frame exists; the chart library (pyqtgraph) is
    imported on a background thread and the first snapshot computed a little later,
    so opening the tab (Ctrl+6) builds the view and shows the last good figures
    at once. Changes while the tab is hidden only mark the figures out of date;
    opening it shows them marked "updating…" while the worker recomputes.
    """

    def __init__(self, loader: DashboardLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader = loader
        self.view: DashboardView | None = None
        self._stale = True
        self.importer: threading.Thread | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        loader.started.connect(self._started)
        loader.loaded.connect(self._loaded)
        loader.failed.connect(self._failed)
        self._ages = QTimer(self)
        self._ages.setInterval(AGE_REFRESH_MS)
        self._ages.timeout.connect(self.changed)

    def prepare(self) -> None:
        """Start-up, once the window is up: import the charts off the GUI thread, compute."""
        self.importer = preload_charts()
        self._ages.start()
        if self.view is None and not self.loader.busy:
            self._stale = False
            self.loader.refresh_now()

    def changed(self, *_: object) -> None:
        """The incidents changed: recompute now if on screen (coalesced), else when opened."""
        if self.isVisible():
            self.loader.request()
        else:
            self._stale = True

    def ensure_view(self) -> DashboardView:
        """The dashboard view, built on first use with the last good figures in it."""
        if self.view is None:
            # Opened before start-up prepared it: the chart library comes in on
            # its thread while the figures are computed (the frame needs neither).
            self.importer = preload_charts()
            view = DashboardView(self)
            self._layout.addWidget(view)
            view.show()  # added while the tab shows: not shown with it otherwise
            if self.loader.last is not None:
                view.show_snapshot(self.loader.last)
            view.set_updating(self.loader.busy)
            self.view = view
        return self.view

    def showEvent(self, event: QShowEvent) -> None:
        view = self.ensure_view()
        super().showEvent(event)
        if self._stale and not self.loader.busy:
            self._stale = False
            self.loader.refresh_now()
        elif self.loader.busy:
            view.set_updating(True)

    def _started(self) -> None:
        if self.view is not None:
            self.view.set_updating(True)

    def _loaded(self, snapshot: DashboardSnapshot) -> None:
        if self.view is not None:
            self.view.show_snapshot(snapshot)

    def _failed(self, text: str) -> None:
        if self.view is not None:
            self.view.show_failure(text)


def add_dashboard(
    window: MainWindow, cache: Cache, *, policy: SlaPolicy, operator: str | None
) -> DashboardTab:
    """Add the Metrics tab to ``window``; it prepares itself once the event loop runs."""
    loader = DashboardLoader(cache, policy=policy, operator=operator)
    tab = DashboardTab(loader, window)
    loader.setParent(tab)
    model = window.model
    for signal in (model.dataChanged, model.rowsInserted, model.rowsRemoved, model.modelReset):
        signal.connect(tab.changed)
    window.tabs.addTab(tab, "&Metrics")
    show = window.menu_actions.show_metrics
    show.triggered.connect(lambda: window.tabs.setCurrentWidget(tab))
    show.setEnabled(True)
    QTimer.singleShot(PREPARE_DELAY_MS, tab.prepare)
    return tab
