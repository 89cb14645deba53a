"""The wall display: stale banner without a backend, ticking, rotation, no dialogs, sizes.

The wall is built over a real cache holding the demo NOC (loaded at NOW, a
Wednesday 10:00 UTC) with a clock the tests control.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from console.config.settings import Settings, WallSettings
from console.connectors.noc import NocBackend
from console.domain.severity import Severity
from console.domain.sla import SlaPolicy
from console.models.sync_worker import SyncThread
from console.models.wall import WallModel, WallReference
from console.services.demo import load_demo
from console.store import Cache, ChangeSet
from console.sync.engine import Backoff, SyncEngine, SyncState, SyncStatus, SyncUpdate
from console.views.wall.widgets import WallScale
from console.views.wall.window import Panel, WallWindow, open_wall
from tests.helpers.factories import NOW
from tests.helpers.factories import desk_incident as make_incident


class Clock:
    """Each reading is one second later than the one before: time passes as the wall asks."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at


@pytest.fixture
def demo_cache(tmp_path: Path) -> Iterator[Cache]:
    cache = Cache.open(tmp_path / "cache.db")
    load_demo(cache, NOW, policy=SlaPolicy.default())
    yield cache
    cache.close()


@pytest.fixture
def wall(qtbot: QtBot, demo_cache: Cache) -> WallWindow:
    window = open_wall(demo_cache, Settings(), clock=Clock(NOW), show=False)
    qtbot.addWidget(window)
    window.resize(1920, 1080)
    return window


def visible_dialogs() -> list[QWidget]:
    return [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QDialog | QMessageBox) and w.isVisible()
    ]


def colour_at(image: QImage, x: int, y: int) -> QColor:
    return QColor(image.pixel(x, y))


# ------------------------------------------------------------------ no backend


def test_without_a_backend_the_banner_shows_the_data_age_and_the_wall_keeps_rendering(
    qtbot: QtBot, wall: WallWindow
) -> None:
    last = NOW - timedelta(minutes=10)
    wall.set_connection("offline", last)
    wall.show()
    qtbot.waitExposed(wall)
    assert wall.banner.isVisible()
    local = last.astimezone()
    assert wall.banner.text() == (
        f"⚠ BACKEND UNREACHABLE — data as of {local:%H:%M:%S} (10 min ago)"
    )
    first = wall.grab().toImage()
    first_clock = wall.clock_label.text()

    wall.ticker.setInterval(20)
    for _ in range(3):
        with qtbot.waitSignal(wall.ticker.timeout, timeout=2000):
            pass
    assert wall.clock_label.text() != first_clock
    assert wall.banner.isVisible()
    assert "BACKEND UNREACHABLE" in wall.banner.text()
    second = wall.grab().toImage()
    assert (second.width(), second.height()) == (1920, 1080)
    assert second != first  # the clock moved on screen
    # The banner is a red band across the top part of the screen.
    banner = wall.banner.geometry()
    assert colour_at(second, banner.left() + 4, banner.center().y()) == QColor("#C62828")
    # The counters still show the cached data.
    assert wall.counters[Severity.SEV1].count == 7  # with the running major (#19)


