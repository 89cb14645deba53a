"""The executive summary of one major incident (Ctrl+E): one screen, copy as text, print to PDF.

The text is built Qt-free by :func:`console.services.major.executive_summary`;
this dialog only shows it. Ctrl+C copies the whole summary as plain text (a
selection, if there is one, is copied as it is), Ctrl+P writes it to a PDF
with Qt's QPdfWriter (as the post-incident review does), Esc closes.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import (
    QFontDatabase,
    QGuiApplication,
    QKeySequence,
    QPageLayout,
    QPageSize,
    QPdfWriter,
    QShortcut,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from console.services.major import ExecutiveSummary


def summary_html(summary: ExecutiveSummary) -> str:
    """The summary as a two-column HTML table (the screen and the PDF)."""
    rows = "".join(
        f"<tr><th align='left' valign='top' style='padding-right:12px'>{escape(label)}</th>"
        f"<td>{escape(value).replace(chr(10), '<br>')}</td></tr>"
        for label, value in summary.rows
    )
    return f"<h2>{escape(summary.heading)}</h2><table cellspacing='6'>{rows}</table>"


def write_summary_pdf(summary: ExecutiveSummary, path: Path) -> None:
    """Lay the summary out on an A4 page (15 mm margins) and write it to ``path``."""
    writer = QPdfWriter(str(path))
    writer.setTitle(summary.heading)
    writer.setCreator("NOC Console")
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(15, 15, 15, 15),
            QPageLayout.Unit.Millimeter,
        )
    )
    writer.setResolution(300)
    document = QTextDocument()
    document.setHtml(summary_html(summary))
    document.print_(writer)


class SummaryDialog(QDialog):
    """Shows one executive summary; Ctrl+C copies it as text, Ctrl+P prints it to PDF."""

    def __init__(self, summary: ExecutiveSummary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("majorSummaryDialog")
        self.setWindowTitle("Executive summary")
        self.summary = summary
        self.view = QTextBrowser(self)
        self.view.setObjectName("majorSummary")
        self.view.setOpenLinks(False)
        self.view.setHtml(summary_html(summary))
        self.view.setMinimumSize(
            self.fontMetrics().horizontalAdvance("M") * 48, self.fontMetrics().lineSpacing() * 24
        )
        self.message = QLabel("Ctrl+C copies it as text · Ctrl+P prints it to PDF · Esc closes")
        self.message.setObjectName("dialogHint")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        copy = QPushButton("&Copy as text", self)
        pdf = QPushButton("&Print to PDF…", self)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(pdf, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        copy.clicked.connect(self.copy_text)
        pdf.clicked.connect(lambda: self.print_pdf())
        QShortcut(QKeySequence.StandardKey.Copy, self, self.copy_text)
        QShortcut(QKeySequence.StandardKey.Print, self, lambda: self.print_pdf())
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont))

    def copy_text(self) -> None:
        """The selection if there is one, else the whole summary, as plain text."""
        selected = self.view.textCursor().selectedText()
        text = selected.replace("\u2029", "\n") if selected else self.summary.text()
        QGuiApplication.clipboard().setText(text)
        self.message.setText("Copied as text." if not selected else "Selection copied.")

    def print_pdf(self, path: Path | None = None) -> Path | None:
        """Write the PDF to ``path`` (asked for when None); the path written, or None."""
        if path is None:
            name, _filter = QFileDialog.getSaveFileName(
                self, "Print the executive summary to PDF", "executive-summary.pdf", "PDF (*.pdf)"
            )
            if not name:
                return None
            path = Path(name)
        try:
            write_summary_pdf(self.summary, path)
        except OSError as exc:
            self.message.setText(f"{path} could not be written: {exc.strerror or exc}")
            return None
        if not path.is_file() or path.stat().st_size == 0:  # QPdfWriter fails silently
            self.message.setText(f"{path} could not be written; choose another folder.")
            return None
        self.message.setText(f"Printed to {path}.")
        return path
