"""The board: a column per lifecycle state, a card per incident, drag a card to change state.

Each card shows number, title, service, severity (colour bar, badge shape and
code, so it reads in greyscale), who has it and the live SLA clock. Dropping a
card on another column asks for the state change (:attr:`BoardView.move_requested`);
the actions controller applies the lifecycle rules and either queues the
change (the card moves at once) or refuses it with the reason, shown above
the board.

Keyboard: ↑/↓ or j/k move within a column, ←/→ or h/l between columns,
Enter opens the card.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.domain.sla import SlaStatus
from console.models.board import CARD_ROLE, BoardColumnModel, BoardModel, Card
from console.models.incident_table import SLA_STYLE
from console.views.severity import paint_badge
from console.views.title_delegate import overdue_pill_width, paint_overdue_pill

FLASH = QColor(255, 193, 7, 70)
CARD_CACHE_SIZE = 96
"""Rendered cards kept (about two screens of five columns; ~100 KB each)."""


class CardDelegate(QStyledItemDelegate):
    """Paints one card: severity bar and badge, number, title, service · owner, SLA pill."""

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        metrics = QFontMetrics(option.font)
        line = metrics.lineSpacing()
        # Four lines of text (the title may take two), padding and the gap between cards.
        return QSize(metrics.horizontalAdvance("M") * 18, round(line * 5.4) + 16)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Rendered cards by everything they show: a repaint of an unchanged card
        # (a filter keystroke repaints every column) is one pixmap copy.
        self._rendered: OrderedDict[tuple[object, ...], QPixmap] = OrderedDict()

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        card = index.data(CARD_ROLE)
        if not isinstance(card, Card):
            super().paint(painter, option, index)
            return
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        size = option.rect.size()
        ratio = painter.device().devicePixelRatioF() if painter.device() else 1.0
        key = (
            card,
            selected,
            size.width(),
            size.height(),
            ratio,
            option.palette.cacheKey(),
            option.font.key(),
        )
        pixmap = self._rendered.get(key)
        if pixmap is None:
            pixmap = QPixmap(size * ratio)
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(Qt.GlobalColor.transparent)
            card_painter = QPainter(pixmap)
            local = QStyleOptionViewItem(option)
            local.rect = QRect(QPoint(0, 0), size)
            self._paint_card(card_painter, local, card, selected)
            card_painter.end()
            self._rendered[key] = pixmap
            if len(self._rendered) > CARD_CACHE_SIZE:
                self._rendered.popitem(last=False)
        else:
            self._rendered.move_to_end(key)
        painter.drawPixmap(option.rect.topLeft(), pixmap)

    def _paint_card(
        self, painter: QPainter, option: QStyleOptionViewItem, card: Card, selected: bool
    ) -> None:
        palette = option.palette
        rect = QRectF(option.rect).adjusted(4, 4, -4, -4)
        font = QFont(option.font)
        metrics = QFontMetrics(font)
        line = metrics.lineSpacing()
        colour = QColor(card.severity.style.colour)

        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        outline = QPainterPath()
        outline.addRoundedRect(rect, 6, 6)
        # The column is the view's base colour; cards take the alternate one (see the .qss).
        painter.fillPath(outline, palette.alternateBase())
        if card.flashing:
            painter.fillPath(outline, FLASH)
        border = palette.highlight().color() if selected else palette.mid().color()
        painter.setPen(QPen(border, 3 if selected else 1))
        painter.drawPath(outline)
        painter.setClipPath(outline)
        painter.fillRect(QRectF(rect.left(), rect.top(), 6, rect.height()), colour)
        painter.setClipping(False)

        text = palette.text().color()
        left = rect.left() + 14
        right = rect.right() - 8
        y = rect.top() + 6

        # Line 1: badge, severity code and label, the number on the right.
        size = metrics.height() * 1.1
        paint_badge(painter, QRectF(left, y + (line - size) / 2, size, size), card.severity, font)
        bold = QFont(font)
        bold.setBold(True)
        painter.setPen(text)
        painter.setFont(bold)
        code_x = left + size + 6
        code = f"{card.severity.code} "
        painter.drawText(
            QRectF(code_x, y, right - code_x, line), Qt.AlignmentFlag.AlignVCenter, code
        )
        painter.setFont(font)
        label_x = code_x + QFontMetrics(bold).horizontalAdvance(code)
        painter.drawText(
            QRectF(label_x, y, right - label_x, line),
            Qt.AlignmentFlag.AlignVCenter,
            card.severity.label,
        )
        # The number on the right when it fits; else it leads the service line.
        number_fits = (
            label_x + metrics.horizontalAdvance(card.severity.label + "  " + card.number) <= right
        )
        if number_fits:
            painter.drawText(
                QRectF(left, y, right - left, line),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                card.number,
            )
        y += line + 2

        # Lines 2–3: the title, up to two lines, MAJOR first when it is one.
        title = ("MAJOR · " if card.major else "") + card.title
        title_font = bold if card.major else font
        painter.setFont(title_font)
        # A late stakeholder update (#19) takes the title's second line: the queue row's
        # framed amber pill, then the audience and how late (words and a shape).
        late = card.update_overdue
        lines = _elide_lines(title, QFontMetrics(title_font), right - left, 1 if late else 2)
        for number, text_line in enumerate(lines):
            painter.drawText(
                QRectF(left, y + number * line, right - left, line),
                Qt.AlignmentFlag.AlignVCenter,
                text_line,
            )
        painter.setFont(font)
        if late:
            pill = QRectF(left, y + line + 1, min(overdue_pill_width(bold), right - left), line)
            paint_overdue_pill(painter, pill, bold)
            detail = late.partition("(")[2].removesuffix(")")
            room = right - pill.right() - 6
            painter.setPen(text)
            painter.drawText(
                QRectF(pill.right() + 6, pill.top(), room, line),
                Qt.AlignmentFlag.AlignVCenter,
                metrics.elidedText(detail, Qt.TextElideMode.ElideRight, int(room)),
            )
        y += line * 2 + 2

        # Line 4: service · owner (a team or "Unassigned" in italics).
        muted = QColor(text)
        muted.setAlphaF(0.75)
        painter.setPen(muted)
        where = card.service if number_fits else f"{card.number} · {card.service}"
        service = metrics.elidedText(where, Qt.TextElideMode.ElideRight, int((right - left) * 0.55))
        painter.drawText(
            QRectF(left, y, right - left, line), Qt.AlignmentFlag.AlignVCenter, service
        )
        owner_font = QFont(font)
        owner_font.setItalic(not card.assigned)
        painter.setFont(owner_font)
        owner_x = left + metrics.horizontalAdvance(service + " · ")
        painter.drawText(
            QRectF(owner_x, y, right - owner_x, line),
            Qt.AlignmentFlag.AlignVCenter,
            "· "
            + QFontMetrics(owner_font).elidedText(
                card.owner, Qt.TextElideMode.ElideRight, int(right - owner_x - 12)
            ),
        )
        painter.setFont(font)
        y += line + 2

        # Line 5: the SLA clock as a pill; filled when warning, breached or paused.
        style = SLA_STYLE[card.sla_status]
        sla_font = QFont(font)
        sla_font.setBold(card.sla_status is SlaStatus.BREACHED)
        sla_metrics = QFontMetrics(sla_font)
        pill_text = sla_metrics.elidedText(
            card.sla, Qt.TextElideMode.ElideRight, int(right - left - 12)
        )
        pill = QRectF(left, y, sla_metrics.horizontalAdvance(pill_text) + 12, line + 2)
        if style is not None:
            path = QPainterPath()
            path.addRoundedRect(pill, 4, 4)
            painter.fillPath(path, QColor(style[0]))
            painter.setPen(QColor(style[1]))
        else:
            painter.setPen(text)
        painter.setFont(sla_font)
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, pill_text)
        painter.restore()


def _elide_lines(text: str, metrics: QFontMetrics, width: float, lines: int) -> list[str]:
    """``text`` wrapped into at most ``lines`` lines of ``width`` (the last one elided)."""
    words = text.split()
    if lines <= 1:
        return [metrics.elidedText(" ".join(words), Qt.TextElideMode.ElideRight, int(width))]
    out: list[str] = []
    current = ""
    for position, word in enumerate(words):
        candidate = f"{current} {word}".strip()
        if metrics.horizontalAdvance(candidate) <= width or not current:
            current = candidate
            continue
        out.append(current)
        current = word
        if len(out) == lines - 1:
            rest = " ".join([current, *words[position + 1 :]])
            out.append(metrics.elidedText(rest, Qt.TextElideMode.ElideRight, int(width)))
            return out
    out.append(metrics.elidedText(current, Qt.TextElideMode.ElideRight, int(width)))
    return out


class BoardColumnView(QTableView):
    """One column's cards, draggable to another column.

    A one-column table rather than a list view: a list view lays out every
    card (a Python ``index()`` call each) whenever its column re-filters,
    ~50 ms per 10k cards; a table with fixed row heights lays out nothing.
    """

    activated_id = Signal(str)
    """Enter or a double click on a card (its incident id)."""
    side_step = Signal(int)
    """←/h (-1) or →/l (+1): the operator wants the next column."""

    def __init__(self, model: BoardColumnModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("boardColumn")
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.horizontalHeader().hide()
        self.verticalHeader().hide()
        self.horizontalHeader().setStretchLastSection(True)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self._delegate = CardDelegate(self)
        self.setItemDelegate(self._delegate)
        self.setModel(model)
        self._fit_to_font()
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(False)  # the drop is on the column, not between cards
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.doubleClicked.connect(self._activate)

    def model(self) -> BoardColumnModel:
        model = super().model()
        assert isinstance(model, BoardColumnModel)
        return model

    def current_id(self) -> str | None:
        index = self.currentIndex()
        if not index.isValid() or index.row() >= self.model().rowCount():
            return None
        return self.model().row_at(index.row()).id

    def select_row(self, row: int) -> None:
        count = self.model().rowCount()
        if not count:
            return
        index = self.model().index(max(0, min(count - 1, row)), 0)
        self.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.scrollTo(index)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # A theme change (the wall display's big font) makes the cards taller.
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit_to_font()

    def _fit_to_font(self) -> None:
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        height = self._delegate.sizeHint(option, QModelIndex()).height()
        self.verticalHeader().setDefaultSectionSize(height)
        # Five columns side by side still fit beside nothing else on a 1280-pixel laptop.
        self.setMinimumWidth(QFontMetrics(self.font()).horizontalAdvance("M") * 10)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self._activate(self.currentIndex())
            return
        if key in (Qt.Key.Key_Left, Qt.Key.Key_H):
            self.side_step.emit(-1)
            return
        if key in (Qt.Key.Key_Right, Qt.Key.Key_L):
            self.side_step.emit(1)
            return
        super().keyPressEvent(event)

    def _activate(self, index: QModelIndex) -> None:
        if index.isValid():
            self.activated_id.emit(self.model().row_at(index.row()).id)


class BoardView(QWidget):
    """Five columns of cards side by side, each headed by its state and card count."""

    incident_activated = Signal(str)
    """A card was opened (Enter or double click): its incident id."""
    current_incident_changed = Signal(object)
    """The card with the keyboard focus changed: its incident id, or None."""
    move_requested = Signal(str, object)
    """A card was dropped on a column: (incident id, target :class:`State`)."""

    def __init__(self, board: BoardModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("board")
        self.board = board
        self.columns: list[BoardColumnView] = []
        self._headers: list[QLabel] = []
        self._last_column = 0
        self._current_id: str | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        for number, model in enumerate(board.columns):
            frame = QFrame(self)
            frame.setObjectName("boardColumnFrame")
            column_layout = QVBoxLayout(frame)
            column_layout.setContentsMargins(4, 4, 4, 4)
            column_layout.setSpacing(4)
            header = QLabel(frame)
            header.setObjectName("boardColumnHeader")
            view = BoardColumnView(model, frame)
            header.setBuddy(view)
            column_layout.addWidget(header)
            column_layout.addWidget(view, 1)
            layout.addWidget(frame, 1)
            self.columns.append(view)
            self._headers.append(header)
            view.activated_id.connect(self.incident_activated)
            view.side_step.connect(lambda step, n=number: self._side_step(n, step))
            view.selectionModel().currentChanged.connect(
                lambda _current, _previous, v=view: self._current_changed(v)
            )
            for signal in (
                model.rowsInserted,
                model.rowsRemoved,
                model.modelReset,
                model.layoutChanged,
            ):
                signal.connect(lambda *_args, n=number: self._update_header(n))
            for signal in (model.rowsRemoved, model.modelReset, model.layoutChanged):
                signal.connect(lambda *_args, v=view: self._current_may_have_gone(v))
            self._update_header(number)
        board.drop_requested.connect(self.move_requested)

    def current_column(self) -> int:
        """The column holding the keyboard focus (or the last one that did)."""
        for number, view in enumerate(self.columns):
            if view.hasFocus():
                return number
        return self._last_column

    def selected_incident_id(self) -> str | None:
        return self.columns[self.current_column()].current_id()

    def select_incident(self, incident_id: str) -> bool:
        """Select and show the card of ``incident_id``; False when no column shows it."""
        found = self.board.column_of(incident_id)
        if found is None:
            return False
        number, row = found
        self._last_column = number
        for other, view in enumerate(self.columns):
            if other != number:
                view.clearSelection()
        self.columns[number].select_row(row)
        return True

    def move_selection(self, delta: int) -> None:
        """The card ``delta`` places down (up when negative) the current column (j/k)."""
        view = self.columns[self.current_column()]
        current = view.currentIndex()
        if not current.isValid() or not view.selectionModel().hasSelection():
            view.select_row(max(0, current.row()))
        else:
            view.select_row(current.row() + delta)

    def focus_board(self) -> None:
        """Give the keyboard focus to the current column."""
        self.columns[self.current_column()].setFocus()

    def _side_step(self, number: int, step: int) -> None:
        target = number + step
        while 0 <= target < len(self.columns) and not self.columns[target].model().rowCount():
            target += step  # skip empty columns
        if not 0 <= target < len(self.columns):
            return
        self._last_column = target
        view = self.columns[target]
        row = self.columns[number].currentIndex().row()
        view.select_row(max(0, row))
        view.setFocus()

    def _current_changed(self, view: BoardColumnView) -> None:
        self._last_column = self.columns.index(view)
        self._announce(view.current_id())

    def _current_may_have_gone(self, view: BoardColumnView) -> None:
        # A filter change can take the current card away without Qt saying so.
        if self.columns.index(view) == self._last_column:
            self._announce(view.current_id())

    def _announce(self, incident_id: str | None) -> None:
        if incident_id != self._current_id:
            self._current_id = incident_id
            self.current_incident_changed.emit(incident_id)

    def _update_header(self, number: int) -> None:
        model = self.board.columns[number]
        self._headers[number].setText(f"{model.column.title} · {model.rowCount()}")
