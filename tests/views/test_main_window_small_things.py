"""What a user sees every minute: one mnemonic per Alt key, counts that agree, visible check boxes.

The window as ``noc-console --demo`` builds it, over a real cache file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QAbstractButton, QApplication, QCheckBox

from console.app.gui import _build_window
from console.config.settings import load_settings
from console.store import Cache
from console.views.main_window import MainWindow
from console.views.theme import apply_theme


@pytest.fixture
def window(tmp_path: Path) -> Iterator[MainWindow]:
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    cache = Cache.open(tmp_path / "cache.db")
    built = _build_window(app, load_settings(tmp_path / "settings.toml"), cache, demo=True)
    built.resize(1366, 768)
    built.show()
    QApplication.processEvents()
    yield built
    built.close()
    built.deleteLater()
    apply_theme(app, "light")
    cache.close()


def _mnemonic(text: str) -> str | None:
    found = re.search(r"&([^&])", text.replace("&&", ""))
    return found.group(1).lower() if found else None


def test_every_alt_key_of_the_window_does_one_thing(window: MainWindow) -> None:
    keys: dict[str, list[str]] = {}
    for action in window.menuBar().actions():
        if (key := _mnemonic(action.text())) is not None:
            keys.setdefault(key, []).append(f"menu {action.text()}")
    for index in range(window.tabs.count()):
        if (key := _mnemonic(window.tabs.tabText(index))) is not None:
            keys.setdefault(key, []).append(f"tab {window.tabs.tabText(index)}")
    for button in window.filter_bar.findChildren(QAbstractButton):
        if (key := _mnemonic(button.text())) is not None:
            keys.setdefault(key, []).append(f"button {button.text()}")
    clashes = {k: v for k, v in keys.items() if len(v) > 1}
    assert not clashes
    assert _mnemonic(window.filter_bar.finished.text()) == "n"


def test_the_board_count_is_what_the_board_shows(window: MainWindow) -> None:
    window.menu_actions.show_board.trigger()
    QApplication.processEvents()
    on_board = sum(c.rowCount() for c in window.board_model.columns)
    assert window.filter_bar.count.text() == f"{on_board} shown"
    window.menu_actions.show_queue.trigger()
    QApplication.processEvents()
    assert window.filter_bar.count.text() == f"{window.model.rowCount()} shown"


def test_dark_theme_check_boxes_stand_out(window: MainWindow) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "dark")
    QApplication.processEvents()
    box: QCheckBox = window.filter_bar.mine
    image = box.grab().toImage()
    background = image.pixelColor(image.width() - 1, 1)
    brightest = max(
        image.pixelColor(x, y).lightness()
        for x in range(min(16, image.width()))  # the indicator, not the word
        for y in range(image.height())
    )
    # The indicator's outline is far lighter than the dark background.
    assert brightest - background.lightness() > 100
