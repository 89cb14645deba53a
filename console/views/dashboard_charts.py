"""Chart cards for the metrics dashboard: a pyqtgraph chart, the same data as a table,
and Copy / PNG / CSV export.

Every chart is also a table (Tab to it, select, Ctrl+C; screen readers read it
as a table), because a chart alone is neither accessible nor copyable.
"""

from __future__ import annotations

import csv
import importlib
import io
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    import pyqtgraph as pg

Cell = str | int | float | None

# pyqtgraph (and numpy under it) takes most of a second to import: the
# dashboard's frame is built without it, and the import runs on a thread.
_loaded = threading.Event()
_loading_lock = threading.Lock()
_loader: threading.Thread | None = None


def _import_pyqtgraph() -> None:
    importlib.import_module("pyqtgraph")
    _loaded.set()


def preload_charts() -> threading.Thread | None:
    """Import the chart library on a background thread (once); the thread, None if done."""
    global _loader
    with _loading_lock:
        if _loaded.is_set():
            return None
        if _loader is None:
            _loader = threading.Thread(
                target=_import_pyqtgraph, name="dashboard-import", daemon=True
            )
            _loader.start()
        return _loader


def charts_ready() -> bool:
    """The chart library is imported (charts can be drawn without a stall)."""
    return _loaded.is_set()


def _pg() -> ModuleType:
    import pyqtgraph

    _loaded.set()
    return pyqtgraph


# Severity colours, the same hues the queue uses (SEV-1 red … SEV-4 grey-blue).
SEVERITY_COLOURS = {
    "SEV-1": "#d64541",
    "SEV-2": "#e67e22",
    "SEV-3": "#d4ac0d",
    "SEV-4": "#5d8aa8",
}
SERIES_COLOURS = ("#3b82f6", "#d64541", "#e67e22", "#10b981", "#8b5cf6")
_NOTHING = object()  # no chart drawn yet


