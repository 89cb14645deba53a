"""The incident queue widget: a read-only table of incidents in triage order.

Live updates keep the operator's place: the selection follows its incident
(persistent indexes), and when the operator has scrolled down, the incident at
the top of the view stays at the top while rows are inserted, moved or removed
above it. At the very top the view stays at the top, so a new SEV-1 is seen.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QFont,
    QFontMetrics,
    QIcon,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
)
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
from console.views.title_delegate import TitleDelegate

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
# When the view is narrow (the detail pane beside it), these go first, in this
# order, so the title keeps room to be read.
NARROW_HIDDEN_COLUMNS = (Column.OPENED, Column.STATE, Column.SERVICE)
TITLE_MIN_CHARS = 42
"""The title keeps room for this many characters before columns give way (1280 px laptops)."""


class QueueSeverityDelegate(SeverityDelegate):
    """The severity delegate without the model's colour swatch icon.

    The delegate hides the swatch by clearing ``HasDecoration`` only; on a
    selected row the style still renders the icon's "selected" pixmap at size
    zero, which Qt reports as a painter warning on every repaint. Clearing the
    icon itself avoids that (the fix belongs in ``views/severity.py``).
    """

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        option.icon = QIcon()


class IncidentTableView(QTableView):
    """The queue: whole-row selection, severity badges, columns sized to their content."""

    incident_activated = Signal(object)
    """Emitted with the :class:`Incident` the operator double-clicked or pressed Enter on."""
    current_incident_changed = Signal(object)
    """The incident id of the current row (None when there is none)."""

    def __init__(self, model: IncidentTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("incidentTable")
        self.setModel(model)
        self._severity_delegate = QueueSeverityDelegate(self)
        self.setItemDelegateForColumn(Column.SEVERITY, self._severity_delegate)
        self.setItemDelegateForColumn(Column.TITLE, TitleDelegate(self))
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
        self.selectionModel().currentRowChanged.connect(self._current_row_changed)
        self._anchor: tuple[str, int] | None = None
        self._wall = False
        for about in (
            model.rowsAboutToBeInserted,
            model.rowsAboutToBeRemoved,
            model.rowsAboutToBeMoved,
            model.layoutAboutToBeChanged,
        ):
            about.connect(self._remember_anchor)
        for done in (model.rowsInserted, model.rowsRemoved, model.rowsMoved, model.layoutChanged):
            done.connect(self._restore_anchor)
        # A filter change can take the current row away without Qt saying so.
        self._current_id: str | None = None
        for changed in (model.layoutChanged, model.rowsRemoved, model.modelReset):
            changed.connect(self._announce_current)
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
        self._select_row(row)
        return True

    def move_selection(self, delta: int) -> None:
        """Select the row ``delta`` rows below (above when negative) the current one (j/k)."""
        count = self.model().rowCount()
        if not count:
            return
        current = self.currentIndex()
        if not current.isValid():
            row = 0 if delta > 0 else count - 1
        elif not self.selectionModel().hasSelection():
            row = current.row()  # focus put the cursor here without selecting: take it first
        else:
            row = current.row() + delta
        self._select_row(max(0, min(count - 1, row)))

    def set_wall_layout(self, enabled: bool) -> None:
        """Hide the desk-only columns (number, assignee, opened) for the wall display."""
        self._wall = enabled
        for column in WALL_HIDDEN_COLUMNS:
            self.setColumnHidden(column, enabled)
        self._fit_columns_to_width()

    EMPTY_TEXT = (
        "No incidents to show.\n\n"
        "Press n to log a new incident, or clear the filter (Esc in the filter box).\n"
        "To explore, start the console with --demo."
    )

    def paintEvent(self, event: QPaintEvent) -> None:
        """Rows as usual; an empty queue says why it is empty and what to do."""
        super().paintEvent(event)
        if self.model().rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(
                self.viewport().rect().adjusted(24, 24, -24, -24),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.EMPTY_TEXT,
            )
            painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_columns_to_width()

    def _fit_columns_to_width(self) -> None:
        """Hide the least needed columns while the title would be too narrow to read."""
        wall = self._wall
        header = self.horizontalHeader()
        title_min = self.fontMetrics().averageCharWidth() * TITLE_MIN_CHARS
        room = self.viewport().width() - title_min
        for column in NARROW_HIDDEN_COLUMNS:
            if not (wall and column in WALL_HIDDEN_COLUMNS):
                self.setColumnHidden(column, False)
        header.resizeSection(Column.SEVERITY, self._severity_width(compact=False))

        def used() -> int:
            return sum(
                header.sectionSize(c)
                for c in Column
                if c is not Column.TITLE and not self.isColumnHidden(c)
            )

        for column in NARROW_HIDDEN_COLUMNS:
            if used() <= room:
                return
            self.setColumnHidden(column, True)
        if used() > room:
            # Last: the severity keeps its badge and code ("SEV-1"), drops the word.
            header.resizeSection(Column.SEVERITY, self._severity_width(compact=True))

    def _severity_width(self, *, compact: bool) -> int:
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        full = self._severity_delegate.sizeHint(option, self.model().index(0, 0)).width()
        if not compact:
            return full
        bold = QFont(self.font())
        bold.setBold(True)
        metrics = QFontMetrics(self.font())
        badge = round(metrics.height() * 1.35)
        return min(full, 10 + badge + 8 + QFontMetrics(bold).horizontalAdvance("SEV-0") + 10)

    def dataChanged(
        self,
        top_left: QModelIndex | QPersistentModelIndex,
        bottom_right: QModelIndex | QPersistentModelIndex,
        roles: Sequence[int] = (),
    ) -> None:
        """Repaint only the changed cells that are on screen.

        Qt repaints the whole viewport when a changed range reaches past it, so
        the SLA tick (one range over the whole clock column) would repaint every
        column each second; clipped to the visible rows it repaints the column.
        """
        if top_left.isValid() and bottom_right.isValid() and top_left.row() != bottom_right.row():
            first = self.rowAt(0)
            last = self.rowAt(self.viewport().height() - 1)
            if first >= 0:
                last = self.model().rowCount() - 1 if last < 0 else last
                top, bottom = max(top_left.row(), first), min(bottom_right.row(), last)
                if top > bottom:
                    return  # nothing of it on screen
                top_left = self.model().index(top, top_left.column())
                bottom_right = self.model().index(bottom, bottom_right.column())
        super().dataChanged(top_left, bottom_right, list(roles))

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

    # ------------------------------------------------------------ internals

    def _select_row(self, row: int) -> None:
        index = self.model().index(row, 0)
        self.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.scrollTo(index)

    def _activate(self, row: int) -> None:
        if 0 <= row < self.model().rowCount():
            self.incident_activated.emit(self.model().incident_at(row))

    def _current_row_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self._announce_current()

    def _announce_current(self, *_: object) -> None:
        """Say which incident the cursor is on, when that changed."""
        model = self.model()
        current = self.currentIndex()
        valid = current.isValid() and current.row() < model.rowCount()
        incident_id = model.row_at(current.row()).id if valid else None
        if incident_id != self._current_id:
            self._current_id = incident_id
            self.current_incident_changed.emit(incident_id)

    def _remember_anchor(self, *_: object) -> None:
        """Before a live change: which incident is at the top of the view, and how far down."""
        if self._anchor is not None:
            return  # already remembered for this change
        scroll = self.verticalScrollBar()
        if scroll.value() == 0:
            self._anchor = None
            return
        top = self.rowAt(0)
        if top < 0:
            return
        self._anchor = (self.model().row_at(top).id, self.rowViewportPosition(top))

    def _restore_anchor(self, *_: object) -> None:
        """After a live change: put the remembered incident back where it was on screen."""
        anchor, self._anchor = self._anchor, None
        if anchor is None:
            return
        incident_id, offset = anchor
        row = self.model().row_of(incident_id)
        if row is None:
            current = self.currentIndex()
            if current.isValid():
                self.scrollTo(current)
            return
        # The view lays itself out later; size the scroll bar now so the value sticks.
        self.updateGeometries()
        self.verticalScrollBar().setValue(self.verticalHeader().sectionPosition(row) - offset)

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
