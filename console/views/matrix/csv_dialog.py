"""Import contacts from CSV: a preview that lists every problem by row, then all or nothing."""

from __future__ import annotations

from PySide6.QtCore import (
    Qt,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.services.matrix_csv import (
    ContactStore,
    CsvImportPreview,
    ImportRefusedError,
    apply_import,
)
from console.store import CacheError

PROBLEM_TINT = "#FFE0B2"
"""Rows with a problem in the import preview: tinted *and* marked ⚠."""


class CsvImportDialog(QDialog):
    """The preview of a contacts import: every row, every problem, and Apply only if all is well.

    Rows with a problem are marked ⚠ and tinted; the list at the bottom names
    every problem by spreadsheet row. Apply writes all rows in one
    transaction; it stays disabled while any row has a problem.
    """

    def __init__(
        self,
        preview: CsvImportPreview,
        store: ContactStore | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("csvImportDialog")
        self.setWindowTitle(f"Import contacts from {preview.source}")
        self.preview = preview
        self._store = store
        self.written = 0

        self.summary = QLabel(preview.summary(), self)
        self.summary.setObjectName("importSummary")
        self.summary.setWordWrap(True)
        font = self.summary.font()
        font.setBold(True)
        self.summary.setFont(font)

        self.table = QTableWidget(self)
        self.table.setObjectName("importPreview")
        columns = list(preview.columns)
        self.table.setColumnCount(2 + len(columns))
        self.table.setHorizontalHeaderLabels(["Row", "Result", *columns])
        self.table.setRowCount(len(preview.rows))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for position, row in enumerate(preview.rows):
            result = (
                row.action if row.ok else "⚠ " + "; ".join(e.split(": ", 1)[-1] for e in row.errors)
            )
            cells = [str(row.row), result, *(row.values.get(c, "") for c in columns)]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if not row.ok:
                    item.setBackground(QBrush(QColor(PROBLEM_TINT)))
                    item.setForeground(Qt.GlobalColor.black)
                    item.setToolTip("\n".join(row.errors))
                self.table.setItem(position, column, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(1, min(self.table.columnWidth(1), 420))

        self.problems = QPlainTextEdit(self)
        self.problems.setObjectName("importProblems")
        self.problems.setReadOnly(True)
        lines = list(preview.errors) + [f"note: {n}" for n in preview.notes]
        self.problems.setPlainText("\n".join(lines) if lines else "No problems found.")
        self.problems.setMaximumHeight(140)

        self.buttons = QDialogButtonBox(self)
        self.apply_button = self.buttons.addButton(
            "Apply: import all rows", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.apply_button.setObjectName("applyImport")
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.apply_button.setEnabled(preview.ok and store is not None)
        if store is None:
            self.apply_button.setToolTip("No local cache to write to")
        elif not preview.ok:
            self.apply_button.setToolTip(
                "Fix every row marked ⚠ first: the import is all or nothing"
            )
        self.buttons.accepted.connect(self.apply)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(QLabel("Problems", self))
        layout.addWidget(self.problems)
        layout.addWidget(self.buttons)
        self.resize(1000, 560)

    def apply(self) -> None:
        """Write every row (one transaction) and close; on failure say why and keep the dialog."""
        if self._store is None or not self.apply_button.isEnabled():
            return
        try:
            self.written = apply_import(self.preview, self._store)
        except ImportRefusedError as exc:
            self.summary.setText(str(exc))
            return
        except (CacheError, OSError) as exc:  # say it; the operator's file stays open
            self.summary.setText(f"Nothing was imported: {exc}")
            return
        self.accept()
