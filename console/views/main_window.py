"""The main window: menus, the incident queue and a status bar that says how fresh the data is.

Wiring only. Actions live in :mod:`console.views.actions`; what they do is
decided by ``console.app``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QWidget

from console import __version__
from console.models.incident_table import IncidentTableModel
from console.views.actions import MainWindowActions
from console.views.incident_table import IncidentTableView

TICK_MS = 1000
"""How often the SLA clocks and the data age move (once a second, as the design says)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MainWindow(QMainWindow):
    """The console's window: the incident queue, with the connection state and data age below."""

    def __init__(
        self,
        model: IncidentTableModel,
        *,
        themes: Sequence[tuple[str, str]],
        current_theme: str,
        clock: Callable[[], datetime] = _utc_now,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("NOC Console")
        self._clock = clock
        self._data_time: datetime | None = None

        self.menu_actions = MainWindowActions(themes, current_theme, self)
        self.menu_actions.quit.triggered.connect(self.close)
        self.menu_actions.about.triggered.connect(self.show_about)
        self._build_menus()

        self.table = IncidentTableView(model, self)
        self.setCentralWidget(self.table)

        self.connection_label = QLabel(self)
        self.connection_label.setObjectName("connectionState")
        self.notice_label = QLabel(self)
        self.notice_label.setObjectName("notice")
        self.notice_label.setVisible(False)
        self.counts_label = QLabel(self)
        self.counts_label.setObjectName("counts")
        self.age_label = QLabel(self)
        self.age_label.setObjectName("dataAge")
        bar = self.statusBar()
        bar.setSizeGripEnabled(False)
        bar.addWidget(self.connection_label)
        bar.addWidget(self.notice_label, 1)
        bar.addPermanentWidget(self.counts_label)
        bar.addPermanentWidget(self.age_label)

        model.rowsInserted.connect(self._update_counts)
        model.rowsRemoved.connect(self._update_counts)
        model.modelReset.connect(self._update_counts)
        # An update can open or close an incident (cheap: the model keeps the count).
        model.dataChanged.connect(self._update_counts)
        self._update_counts()

        self.ticker = QTimer(self)
        self.ticker.setInterval(TICK_MS)
        self.ticker.timeout.connect(self.tick)
        self.ticker.start()
        self.refresh_age()

    @property
    def model(self) -> IncidentTableModel:
        return self.table.model()

    def set_connection_state(self, text: str, *, offline: bool = True) -> None:
        """Say where the data comes from (``Demo data — not connected to a backend``)."""
        self.connection_label.setText(text)
        self.connection_label.setProperty("offline", offline)
        # Re-polish so the style sheet's [offline="true"] rule follows the property.
        self.connection_label.style().unpolish(self.connection_label)
        self.connection_label.style().polish(self.connection_label)

    def set_data_time(self, when: datetime | None) -> None:
        """When the shown data was last loaded or synced (None: never)."""
        self._data_time = when
        self.refresh_age()

    def show_notice(self, text: str) -> None:
        """Show something the operator should know (a rebuilt cache) without blocking them."""
        self.notice_label.setText(text)
        self.notice_label.setToolTip(text)
        self.notice_label.setVisible(bool(text))

    def tick(self) -> None:
        """Once a second: move the SLA clocks and the data age."""
        self.model.tick(self._clock())
        self.refresh_age()

    def refresh_age(self) -> None:
        if self._data_time is None:
            self.age_label.setText("no data yet")
            return
        local = self._data_time.astimezone()
        age = _age_text((self._clock() - self._data_time).total_seconds())
        self.age_label.setText(f"data as of {local:%H:%M:%S} ({age})")

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About NOC Console",
            f"<h3>NOC Console {__version__}</h3>"
            "<p>Incident management for the operations centre, following ITIL 4: "
            "the live queue, SLA clocks and escalation for dispatchers, "
            "incident commanders and the wall display.</p>",
        )

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.menu_actions.quit)
        view_menu = bar.addMenu("&View")
        theme_menu = view_menu.addMenu("&Theme")
        for action in self.menu_actions.themes.values():
            theme_menu.addAction(action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.menu_actions.about)

    def _update_counts(self, *_: object) -> None:
        model = self.model
        self.counts_label.setText(f"{model.open_count} open · {model.rowCount()} total")


def _age_text(seconds: float) -> str:
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{int(seconds)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    hours = int(seconds // 3600)
    return f"{hours} h {int(seconds % 3600 // 60)} min ago"