def cell_text(value: Cell) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def csv_text(columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """The table as CSV (empty cells for missing values)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


class ChartCard(QFrame):
    """A titled chart with its data as a table, and Copy, PNG and CSV buttons.

    Cheap to build: the pyqtgraph plot is made on first use (:attr:`plot`) and
    the table is filled when it is shown. :meth:`draw` records what the chart
    should show; the dashboard runs it (:meth:`render_chart`) one card per event-loop
    turn, only for the tab on screen, and a chart whose data did not change is
    not redrawn.
    """

    def __init__(
        self,
        title: str,
        definition: str,
        parent: QWidget | None = None,
        *,
        table_only: bool = False,
        legend_columns: int = 1,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("chartCard")
        # Applied when the plot is made: touching the legend here would import
        # pyqtgraph on the GUI thread (a third of a second) as the tab opens.
        self._legend_columns = legend_columns
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = title
        self.definition = definition
        self.columns: list[str] = []
        self.rows: list[list[Cell]] = []
        self._plot: pg.PlotWidget | None = None
        self._legend: pg.LegendItem | None = None
        self._pending: tuple[object, Callable[[ChartCard], None]] | None = None
        self._drawn: object = _NOTHING
        self._table_stale = False
        heading = QLabel(f"<b>{title}</b>")
        heading.setToolTip(definition)
        heading.setAccessibleDescription(definition)
        self.toggle = QPushButton("Table")
        self.toggle.setCheckable(True)
        self.toggle.setToolTip("Show the chart's data as a table (accessible, copyable)")
        copy = QPushButton("Copy")
        copy.setToolTip("Copy the data to the clipboard (tab-separated, pastes into a sheet)")
        png = QPushButton("PNG…")
        png.setToolTip("Save the chart as a PNG picture")
        save_csv = QPushButton("CSV…")
        save_csv.setToolTip("Save the data as a CSV file")
        for button in (self.toggle, copy, png, save_csv):
            button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
            button.setStyleSheet("padding: 1px 6px;")
        top = QHBoxLayout()
        top.addWidget(heading, 1)
        for button in (self.toggle, copy, png, save_csv):
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            top.addWidget(button)
        self.placeholder = QLabel("Drawing the chart…")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setToolTip(definition)
        self.table = QTableWidget()
        self.table.setAccessibleName(f"{title} (table)")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.table)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        self.toggle.toggled.connect(self._show_table)
        if table_only:  # figures with no chart: the table, copyable and saved as CSV
            self.toggle.setChecked(True)
            self.toggle.hide()
            png.hide()
        copy.clicked.connect(self.copy)
        png.clicked.connect(self._ask_png)
        save_csv.clicked.connect(self._ask_csv)

    @property
    def plot(self) -> pg.PlotWidget:
        """The chart (made on first use: a pyqtgraph plot costs tens of milliseconds)."""
        if self._plot is None:
            plot = _pg().PlotWidget()
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.showGrid(x=False, y=True, alpha=0.25)
            plot.setToolTip(self.definition)
            self._legend = plot.addLegend(offset=(8, 4), labelTextSize="8pt")
            if self._legend_columns > 1:
                self._legend.setColumnCount(self._legend_columns)
            palette = self.palette()
            plot.setBackground(palette.color(QPalette.ColorRole.Base))
            text = palette.color(QPalette.ColorRole.Text)
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(_pg().mkPen(text))
                axis.setTextPen(_pg().mkPen(text))
            self._plot = plot
            self.stack.insertWidget(0, plot)
            self.stack.removeWidget(self.placeholder)
            self.placeholder.hide()
            self.stack.setCurrentIndex(1 if self.toggle.isChecked() else 0)
        return self._plot

    @property
    def legend(self) -> pg.LegendItem:
        self.plot  # noqa: B018 — makes the legend with the plot
        assert self._legend is not None
        return self._legend

    def _show_table(self, on: bool) -> None:
        if on and self._table_stale:
            self._fill_table()
        self.stack.setCurrentIndex(1 if on else 0)

    # ------------------------------------------------------------------ data

    def set_data(self, columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
        """The table (and CSV) behind the chart; the table widget fills when shown."""
        columns, fresh = list(columns), [list(r) for r in rows]
        if columns == self.columns and fresh == self.rows:
            return
        self.columns, self.rows = columns, fresh
        self._table_stale = True
        if self.toggle.isChecked():
            self._fill_table()

    def _fill_table(self) -> None:
        self._table_stale = False
        self.table.clear()
        self.table.setColumnCount(len(self.columns))
        self.table.setRowCount(len(self.rows))
        self.table.setHorizontalHeaderLabels(self.columns)
        for r, row in enumerate(self.rows):
            for c, value in enumerate(row):
                item = QTableWidgetItem(cell_text(value))
                if isinstance(value, int | float):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()

    def draw(self, key: object, paint: Callable[[ChartCard], None]) -> None:
        """What the chart shows: ``paint(card)`` draws it from scratch; ``key`` is its data.

        Nothing is queued when ``key`` equals what is on the chart already.
        """
        if key == self._drawn:
            self._pending = None
            return
        self._pending = (key, paint)

    @property
    def pending(self) -> bool:
        return self._pending is not None

    def render_chart(self) -> None:
        """Draw what :meth:`draw` recorded (GUI thread)."""
        if self._pending is None:
            return
        key, paint = self._pending
        self._pending = None
        self.clear_chart()
        paint(self)
        self._drawn = key

    def clear_chart(self) -> None:
        self.plot.clear()
        self.legend.clear()

    def set_categories(self, labels: Sequence[str], *, every: int = 1) -> None:
        """Text labels on the x axis at 0, 1, 2 … (every ``every``-th shown)."""
        ticks = [(i, label) for i, label in enumerate(labels) if i % every == 0]
        self.plot.getAxis("bottom").setTicks([ticks])

    def line(self, name: str, values: Sequence[float | None], colour: str) -> None:
        xs = [i for i, v in enumerate(values) if v is not None]
        ys = [float(v) for v in values if v is not None]
        pen = _pg().mkPen(QColor(colour), width=2)
        self.plot.plot(xs, ys, pen=pen, symbol="o", symbolSize=5, symbolBrush=colour, name=name)

    def target(self, name: str, value: float, colour: str) -> None:
        """A dashed horizontal target line, labelled at the right end.

        Targets often lie close together (SEV-1 15 min, SEV-2 30 min): every
        second one is labelled at the left end, so the labels never overlap.
        """
        pen = _pg().mkPen(QColor(colour), width=1, style=Qt.PenStyle.DashLine)
        nth = sum(isinstance(item, _pg().InfiniteLine) for item in self.plot.getPlotItem().items)
        options: dict[str, object] = (
            {"position": 0.98, "color": colour, "anchors": [(1, 1), (1, 1)]}
            if nth % 2 == 0
            else {"position": 0.02, "color": colour, "anchors": [(0, 1), (0, 1)]}
        )
        line = _pg().InfiniteLine(pos=value, angle=0, pen=pen, label=name, labelOpts=options)
        self.plot.addItem(line)

    def bars(
        self,
        stacks: Sequence[tuple[str, Sequence[float], str]],
        *,
        width: float = 0.7,
    ) -> None:
        """Bars at 0, 1, 2 …; several series are stacked in the order given."""
        base = [0.0] * (len(stacks[0][1]) if stacks else 0)
        for name, values, colour in stacks:
            heights = [float(v) for v in values]
            item = _pg().BarGraphItem(
                x=list(range(len(heights))), height=heights, y0=list(base), width=width,
                brush=QColor(colour), pen=_pg().mkPen(QColor(colour).darker(130)), name=name,
            )  # fmt: skip
            self.plot.addItem(item)
            base = [b + h for b, h in zip(base, heights, strict=True)]

    # ---------------------------------------------------------------- export

    def copy(self) -> None:
        """The data, tab-separated, on the clipboard."""
        lines = ["\t".join(self.columns)]
        lines += ["\t".join("" if v is None else str(v) for v in row) for row in self.rows]
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText("\n".join(lines) + "\n")

    def save_png(self, path: Path) -> bool:
        self.render_chart()
        return bool(self.plot.grab().save(str(path), "PNG"))

    def save_csv(self, path: Path) -> None:
        path.write_text(csv_text(self.columns, self.rows), encoding="utf-8")

    def _slug(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.title.lower()).strip("-")

    def _ask_png(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save chart", f"{self._slug()}.png", "PNG (*.png)"
        )
        if name:
            self.save_png(Path(name))

    def _ask_csv(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save data", f"{self._slug()}.csv", "CSV (*.csv)"
        )
        if name:
            self.save_csv(Path(name))
