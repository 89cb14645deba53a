"""Wiring of the metrics dashboard into the main window (Ctrl+6).

The dashboard reads the local cache on a worker thread
(:class:`console.models.dashboard.DashboardLoader`); every change the queue's
model sees asks for a fresh snapshot (coalesced), and a timer keeps the
backlog ages current while nothing changes.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QKeySequence

from console.domain.sla import SlaPolicy
from console.models.dashboard import DashboardLoader
from console.store import Cache
from console.views.dashboard import DashboardView
from console.views.main_window import MainWindow

SHORTCUT = "Ctrl+6"
AGE_REFRESH_MS = 5 * 60_000
"""While nothing changes, the backlog's ages still grow: recompute every 5 minutes."""


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
    show = QAction("&Metrics dashboard", window)
    show.setShortcut(QKeySequence(SHORTCUT))
    show.setToolTip("MTTA, MTTR, SLA compliance, FCR, reopens, CSAT and volume")
    show.triggered.connect(lambda: window.tabs.setCurrentWidget(view))
    window.addAction(show)
    view.loader = loader  # type: ignore[attr-defined]
    loader.refresh_now()
    return view
