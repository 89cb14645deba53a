"""The metrics dashboard (Ctrl+6): executive, team and individual tabs.

Executive: the quarter's headline figures, MTTA / MTTR / SLA compliance per
week with their targets, volume per week stacked by severity, the open
backlog by age and the incidents' sources. Team: workload and performance
per team against the SLA goal. Individual: the operator's own throughput and
quality. Every chart is also a table and exports as PNG and CSV; every
figure's tooltip is its definition (:data:`console.domain.metrics.DEFINITIONS`,
the words of docs/metrics.md). The figures come from
:class:`console.models.dashboard.DashboardLoader`, off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.domain.metrics import DEFINITIONS
from console.models.dashboard import COMPLIANCE_TARGET, SEVERITIES, DashboardSnapshot
from console.views.dashboard_charts import (
    SERIES_COLOURS,
    SEVERITY_COLOURS,
    Cell,
    ChartCard,
    charts_ready,
    preload_charts,
)

IMPORT_POLL_MS = 30

# The headline figures: (label, key in a report's figures, formatter, definition key).
KPIS = (
    ("Incidents", "count", "count"),
    ("MTTA (mean)", "mtta_s", "mtta_s"),
    ("MTTR (mean)", "mttr_s", "mttr_s"),
    ("Response SLA", "response_sla_met", "response_sla_met"),
    ("Resolution SLA", "resolution_sla_met", "resolution_sla_met"),
    ("FCR", "fcr", "fcr"),
    ("Reopen rate", "reopen_rate", "reopen_rate"),
    ("CSAT", "csat", "csat"),
)


def minutes(seconds: float | int | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def hours(seconds: float | int | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def kpi_text(key: str, figures: dict[str, Any]) -> str:
    value = figures[key]
    if key in ("mtta_s", "mttr_s"):
        mean = value["mean"]
        if mean is None:
            return "—"
        return f"{mean / 60:.0f} min" if key == "mtta_s" else f"{mean / 3600:.1f} h"
    if value is None:
        return "—"
    if key == "count":
        return str(value)
    if key == "csat":
        return f"{value:.2f} / 5"
    return f"{value:.1%}"


class KpiStrip(QWidget):
    """The headline figures in a row, each with its definition as tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.values: dict[str, QLabel] = {}
        for label, key, definition in KPIS:
            box = QVBoxLayout()
            name = QLabel(label)
            value = QLabel("—")
            value.setObjectName("kpiValue")
            font = value.font()
            font.setPointSizeF(font.pointSizeF() * 1.6)
            font.setBold(True)
            value.setFont(font)
            for widget in (name, value):
                widget.setToolTip(DEFINITIONS[definition])
                widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
            value.setAccessibleName(label)
            box.addWidget(value)
            box.addWidget(name)
            layout.addLayout(box)
            self.values[key] = value

    def show_figures(self, figures: dict[str, Any]) -> None:
        for key, label in self.values.items():
            label.setText(kpi_text(key, figures))


REVIEWS_DEFINITION = (
    "Post-incident reviews as they stand now, whatever the window: a review is due from "
    "its incident's resolution until it is held, overdue once its due date passed "
    "unheld; an action item is overdue when it is still open past its due date. "
    "The Reviews view (Ctrl+5) lists them."
)


def reviews_text(snapshot: DashboardSnapshot) -> str:
    """``Post-incident reviews: 7 due, ⚠ 1 overdue · action items: ⚠ 4 overdue``."""
    due, late, items = (
        snapshot.reviews_due,
        snapshot.reviews_overdue,
        snapshot.action_items_overdue,
    )
    if not (due or items):
        return "Post-incident reviews: none due · action items: none overdue"
    reviews = f"{due} due" + (f", ⚠ {late} overdue" if late else ", none overdue")
    actions = f"⚠ {items} overdue" if items else "none overdue"
    return f"Post-incident reviews: {reviews} · action items: {actions}"


def _scrolling(page: QWidget) -> QScrollArea:
    """A tab page that scrolls when the window is narrower than its charts."""
    page.setMinimumSize(1000, 560)
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(page)
    return area


def _week_labels(weeks: Sequence[str]) -> list[str]:
    return [w[5:] for w in weeks]  # "2026-11-30" → "11-30"


