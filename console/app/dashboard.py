"""Wiring of the metrics dashboard (Ctrl+6) and the CSAT action into the main window.

The dashboard reads the local cache on a worker thread
(:class:`console.models.dashboard.DashboardLoader`); every change the queue's
model sees asks for a fresh snapshot (coalesced), and a timer keeps the
backlog ages current while nothing changes.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction

from console.domain.errors import DomainError
from console.domain.sla import SlaPolicy
from console.models.dashboard import DashboardLoader
from console.store import Cache
from console.views.csat_dialog import CsatDialog
from console.views.dashboard import DashboardView
from console.views.main_window import MainWindow

AGE_REFRESH_MS = 5 * 60_000
"""While nothing changes, the backlog's ages still grow: recompute every 5 minutes."""


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


def add_dashboard(
    window: MainWindow, cache: Cache, *, policy: SlaPolicy, operator: str | None
) -> DashboardView:
    """Add the dashboard as a tab of ``window`` and start computing its first snapshot."""
    view = DashboardView(window)
    loader = DashboardLoader(cache, policy=policy, operator=operator, parent=view)
    loader.loaded.connect(view.show_snapshot)
    loader.failed.connect(view.show_failure)
    model = window.model
    for signal in (model.dataChanged, model.rowsInserted, model.rowsRemoved, model.modelReset):
        signal.connect(loader.request)
    ages = QTimer(view)
    ages.setInterval(AGE_REFRESH_MS)
    ages.timeout.connect(loader.refresh_now)
    ages.start()
    window.tabs.addTab(view, "&Metrics")
    show = window.menu_actions.show_metrics
    show.triggered.connect(lambda: window.tabs.setCurrentWidget(view))
    show.setEnabled(True)
    view.loader = loader  # type: ignore[attr-defined]
    loader.refresh_now()
    return view
