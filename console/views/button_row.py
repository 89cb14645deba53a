"""A row of buttons that wraps onto more lines when its pane is narrow.

The detail pane's six action buttons need about 520 px side by side; on a
1280-pixel laptop the pane has less, and a fixed row would widen the whole
window past the screen. :class:`WrappingButtonRow` lays them out in as many
columns as fit (six, three or two), so the pane can narrow and every button
stays visible and clickable.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QWidget

COLUMN_CHOICES = (6, 3, 2)


class WrappingButtonRow(QWidget):
    """Buttons in a grid of as many columns (of :data:`COLUMN_CHOICES`) as the width allows."""

    def __init__(self, buttons: Sequence[QWidget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buttons = list(buttons)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(4)
        self._grid.setVerticalSpacing(4)
        self.columns = 0
        self._place(COLUMN_CHOICES[0])

    def _width_for(self, columns: int) -> int:
        widths = [b.sizeHint().width() for b in self.buttons]
        rows = [widths[i : i + columns] for i in range(0, len(widths), columns)]
        spacing = self._grid.horizontalSpacing()
        return max(sum(r) + spacing * (len(r) - 1) for r in rows) if rows else 0

    def _place(self, columns: int) -> None:
        if columns == self.columns:
            return
        self.columns = columns
        for button in self.buttons:
            self._grid.removeWidget(button)
        for position, button in enumerate(self.buttons):
            self._grid.addWidget(button, position // columns, position % columns)
        for column in range(max(COLUMN_CHOICES) + 1):
            self._grid.setColumnStretch(column, 0)
        self._grid.setColumnStretch(columns, 1)
        self.updateGeometry()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        width = event.size().width()
        for columns in COLUMN_CHOICES:
            if self._width_for(columns) <= width or columns == COLUMN_CHOICES[-1]:
                self._place(columns)
                break

    def _height_for(self, columns: int) -> int:
        rows = -(-len(self.buttons) // columns)
        height = max((b.sizeHint().height() for b in self.buttons), default=0)
        return rows * height + max(0, rows - 1) * self._grid.verticalSpacing()

    def sizeHint(self) -> QSize:
        return QSize(self._width_for(COLUMN_CHOICES[0]), self._height_for(self.columns))

    def minimumSizeHint(self) -> QSize:
        # As narrow as the fewest columns allow; as tall as the current wrapping needs.
        return QSize(self._width_for(COLUMN_CHOICES[-1]), self._height_for(self.columns))
