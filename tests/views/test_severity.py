"""The severity badge reads without colour: four different shapes, each with its number."""

from __future__ import annotations

from itertools import combinations

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QImage, QPainter
from pytestqt.qtbot import QtBot

from console.domain.severity import Severity
from console.domain.sla import SlaPolicy
from console.models.incident_table import Column, IncidentTableModel
from console.views.incident_table import IncidentTableView
from console.views.severity import paint_badge
from tests.helpers.factories import NOW
from tests.helpers.factories import desk_incident as make_incident

SIZE = 48


@pytest.fixture(autouse=True)
def _application(qapp: object) -> None:
    """Fonts and text painting need a QApplication, also when this file runs alone."""


def badge(severity: Severity, *, grey: bool = False) -> QImage:
    image = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    paint_badge(painter, QRectF(4, 4, SIZE - 8, SIZE - 8), severity, QFont())
    painter.end()
    if grey:
        image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    return image


def ink(image: QImage) -> set[tuple[int, int]]:
    """The pixels the badge covers (anything not white)."""
    return {
        (x, y)
        for y in range(image.height())
        for x in range(image.width())
        if image.pixelColor(x, y).lightness() < 250
    }


def test_badges_differ_in_shape_even_in_greyscale() -> None:
    shapes = {severity: ink(badge(severity, grey=True)) for severity in Severity}
    for a, b in combinations(Severity, 2):
        differing = len(shapes[a] ^ shapes[b])
        assert differing > 0.08 * SIZE * SIZE, (a, b, differing)


def test_badges_are_filled_with_the_severity_colour() -> None:
    for severity in Severity:
        image = badge(severity)
        colours = {image.pixelColor(x, y).name().upper() for x, y in ink(image)}
        assert severity.style.colour in colours


def test_the_table_paints_badges_and_labels(qtbot: QtBot, policy: SlaPolicy) -> None:
    incidents = [make_incident(n, severity) for n, severity in enumerate(Severity, 1)]
    model = IncidentTableModel(policy, NOW, incidents)
    view = IncidentTableView(model)
    qtbot.addWidget(view)
    view.resize(1100, 300)
    image = view.grab().toImage()
    colours = {
        image.pixelColor(x, y).name().upper()
        for y in range(image.height())
        for x in range(view.columnWidth(Column.SEVERITY))
    }
    for severity in Severity:
        assert severity.style.colour in colours, severity
    # Wide enough for the longest label, so "SEV-3 Moderate" is not cut off.
    assert view.columnWidth(Column.SEVERITY) >= view.fontMetrics().horizontalAdvance(
        "SEV-3 Moderate"
    )


def _centre_ink(view: IncidentTableView) -> int:
    """Pixels in the middle of the viewport that differ from its background (text is dense)."""
    image = view.viewport().grab().toImage()
    background = image.pixelColor(image.width() - 3, image.height() - 3)
    w, h = image.width(), image.height()
    return sum(
        image.pixelColor(x, y) != background
        for y in range(int(h * 0.35), int(h * 0.65))
        for x in range(int(w * 0.2), int(w * 0.8))
    )


def test_an_empty_queue_says_what_to_do(qtbot: QtBot, policy: SlaPolicy) -> None:
    empty = IncidentTableView(IncidentTableModel(policy, NOW, []))
    qtbot.addWidget(empty)
    empty.resize(900, 400)
    assert "Press n" in IncidentTableView.EMPTY_TEXT
    full = IncidentTableView(IncidentTableModel(policy, NOW, [make_incident(1, Severity.SEV3)]))
    qtbot.addWidget(full)
    full.resize(900, 400)
    # The message fills the middle of an empty queue; below one row there is nothing.
    assert _centre_ink(empty) > 3 * max(_centre_ink(full), 100)
