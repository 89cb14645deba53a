"""Every view fits and stays usable on the incident commander's laptop: 1280×720 and 1366×768.

The window as ``noc-console --demo`` builds it (real cache file, the light
theme), rendered offscreen at each size; the pictures are left in tmp_path to
look at. Nothing may widen the window past the screen — not the detail pane,
not the board, not switching to the escalation matrix (Ctrl+3) — and the title
column gets the room the other columns leave.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication, QWidget

from console.app.gui import _build_window, fit_to_screen
from console.config.settings import load_settings
from console.models.incident_table import Column
from console.store import Cache
from console.views.main_window import MainWindow
from console.views.theme import apply_theme

SIZES = [(1280, 720), (1366, 768)]


@pytest.fixture
def window(tmp_path: Path) -> Iterator[MainWindow]:
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    cache = Cache.open(tmp_path / "cache.db")
    built = _build_window(app, load_settings(tmp_path / "settings.toml"), cache, demo=True)
    yield built
    built.close()
    built.deleteLater()
    cache.close()


def _inside(window: MainWindow, widget: QWidget) -> bool:
    top_left = widget.mapTo(window, QPoint(0, 0))
    return QRect(QPoint(0, 0), window.size()).contains(QRect(top_left, widget.size()))


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_every_view_fits_the_laptop_screen(
    window: MainWindow, tmp_path: Path, width: int, height: int
) -> None:
    window.resize(width, height)
    window.show()
    QApplication.processEvents()
    assert window.minimumSizeHint().width() <= width
    assert window.minimumSizeHint().height() <= height - 40  # room for a panel or title bar
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)  # Ctrl+1 … Ctrl+3
        QApplication.processEvents()
        assert window.width() == width, window.tabs.tabText(index)
        assert window.height() == height
        assert window.grab().save(str(tmp_path / f"view-{index}-{width}x{height}.png"))
        assert _inside(window, window.statusBar())
    window.tabs.setCurrentIndex(0)
    QApplication.processEvents()
    # Every action button of the detail pane is on screen and clickable.
    for button in window.detail.action_buttons:
        assert button.isVisible()
        assert button.width() >= button.sizeHint().width() - 2
        assert _inside(window, button), button.text()
    # The title gets the spare width: at least as wide as any other column, and
    # room for some 40 characters.
    table = window.table
    header = table.horizontalHeader()
    title = header.sectionSize(Column.TITLE)
    assert title >= table.fontMetrics().averageCharWidth() * 40
    others = [header.sectionSize(c) for c in Column if c is not Column.TITLE]
    assert title >= max(others)


def test_major_is_a_compact_badge_not_a_prefix(window: MainWindow) -> None:
    window.resize(1280, 720)
    window.show()
    QApplication.processEvents()
    table = window.table
    from console.domain.incident import Incident
    from console.models.incident_table import INCIDENT_ROLE

    model = table.model()
    major = [
        model.index(row, Column.TITLE)
        for row in range(model.rowCount())
        if isinstance(inc := model.index(row, 0).data(INCIDENT_ROLE), Incident) and inc.major
    ]
    assert major
    index = major[0]
    delegate = table.itemDelegateForColumn(Column.TITLE)
    from console.views.title_delegate import TitleDelegate

    assert isinstance(delegate, TitleDelegate)
    # The model still says it in words (copy, accessibility) …
    assert str(index.data()).startswith("MAJOR · ")
    # … and the cell shows the red pill at its left, taking fewer pixels than the words.
    table.scrollTo(index)
    QApplication.processEvents()
    cell = table.visualRect(index)
    image = table.viewport().grab().toImage()
    red = [
        x
        for x in range(cell.left(), cell.right())
        if image.pixelColor(x, cell.center().y()).name().upper() == "#B71C1C"
    ]
    assert red, "no MAJOR badge painted"
    words = table.fontMetrics().horizontalAdvance("MAJOR · ")
    assert max(red) - cell.left() < words + 8


def test_the_window_opens_maximised_on_a_small_screen(window: MainWindow) -> None:
    screen = window.screen()
    assert screen is not None
    room = screen.availableGeometry()
    maximised = fit_to_screen(window)
    # The offscreen screen (800×600) is smaller than the default size.
    assert maximised == (room.width() < 1440 or room.height() < 860)
    assert window.width() <= room.width()
    assert window.height() <= room.height()
