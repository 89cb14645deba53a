"""The wall's optional metrics page: in the rotation only when on, right figures, empty cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from console.config.settings import Settings, WallSettings
from console.domain.text import clock_text
from console.models.wall_metrics import WallMetricsLoader
from console.store import Cache
from console.views.wall.metrics import MetricsPanel
from console.views.wall.window import Panel, WallWindow, open_wall
from tests.helpers.factories import NOW

ON = Settings(wall=WallSettings(metrics=True))


def wall_over(qtbot: QtBot, cache: Cache, settings: Settings) -> WallWindow:
    wall = open_wall(cache, settings, clock=lambda: NOW, show=False)
    qtbot.addWidget(wall)
    return wall


def loaded_panel(qtbot: QtBot, wall: WallWindow) -> MetricsPanel:
    panel = wall.findChild(MetricsPanel)
    assert panel is not None
    loader = panel.findChild(WallMetricsLoader)
    assert loader is not None
    qtbot.waitUntil(lambda: panel.metrics is not None, timeout=10_000)
    return panel


def test_the_page_is_in_the_rotation_only_when_enabled(qtbot: QtBot, known_cache: Cache) -> None:
    off = wall_over(qtbot, known_cache, Settings())
    assert Panel.METRICS not in off.available_panels()
    assert off.findChild(MetricsPanel) is None
    for _ in range(8):  # twice round the rotation: never the metrics page
        off.rotate()
        assert off.current_panel is not Panel.METRICS

    on = wall_over(qtbot, known_cache, ON)
    loaded_panel(qtbot, on)
    assert on.available_panels()[-1] is Panel.METRICS
    seen = set()
    for _ in range(len(on.available_panels())):
        on.rotate()
        seen.add(on.current_panel)
    assert Panel.METRICS in seen
    on.show_panel(Panel.METRICS)
    assert on.panel_title.text() == "SLA this week & backlog"
    assert "■ SLA this week & backlog" in on.pages_label.text()


def test_the_page_shows_the_figures_of_known_incidents(qtbot: QtBot, known_cache: Cache) -> None:
    wall = wall_over(qtbot, known_cache, ON)
    panel = loaded_panel(qtbot, wall)
    assert panel.cell_texts() == [
        ("SEV-1", "▲ 50 % below target", "✔ 100 %"),
        ("SEV-2", "—", "—"),
        ("SEV-3", "—", "—"),
        ("SEV-4", "—", "—"),
    ]
    assert panel.metrics is not None
    assert [n for _, n in panel.metrics.backlog] == [1, 1, 1, 0, 0]
    footer = panel.footer_text()
    assert "since Mon 16 Nov 00:00 UTC" in footer
    assert f"figures as of {clock_text(NOW)}" in footer


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)])
def test_an_empty_cache_paints_dashes_at_wall_sizes(
    qtbot: QtBot, empty_cache: Cache, tmp_path: Path, size: tuple[int, int]
) -> None:
    wall = wall_over(qtbot, empty_cache, ON)
    panel = loaded_panel(qtbot, wall)
    assert panel.cell_texts() == [(f"SEV-{n}", "—", "—") for n in range(1, 5)]
    assert panel.metrics is not None
    assert panel.metrics.open_total == 0
    wall.resize(*size)
    wall.show()
    wall.show_panel(Panel.METRICS)
    qtbot.waitExposed(wall)
    image = panel.grab().toImage()
    assert image.width() > 0
    assert image.height() > size[1] // 4
    # Something is painted on the black: the headings and the dashes.
    lit = sum(
        1
        for x in range(0, image.width(), 7)
        for y in range(0, image.height(), 7)
        if QColor(image.pixel(x, y)).lightness() > 100
    )
    assert lit > 20


def test_a_failed_computation_keeps_the_last_figures_and_says_so(
    qtbot: QtBot, known_cache: Cache
) -> None:
    wall = wall_over(qtbot, known_cache, ON)
    panel = loaded_panel(qtbot, wall)
    before = panel.cell_texts()
    panel.set_problem("The metrics could not be computed: the cache is closed")
    assert panel.cell_texts() == before
    assert panel.footer_text().startswith("⚠ The metrics could not be computed")


def test_closing_the_wall_stops_the_pages_refreshes(qtbot: QtBot, known_cache: Cache) -> None:
    wall = wall_over(qtbot, known_cache, ON)
    panel = loaded_panel(qtbot, wall)
    assert panel.refresher.isActive()
    wall.close()
    assert not panel.refresher.isActive()
