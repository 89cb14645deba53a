"""The escalation matrix's files: CSV export and import, the printed binder and its PDF.

:class:`MatrixFiles` is the part of :class:`~console.views.matrix.view.EscalationMatrixView`
that reads and writes files, only where the operator asked: contacts or who is
on call now to CSV, the binder to a printer or a PDF, and contacts from CSV
after a preview that lists every problem by row (all or nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QPdfWriter
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QFileDialog, QLabel, QMessageBox, QWidget

from console.domain.text import file_stamp
from console.models.escalation_matrix import Clock, EscalationMatrixModel
from console.services.directory import Directory
from console.services.matrix_csv import (
    CsvImportError,
    export_contacts,
    export_on_call,
    preview_file,
)
from console.views.matrix.csv_dialog import CsvImportDialog
from console.views.matrix.printing import print_binder

if TYPE_CHECKING:
    from console.views.matrix.view import MatrixStore


class MatrixFiles(QWidget):
    """Export, import and print for the matrix; the view builds the widgets and shows the data."""

    contacts_imported = Signal(int)
    """Contacts were imported from CSV into the cache (how many rows were written)."""

    # Set by the view's constructor.
    model: EscalationMatrixModel
    status: QLabel
    display_zone: tzinfo
    demo: bool
    _store: MatrixStore | None
    _now: Clock

    @property
    def directory(self) -> Directory:
        """The reference data shown."""
        return self.model.directory

    def refresh(self, directory: Directory) -> None:
        """Show new reference data (the view does)."""
        raise NotImplementedError

    def reload(self) -> None:
        """Re-read the store (after an import) and refresh."""
        if self._store is not None:
            self.refresh(Directory.from_store(self._store))

    def export_contacts_csv(self, path: Path) -> int:
        """Write every contact to ``path`` (CSV); returns the rows written."""
        return export_contacts(self.directory, path)

    def export_on_call_csv(self, path: Path) -> int:
        """Write who is on call now, per service and tier, to ``path`` (CSV)."""
        return export_on_call(self.directory, self._now(), path)

    def export_pdf(self, path: Path) -> None:
        """Write the printable matrix (services × tiers, rotas, contacts) to ``path`` as PDF."""
        writer = QPdfWriter(str(path))
        writer.setTitle("DEMO — Escalation matrix" if self.demo else "Escalation matrix")
        writer.setCreator("NOC Console")
        writer.setResolution(300)
        print_binder(writer, self.directory, self._now(), self.display_zone, demo=self.demo)

    def print_to(self, printer: QPrinter) -> None:
        """Print the binder pages on ``printer``."""
        print_binder(printer, self.directory, self._now(), self.display_zone, demo=self.demo)

    def print_matrix(self) -> None:
        """Ask for a printer and print the binder pages."""
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("Print the escalation matrix")
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.print_to(printer)

    def preview_import(self, path: Path) -> CsvImportDialog:
        """The import preview dialog for ``path`` (not shown yet)."""
        preview = preview_file(path, self.directory)
        dialog = CsvImportDialog(preview, self._store, self)
        dialog.accepted.connect(lambda: self._imported(dialog.written))
        return dialog

    def import_csv(self) -> None:
        """Ask for a CSV file, show the preview, import on Apply."""
        name, _ = QFileDialog.getOpenFileName(
            self, "Import contacts", "", "CSV files (*.csv *.txt);;All files (*)"
        )
        if not name:
            return
        try:
            dialog = self.preview_import(Path(name))
        except CsvImportError as exc:
            QMessageBox.warning(self, "Cannot import", str(exc))
            return
        dialog.open()

    def _imported(self, written: int) -> None:
        self.reload()
        self.contacts_imported.emit(written)

    def _ask_save(self, title: str, default: str, kind: str) -> Path | None:
        if self.demo:
            default = f"DEMO-{default}"
        name, _ = QFileDialog.getSaveFileName(self, title, default, kind)
        return Path(name) if name else None

    def _ask_export_contacts(self) -> None:
        path = self._ask_save("Export contacts", "contacts.csv", "CSV files (*.csv)")
        if path is not None:
            self._run_export(lambda: self.export_contacts_csv(path), path)

    def _ask_export_on_call(self) -> None:
        stamp = file_stamp(self._now(), self.display_zone)
        path = self._ask_save("Export who is on call", f"on-call-{stamp}.csv", "CSV files (*.csv)")
        if path is not None:
            self._run_export(lambda: self.export_on_call_csv(path), path)

    def _ask_export_pdf(self) -> None:
        path = self._ask_save("Export the matrix as PDF", "escalation-matrix.pdf", "PDF (*.pdf)")
        if path is not None:
            self._run_export(lambda: self.export_pdf(path), path)

    def _run_export(self, write: Callable[[], object], path: Path) -> None:
        try:
            write()
        except OSError as exc:
            QMessageBox.warning(
                self, "Export failed", f"{path} could not be written: {exc.strerror or exc}"
            )
            return
        self.status.setText(f"Saved {path.name}")
