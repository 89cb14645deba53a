"""A post-incident review printed to PDF with Qt's own QPdfWriter and QTextDocument."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QGuiApplication, QPageLayout, QPageSize, QPdfWriter, QTextDocument

from console.services.pir_report import to_html


def write_pdf(doc: Mapping[str, Any], path: Path) -> None:
    """Lay the review out on A4 pages with 15 mm margins and write it to ``path``."""
    if QGuiApplication.instance() is None:
        raise RuntimeError("write_pdf needs a QGuiApplication (use an offscreen one headless)")
    writer = QPdfWriter(str(path))
    writer.setTitle(f"Post-incident review {doc.get('incident_number', '')}")
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
    text = QTextDocument()
    text.setHtml(to_html(doc))
    text.print_(writer)


def write_pdf_headless(doc: Mapping[str, Any], path: Path) -> None:
    """:func:`write_pdf` from a terminal: starts an offscreen Qt when there is no display."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QGuiApplication.instance() or QGuiApplication([])
    write_pdf(doc, path)
    del app