def test_with_a_real_sync_engine_and_no_backend_the_wall_says_so_and_keeps_going(
    qtbot: QtBot, wall: WallWindow, demo_cache: Cache
) -> None:
    """The real sync engine on its thread, pointed at a loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = NocBackend(f"http://127.0.0.1:{port}", token="viewer-token", connect_timeout=0.5)
    engine = SyncEngine(demo_cache, backend, backoff=Backoff(base=0.05, cap=0.2))
    sync = SyncThread(engine)
    sync.worker.status_changed.connect(wall.on_sync_status)
    wall.show()
    qtbot.waitExposed(wall)
    sync.start()
    try:
        qtbot.waitUntil(lambda: wall.connection_state == "offline", timeout=10_000)
        assert wall.banner.isVisible()
        assert wall.banner.text().startswith("⚠ BACKEND UNREACHABLE — ")
        clock_before = wall.clock_label.text()
        wall.ticker.setInterval(20)
        with qtbot.waitSignal(wall.ticker.timeout, timeout=2000):
            pass
        assert wall.clock_label.text() != clock_before
        assert sync.is_running()  # still trying to reconnect by itself
        assert wall.counters[Severity.SEV1].count == 7  # the cached data stays up
        assert not wall.grab().isNull()
    finally:
        # SyncThread.stop() would block the GUI thread in QThread.wait() while the
        # worker's finished → quit call waits, queued, for that same GUI thread;
        # stop the engine and let the event loop deliver it instead.
        sync.engine.stop()
        qtbot.waitUntil(lambda: not sync.is_running(), timeout=10_000)


def test_the_banner_goes_when_live_and_says_when_it_retries(qtbot: QtBot, wall: WallWindow) -> None:
    wall.show()
    qtbot.waitExposed(wall)
    wall.set_connection("live", NOW)
    assert not wall.banner.isVisible()
    assert wall.pill_label.text() == "● LIVE"
    wall.set_connection("reconnecting", NOW - timedelta(minutes=2), NOW + timedelta(seconds=40))
    assert wall.banner.isVisible()
    assert wall.banner.text().startswith("⚠ RECONNECTING TO THE BACKEND — data as of")
    assert wall.pill_label.text() == ""
    assert "next try in" in wall.age_label.text()
    wall.set_connection("offline", None)
    assert wall.banner.text() == "⚠ BACKEND UNREACHABLE — no data received yet"


def test_the_wall_follows_the_sync_workers_reports(qtbot: QtBot, wall: WallWindow) -> None:
    wall.show()
    status = SyncStatus(
        state=SyncState.AUTH_FAILED,
        backend="https://noc.example.com",
        data_as_of=NOW - timedelta(minutes=3),
    )
    wall.on_sync_status(status)
    assert wall.connection_state == "auth_failed"
    assert wall.banner.text().startswith("⚠ TOKEN REFUSED BY THE BACKEND — data as of")
    wall.on_state_changed("live", "Live")
    assert not wall.banner.isVisible()

    before = wall.counters[Severity.SEV1].count
    fresh = make_incident(9001, Severity.SEV1, age_min=1)
    update = SyncUpdate(
        changes=ChangeSet(inserted=frozenset({fresh.id})), incidents={fresh.id: fresh}
    )
    wall.apply_update(update)
    qtbot.waitUntil(lambda: wall.counters[Severity.SEV1].count == before + 1, timeout=3000)


# ------------------------------------------------------------------ rotation


def test_panels_and_pages_rotate_on_the_timer(qtbot: QtBot, wall: WallWindow) -> None:
    wall.show()
    qtbot.waitExposed(wall)
    assert wall.available_panels() == [Panel.MAJOR, Panel.AT_RISK, Panel.ON_CALL]
    pages = {panel: wall.panels[panel].page_count for panel in wall.available_panels()}
    expected = [(panel, page) for panel, count in pages.items() for page in range(count)]
    assert len(expected) > 3  # the demo needs more than one page somewhere at 1080p
    seen = [(wall.current_panel, wall.panels[wall.current_panel].page)]
    wall.rotator.setInterval(20)
    for _ in range(len(expected)):
        with qtbot.waitSignal(wall.rotator.timeout, timeout=2000):
            pass
        seen.append((wall.current_panel, wall.panels[wall.current_panel].page))
    assert seen == [*expected, expected[0]]  # every page of every panel, then round again
    assert wall.panel_title.text().startswith(wall.current_panel.title)


def test_the_on_call_panel_is_left_out_without_on_call_data(
    qtbot: QtBot, policy: SlaPolicy
) -> None:
    model = WallModel(policy, [make_incident(1, Severity.SEV1)], reference=WallReference())
    wall = WallWindow(model, clock=Clock(NOW))
    qtbot.addWidget(wall)
    wall.resize(1920, 1080)
    assert wall.available_panels() == [Panel.MAJOR, Panel.AT_RISK]
    assert "On call now: no on-call data" in wall.pages_label.text()
    for _ in range(4):
        wall.rotate()
        assert wall.current_panel is not Panel.ON_CALL
    wall.show_panel(Panel.AT_RISK)
    assert wall.at_risk_panel.items == ()  # says "No SLA clock at risk" rather than nothing
    assert wall.panel_title.text() == "SLA at risk · 0"


def test_arrow_keys_turn_the_pages_too(qtbot: QtBot, wall: WallWindow) -> None:
    wall.show()
    qtbot.waitExposed(wall)
    start = (wall.current_panel, wall.panels[wall.current_panel].page)
    qtbot.keyClick(wall, Qt.Key.Key_Right)
    assert (wall.current_panel, wall.panels[wall.current_panel].page) != start
    qtbot.keyClick(wall, Qt.Key.Key_Left)
    assert (wall.current_panel, wall.panels[wall.current_panel].page) == start


# ------------------------------------------------------------------ never blocked


def test_no_dialog_is_ever_shown_on_the_wall(qtbot: QtBot, wall: WallWindow) -> None:
    wall.set_connection("auth_failed", NOW - timedelta(hours=1))
    wall.show()
    qtbot.waitExposed(wall)
    wall.ticker.setInterval(20)
    wall.rotator.setInterval(30)
    results: list[int] = []
    # Something (a stray error path) tries to put up a message box while the wall runs.
    QTimer.singleShot(
        50, lambda: results.append(QMessageBox.critical(wall, "Sign in", "Token refused"))
    )
    qtbot.waitUntil(lambda: results != [], timeout=3000)
    assert results == [QMessageBox.StandardButton.NoButton]  # closed unanswered
    assert wall.guard.closed == ["Sign in"]
    for _ in range(5):
        with qtbot.waitSignal(wall.ticker.timeout, timeout=2000):
            pass
        assert visible_dialogs() == []
    assert wall.isVisible()


def test_the_wall_is_read_only(wall: WallWindow) -> None:
    assert wall.actions() == []
    assert wall.findChildren(QLineEdit) == []
    assert not any(w.focusPolicy() & Qt.FocusPolicy.TabFocus for w in wall.findChildren(QWidget))


def test_the_guard_stands_down_when_the_wall_closes(qtbot: QtBot, wall: WallWindow) -> None:
    wall.show()
    qtbot.waitExposed(wall)
    wall.close()
    box = QMessageBox(QMessageBox.Icon.Information, "Elsewhere", "Not on the wall")
    qtbot.addWidget(box)
    box.show()
    qtbot.wait(50)
    assert box.isVisible()
    assert wall.guard.closed == []


# ------------------------------------------------------------------ read from 5 m


def digit_height(image: QImage, left: int) -> int:
    """Height in pixels of the white glyphs right of ``left`` (the counter's number)."""
    rows = [
        y
        for y in range(image.height())
        if any(QColor(image.pixel(x, y)).lightness() > 240 for x in range(left, image.width(), 2))
    ]
    return rows[-1] - rows[0] + 1 if rows else 0


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160)])
def test_counters_are_at_least_8_percent_of_the_screen_height(
    qtbot: QtBot, wall: WallWindow, width: int, height: int
) -> None:
    wall.resize(width, height)
    wall.show()
    qtbot.waitExposed(wall)
    counter = wall.counters[Severity.SEV3]
    assert counter.count == 31
    image = counter.grab().toImage()
    # The number sits right of the badge column, in the right half of the tile.
    assert digit_height(image, image.width() // 2) >= 0.08 * height
    assert WallScale(height).row >= 0.04 * height  # list text too


def test_the_wall_opens_full_screen(qtbot: QtBot, demo_cache: Cache) -> None:
    settings = Settings(wall=WallSettings(rotate_seconds=7, services=("checkout",)))
    wall = open_wall(demo_cache, settings, clock=Clock(NOW))
    qtbot.addWidget(wall)
    qtbot.waitExposed(wall)
    assert wall.isFullScreen()
    assert wall.rotator.interval() == 7000
    assert wall.cursor().shape() == Qt.CursorShape.BlankCursor
    snapshot = wall.snapshot
    assert snapshot is not None
    assert snapshot.on_call is not None
    assert [row.service_id for row in snapshot.on_call.rows] == ["checkout"]


# ------------------------------------------------------------------ pictures


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160)])
def test_render_the_demo_wall(
    qtbot: QtBot, wall: WallWindow, tmp_path: Path, width: int, height: int
) -> None:
    """Renders every panel as the wall would show it; the PNGs are left in tmp_path to look at."""
    wall.set_connection("offline", NOW - timedelta(minutes=7))
    wall.resize(width, height)
    wall.show()
    qtbot.waitExposed(wall)
    for panel in wall.available_panels():
        wall.show_panel(panel)
        image = wall.grab().toImage()
        assert image.save(str(tmp_path / f"wall-{panel.value}-{height}.png"))
        assert (image.width(), image.height()) == (width, height)
        # Black background in the margins, so it reads as a wall and not a desktop window.
        assert colour_at(image, 2, height - 2) == QColor("#000000")
    # The SEV-1 tile's border is drawn in the SEV-1 colour (colour + shape + text).
    tile = wall.counters[Severity.SEV1]
    corner = tile.mapTo(wall, QPoint(tile.width() // 2, 8 * height // 1080))
    assert colour_at(wall.grab().toImage(), corner.x(), corner.y()) == QColor(
        Severity.SEV1.style.colour
    )


def test_stale_data_never_shows_an_all_clear(qtbot: QtBot, demo_cache: Cache) -> None:
    from console.views.wall.window import WallWindow

    model = WallModel(SlaPolicy.default(), [], reference=WallReference.from_cache(demo_cache))
    window = WallWindow(model, clock=Clock(NOW))
    qtbot.addWidget(window)
    window.resize(1920, 1080)
    window.set_connection("live", NOW)
    assert window.major_panel.empty_message().startswith("✔")
    window.set_connection("offline", NOW - timedelta(minutes=9))
    message = window.major_panel.empty_message()
    assert "✔" not in message
    assert "unreachable" in message
    assert "✔" not in window.at_risk_panel.empty_message()
    window.set_connection("live", NOW)
    assert window.major_panel.empty_message().startswith("✔")


def test_the_on_call_page_fills_the_screen(wall: WallWindow) -> None:
    wall.show()
    wall.show_panel(Panel.ON_CALL)
    panel = wall.on_call_panel
    assert len(panel.items) >= 4
    assert panel.rows_per_page >= 4
    # The rows shown take most of the panel: no half screen of black.
    used = panel.header_height() + panel.rows_per_page * panel.row_height()
    assert used >= 0.8 * panel.height()
