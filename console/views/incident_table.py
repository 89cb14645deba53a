"""The incident queue widget: a read-only table of incidents in triage order."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from console.domain.incident import Incident
from console.models.incident_table import INCIDENT_ROLE, Column, IncidentTableModel
from console.views.severity import SeverityDelegate

# Column widths as sample text, so they follow the font (and the wall theme's
# big font) without measuring every row; the title takes the rest.
_WIDTH_SAMPLES = {
    Column.NUMBER: "INC-000000",
    Column.SERVICE: "Contact-centre telephony",
    Column.STATE: "On hold · vendor",
    Column.ASSIGNEE: "Business Applications",
    Column.SLA: "✖ Resolution overdue 23 h 59 min",
    Column.OPENED: "00 Mmm 00:00",
}


# Read from across the room, only what tells the room what is burning.
WALL_HIDDEN_COLUMNS = (Column.NUMBER, Column.ASSIGNEE, Column.OPENED)


class IncidentTableView(QTableView):
    """The queue: whole-row selection, severity badges, columns sized to their content."""

    incident_activated = Signal(object)
    """Emitted with the :class:`Incident` the operator double-clicked or pressed Enter on."""

    def __init__(self, model: IncidentTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("incidentTable")
        self.setModel(model)
        self._severity_delegate = SeverityDelegate(self)
        self.setItemDelegateForColumn(Column.SEVERITY, self._severity_delegate)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(Column.TITLE, QHeaderView.ResizeMode.Stretch)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.doubleClicked.connect(lambda index: self._activate(index.row()))
        self._fit_to_font()

    def model(self) -> IncidentTableModel:
        model = super().model()
        assert isinstance(model, IncidentTableModel)
        return model

    def selected_incident(self) -> Incident | None:
        """The incident on the selected row, if any."""
        rows = self.selectionModel().selectedRows()
        if not rows:
            return None
        incident = rows[0].data(INCIDENT_ROLE)
        return incident if isinstance(incident, Incident) else None

    def select_incident(self, incident_id: str) -> bool:
        """Select and show the row of ``incident_id``; False when it is not in the table."""
        row = self.model().row_of(incident_id)
        if row is None:
            return False
        index = self.model().index(row, 0)
        self.selectionModel().select(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.setCurrentIndex(index)
        self.scrollTo(index)
        return True

    def set_wall_layout(self, enabled: bool) -> None:
        """Hide the desk-only columns (number, assignee, opened) for the wall display."""
        for column in WALL_HIDDEN_COLUMNS:
            self.setColumnHidden(column, enabled)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self._activate(self.currentIndex().row())
            return
        super().keyPressEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # A theme change (the wall display's big font) must resize rows and columns.
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit_to_font()

    def _activate(self, row: int) -> None:
        if 0 <= row < self.model().rowCount():
            self.incident_activated.emit(self.model().incident_at(row))

    def _fit_to_font(self) -> None:
        metrics = QFontMetrics(self.font())
        self.verticalHeader().setDefaultSectionSize(round(metrics.height() * 1.9))
        header = self.horizontalHeader()
        padding = metrics.horizontalAdvance("M") * 2
        bold = QFont(self.font())
        bold.setBold(True)
        for column, sample in _WIDTH_SAMPLES.items():
            # An overdue SLA is shown in bold: measure it that way.
            sized = QFontMetrics(bold) if column is Column.SLA else metrics
            header.resizeSection(column, sized.horizontalAdvance(sample) + padding)
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        badge = self._severity_delegate.sizeHint(option, self.model().index(0, 0))
        header.resizeSection(Column.SEVERITY, badge.width())
        header.setMinimumSectionSize(metrics.horizontalAdvance("MMM"))
