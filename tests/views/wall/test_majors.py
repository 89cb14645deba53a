"""The wall's major-incident strip over the demo: commander, time since declaration, countdowns."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from console.config.settings import Settings
from console.domain.sla import SlaPolicy
from console.services.demo import load_demo
from console.store import Cache
from console.views.wall.majors import WallMajors
from console.views.wall.window import WallWindow, open_wall
from tests.helpers.factories import NOW


@pytest.fixture
def demo_cache(tmp_path: Path) -> Iterator[Cache]:
    cache = Cache.open(tmp_path / "cache.db")
    load_demo(cache, NOW, policy=SlaPolicy.default())
    yield cache
    cache.close()


def _strip_on_a_wall(
    qtbot: QtBot, cache: Cache, clock: Callable[[], datetime], size: tuple[int, int]
) -> tuple[WallWindow, WallMajors]:
    """The wall over ``cache`` shown at ``size``, and its major strip."""
    wall = open_wall(cache, Settings(), clock=clock, show=False)
    qtbot.addWidget(wall)
    wall.resize(*size)
    wall.show()
    qtbot.waitExposed(wall)
    strip = wall.findChild(WallMajors)
    assert strip is not None
    return wall, strip


def test_wall_shows_commander_age_and_countdowns_legibly(
    qtbot: QtBot, demo_cache: Cache, tmp_path: Path
) -> None:
    now = [NOW]
    wall, strip = _strip_on_a_wall(qtbot, demo_cache, lambda: now[0], (1920, 1080))
    lines = [label.text() for label in strip.lines if label.isVisible()]
    running = lines[0]  # the commanded one first
    assert "checkout" in running
    assert "IC Tom Whitfield" in running
    assert "0h45m" in running
    assert "Int ⚠ OVERDUE 10:00" in running  # words and a shape
    assert "Cust 8:00" in running
    # The whole line is on the wall, none of it past the edge.
    assert strip.lines[0].fontMetrics().horizontalAdvance(running) <= (
        strip.lines[0].contentsRect().width()
    )
    # Legible at 5 m: at least 1/28 of a 1080-line wall (38 px).
    assert strip.lines[0].fontInfo().pixelSize() >= 38
    now[0] = NOW + timedelta(seconds=30)
    strip.tick()
    assert any("OVERDUE 10:30" in label.text() for label in strip.lines)
    out = Path(os.environ.get("NOC_SCREENSHOTS", tmp_path))
    assert wall.grab().save(str(out / "wall-majors.png"))


def test_the_strip_counts_down_on_the_backends_reckoning(qtbot: QtBot, tmp_path: Path) -> None:
    """The incident's ``next_update_due`` (what the queue's pill reads) wins over the wall's own
    reckoning: here the backend owes updates every 5 minutes, the wall's settings say 15."""
    with Cache.open(tmp_path / "five.db") as cache:
        load_demo(cache, NOW, policy=SlaPolicy.default(), cadence={1: 5, 2: 30})
        wall = open_wall(cache, Settings(), clock=lambda: NOW, show=False)
        qtbot.addWidget(wall)
        strip = wall.findChild(WallMajors)
        assert strip is not None
        running = strip.lines[0].text()
        assert "IC Tom Whitfield" in running
        assert "Int ⚠ OVERDUE 20:00" in running  # 25 min since the last, 5-min cadence
        wall.close()


def test_every_countdown_fits_a_1280_wall(qtbot: QtBot, demo_cache: Cache) -> None:
    """At 1280×720 the line is at its shortest, and still carries every countdown."""
    from console.views.wall.majors import fitted_line, strip_line

    _, strip = _strip_on_a_wall(qtbot, demo_cache, lambda: NOW, (1280, 720))
    strip.tick()
    line = strip.lines[0]
    assert "IC Tom Whitfield" in line.text()
    assert "Int ⚠ OVERDUE 10:00" in line.text()
    assert "Cust 8:00" in line.text()
    assert line.fontMetrics().horizontalAdvance(line.text()) <= line.contentsRect().width()
    # The fullest form that fits is taken; with room for all, the whole line.
    snap = strip._snaps[0]
    assert fitted_line(snap, NOW, lambda text: True) == strip_line(snap, NOW)
    assert "declared 0h45m ago" in strip_line(snap, NOW)
    assert "checkout" not in fitted_line(snap, NOW, lambda text: False)