class DashboardView(QWidget):
    """The three tabs; :meth:`show_snapshot` fills them (GUI thread).

    ``charts_drawn`` fires when every chart of the tab on screen is drawn.
    """

    charts_drawn = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboard")
        self.snapshot: DashboardSnapshot | None = None
        self._updating = False
        # One chart per event-loop turn, so a refresh never holds the GUI for long.
        self._drawer = QTimer(self)
        self._drawer.setSingleShot(True)
        self._drawer.setInterval(0)
        self._drawer.timeout.connect(self._draw_next)
        self.status = QLabel("Computing the metrics…")
        self.status.setToolTip(DEFINITIONS["window"])
        self.warning = QLabel()
        self.warning.setObjectName("metricsWarning")
        self.warning.setStyleSheet("color: #d64541; font-weight: bold;")
        self.warning.setToolTip(DEFINITIONS["sev1_share"])
        self.warning.hide()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.warning)
        layout.addWidget(self.tabs, 1)

        # Executive.
        executive = QWidget()
        self.kpis = KpiStrip()
        self.mtta = ChartCard("MTTA per week (minutes)", DEFINITIONS["mtta_s"])
        self.mttr = ChartCard("MTTR per week (hours)", DEFINITIONS["mttr_s"])
        self.sla = ChartCard(
            "SLA compliance per week (%)",
            DEFINITIONS["response_sla_met"] + "\n\n" + DEFINITIONS["resolution_sla_met"],
        )
        self.volume = ChartCard(
            "Volume per week by severity", DEFINITIONS["count"], legend_columns=4
        )
        self.backlog = ChartCard("Open backlog by age", DEFINITIONS["backlog"])
        self.sources = ChartCard("Sources", DEFINITIONS["sources"])
        grid = QGridLayout()
        for index, card in enumerate(
            (self.mtta, self.mttr, self.sla, self.volume, self.backlog, self.sources)
        ):
            grid.addWidget(card, index // 3, index % 3)
        self.reviews = QLabel("Post-incident reviews: —")
        self.reviews.setObjectName("metricsReviews")
        self.reviews.setToolTip(REVIEWS_DEFINITION)
        self.reviews.setAccessibleName("Post-incident reviews")
        column = QVBoxLayout(executive)
        column.addWidget(self.kpis)
        column.addWidget(self.reviews)
        column.addLayout(grid, 1)
        self.tabs.addTab(_scrolling(executive), "E&xecutive")
        executive_cards = [self.mtta, self.mttr, self.sla, self.volume, self.backlog, self.sources]

        # Team.
        team = QWidget()
        self.team_sla = ChartCard(
            "Resolution SLA compliance per team (%)", DEFINITIONS["resolution_sla_met"]
        )
        self.team_load = ChartCard("Workload per team (incidents)", DEFINITIONS["count"])
        self.team_table = ChartCard("Team figures", DEFINITIONS["window"], table_only=True)
        team_grid = QGridLayout(team)
        team_grid.addWidget(self.team_sla, 0, 0)
        team_grid.addWidget(self.team_load, 0, 1)
        team_grid.addWidget(self.team_table, 1, 0, 1, 2)
        team_grid.setRowStretch(0, 3)
        team_grid.setRowStretch(1, 2)
        self.tabs.addTab(_scrolling(team), "&Team")

        # Individual.
        mine = QWidget()
        self.mine_heading = QLabel()
        self.mine_kpis = KpiStrip()
        self.mine_throughput = ChartCard("My resolved incidents per week", DEFINITIONS["resolved"])
        self.mine_quality = ChartCard(
            "My figures by severity", DEFINITIONS["window"], table_only=True
        )
        mine_layout = QVBoxLayout(mine)
        mine_layout.addWidget(self.mine_heading)
        mine_layout.addWidget(self.mine_kpis)
        row = QHBoxLayout()
        row.addWidget(self.mine_throughput, 1)
        row.addWidget(self.mine_quality, 1)
        mine_layout.addLayout(row, 1)
        self.tabs.addTab(_scrolling(mine), "&Individual")
        self._page_cards: list[list[ChartCard]] = [
            executive_cards,
            [self.team_sla, self.team_load, self.team_table],
            [self.mine_throughput, self.mine_quality],
        ]
        self.tabs.currentChanged.connect(self._drawer.start)

    def cards(self) -> list[ChartCard]:
        return [card for page in self._page_cards for card in page]

    def show_failure(self, text: str) -> None:
        self.status.setText(text)

    def set_updating(self, on: bool) -> None:
        """A new computation is running: the figures on screen are marked as the older ones."""
        self._updating = on
        self._show_status()

    def _show_status(self) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            self.status.setText("Computing the metrics…")
            return
        weeks = snapshot.weeks
        text = (
            f"Incidents opened in the last {len(weeks)} weeks (from {weeks[0]}, UTC) · "
            f"figures as of {snapshot.computed_at:%H:%M:%S} UTC, computed in "
            f"{snapshot.took_ms:.0f} ms from the local cache"
        )
        if self._updating:
            text = f"⟳ updating…  {text}"
        self.status.setText(text)

    # ------------------------------------------------------------------ fill

    def show_snapshot(self, snapshot: DashboardSnapshot) -> None:
        """Show ``snapshot``: figures and tables at once, charts one per event-loop turn.

        Only the charts of the tab on screen are drawn; the others when their tab
        is opened. A chart whose data did not change is left as it is.
        """
        self.snapshot = snapshot
        self._updating = False
        self._show_status()
        warnings = snapshot.by_severity["warnings"]
        self.warning.setVisible(bool(warnings))
        self.warning.setText(" · ".join(w["message"] for w in warnings))
        self.kpis.show_figures(snapshot.by_severity["total"])
        self.reviews.setText(reviews_text(snapshot))
        self._executive(snapshot)
        self._team(snapshot)
        self._individual(snapshot)
        self._drawer.start()

    def pending_charts(self) -> list[ChartCard]:
        """The charts of the tab on screen still to be drawn."""
        index = self.tabs.currentIndex()
        if not 0 <= index < len(self._page_cards):
            return []
        return [card for card in self._page_cards[index] if card.pending]

    def _draw_next(self) -> None:
        pending = self.pending_charts()
        if not pending:
            self.charts_drawn.emit()
            return
        if not charts_ready():
            # The chart library is still being imported on its thread: the frame
            # and the figures are up, the charts follow when it is in.
            preload_charts()
            QTimer.singleShot(IMPORT_POLL_MS, self._drawer.start)
            return
        pending[0].render_chart()
        if len(pending) > 1:
            self._drawer.start()
        else:
            self.charts_drawn.emit()

    def flush(self) -> None:
        """Draw every chart of every tab now (exports, tests, screenshots)."""
        for card in self.cards():
            card.render_chart()

    def _trend(
        self,
        card: ChartCard,
        snapshot: DashboardSnapshot,
        key: str,
        scale: Any,
        targets: dict[str, float | None],
        unit: str,
    ) -> None:
        weeks = snapshot.weeks
        series: list[tuple[str, list[float | None]]] = [
            ("All", [scale(w[key]["mean"]) for w in snapshot.weekly])
        ]
        for code in ("SEV-1", "SEV-2"):
            series.append(
                (code, [scale(w[key]["mean"]) for w in snapshot.weekly_by_severity[code]])
            )
        lines = [
            (f"{code} target {scale(targets[code]):g} {unit}", scale(targets[code]), code)
            for code in ("SEV-1", "SEV-2")
            if targets.get(code) is not None
        ]
        colours = {"All": SERIES_COLOURS[0], **SEVERITY_COLOURS}

        def paint(card: ChartCard) -> None:
            card.set_categories(_week_labels(weeks), every=2)
            for name, values in series:
                card.line(name, values, colours[name])
            for name, value, code in lines:
                card.target(name, value, SEVERITY_COLOURS[code])

        card.set_data(
            ["week", *(f"{name} mean ({unit})" for name, _ in series)],
            [[w, *(values[i] for _, values in series)] for i, w in enumerate(weeks)],
        )
        card.draw((weeks, series, lines), paint)

    def _executive(self, snapshot: DashboardSnapshot) -> None:
        weeks = snapshot.weeks
        labels = _week_labels(weeks)
        self._trend(self.mtta, snapshot, "mtta_s", minutes, dict(snapshot.response_targets), "min")
        self._trend(self.mttr, snapshot, "mttr_s", hours, dict(snapshot.resolution_targets), "h")

        response = [percent(w["response_sla_met"]) for w in snapshot.weekly]
        resolution = [percent(w["resolution_sla_met"]) for w in snapshot.weekly]

        def sla(card: ChartCard) -> None:
            card.set_categories(labels, every=2)
            card.line("Response", response, SERIES_COLOURS[0])
            card.line("Resolution", resolution, SERIES_COLOURS[3])
            card.target(f"goal {COMPLIANCE_TARGET:.0%}", COMPLIANCE_TARGET * 100, "#888888")
            low = min([v for v in (*response, *resolution) if v is not None] + [80])
            card.plot.setYRange(low - 2, 101)

        self.sla.set_data(
            ["week", "response SLA met (%)", "resolution SLA met (%)"],
            [[w, response[i], resolution[i]] for i, w in enumerate(weeks)],
        )
        self.sla.draw((weeks, response, resolution), sla)

        stacks = [
            (code, [w["count"] for w in snapshot.weekly_by_severity[code]], SEVERITY_COLOURS[code])
            for code in SEVERITIES
        ]
        self.volume.set_data(
            ["week", *SEVERITIES, "total"],
            [
                [w, *(values[i] for _, values, _ in stacks), snapshot.weekly[i]["count"]]
                for i, w in enumerate(weeks)
            ],
        )
        self.volume.draw((weeks, stacks), lambda card: _bars(card, labels, stacks, every=2))

        backlog = snapshot.by_severity["backlog"]
        buckets = [b["bucket"] for b in backlog]
        open_stack = [("open", [b["count"] for b in backlog], SERIES_COLOURS[4])]
        self.backlog.set_data(
            ["age", "open incidents"], [[b["bucket"], b["count"]] for b in backlog]
        )
        self.backlog.draw((buckets, open_stack), lambda card: _bars(card, buckets, open_stack))

        by_source = snapshot.by_source
        groups = by_source["groups"]
        names = [str(g["key"]) for g in groups]
        counts = [("incidents", [g["count"] for g in groups], SERIES_COLOURS[0])]
        summary = by_source["sources"]
        ratio = summary["ratio"]
        title = f"user-reported {summary['user_reported']} : monitoring {summary['monitoring']}" + (
            f"  (ratio {ratio:.2f})" if ratio is not None else ""
        )

        def sources(card: ChartCard) -> None:
            _bars(card, names, counts)
            card.plot.setTitle(title, size="8pt")

        self.sources.set_data(["source", "incidents"], [[g["key"], g["count"]] for g in groups])
        self.sources.draw((names, counts, title), sources)

    def _team(self, snapshot: DashboardSnapshot) -> None:
        groups = snapshot.by_team["groups"]
        names = [g["key"] or "(no team)" for g in groups]
        met = [("resolution SLA", [percent(g["resolution_sla_met"]) or 0 for g in groups],
                SERIES_COLOURS[3])]  # fmt: skip

        def team_sla(card: ChartCard) -> None:
            _bars(card, names, met)
            card.target(f"goal {COMPLIANCE_TARGET:.0%}", COMPLIANCE_TARGET * 100, "#888888")

        self.team_sla.set_data(
            ["team", "resolution SLA met (%)"],
            [[n, percent(g["resolution_sla_met"])] for n, g in zip(names, groups, strict=True)],
        )
        self.team_sla.draw((names, met), team_sla)
        load = [
            ("resolved", [g["resolved"] for g in groups], SERIES_COLOURS[3]),
            ("open", [g["count"] - g["resolved"] for g in groups], SERIES_COLOURS[1]),
        ]
        self.team_load.set_data(
            ["team", "resolved", "not resolved"],
            [
                [n, g["resolved"], g["count"] - g["resolved"]]
                for n, g in zip(names, groups, strict=True)
            ],
        )
        self.team_load.draw((names, load), lambda card: _bars(card, names, load))
        self.team_table.set_data(*figure_table("team", groups, names))

    def _individual(self, snapshot: DashboardSnapshot) -> None:
        if snapshot.operator is None or snapshot.mine is None:
            self.mine_heading.setText(
                "Set `operator` in settings.toml to your name to see your own figures."
            )
            return
        self.mine_heading.setText(
            f"Incidents assigned to {snapshot.operator}, "
            f"opened in the last {len(snapshot.weeks)} weeks"
        )
        self.mine_kpis.show_figures(snapshot.mine["total"])
        weeks = snapshot.weeks
        resolved = [float(w["resolved"]) for w in snapshot.mine_weekly]

        def throughput(card: ChartCard) -> None:
            card.set_categories(_week_labels(weeks), every=2)
            card.line("resolved", list(resolved), SERIES_COLOURS[3])

        self.mine_throughput.set_data(
            ["week", "resolved"], [[w, int(resolved[i])] for i, w in enumerate(weeks)]
        )
        self.mine_throughput.draw((weeks, resolved), throughput)
        groups = snapshot.mine["groups"]
        self.mine_quality.set_data(*figure_table("severity", groups, [g["key"] for g in groups]))


def _bars(
    card: ChartCard,
    labels: Sequence[str],
    stacks: Sequence[tuple[str, Sequence[float], str]],
    *,
    every: int = 1,
) -> None:
    card.set_categories(labels, every=every)
    card.bars(stacks)


def figure_table(
    name: str, groups: Sequence[dict[str, Any]], labels: Sequence[str]
) -> tuple[list[str], list[list[Cell]]]:
    """Every figure per group, as table columns and rows."""
    columns = [
        name, "count", "resolved", "MTTA mean (min)", "MTTR mean (h)", "MTTR p90 (h)",
        "response SLA (%)", "resolution SLA (%)", "FCR (%)", "reopen (%)", "CSAT",
    ]  # fmt: skip
    rows: list[list[Cell]] = [
        [
            label,
            g["count"],
            g["resolved"],
            minutes(g["mtta_s"]["mean"]),
            hours(g["mttr_s"]["mean"]),
            hours(g["mttr_s"]["p90"]),
            percent(g["response_sla_met"]),
            percent(g["resolution_sla_met"]),
            percent(g["fcr"]),
            percent(g["reopen_rate"]),
            g["csat"],
        ]
        for label, g in zip(labels, groups, strict=True)
    ]
    return columns, rows
