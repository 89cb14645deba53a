"""The wall's metrics page figures: this week's SLA compliance per severity and the backlog."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pytestqt.qtbot import QtBot

from console.models.wall_metrics import (
    WallMetrics,
    WallMetricsLoader,
    build_wall_metrics,
    compliance_text,
    this_week,
)
from console.store import Cache
from tests.helpers.factories import NOW
from tests.helpers.wall_metrics import MONDAY


def by_severity(metrics: WallMetrics) -> dict[str, tuple[int, float | None, float | None]]:
    return {c.severity: (c.opened, c.response, c.resolution) for c in metrics.compliance}


def test_the_figures_of_known_incidents(known_cache: Cache) -> None:
    metrics = build_wall_metrics(known_cache, NOW)
    assert metrics.week_from == MONDAY == datetime(2026, 11, 16, tzinfo=UTC)
    assert by_severity(metrics) == {
        "SEV-1": (2, 0.5, 1.0),  # one response late; the one resolved was in time
        "SEV-2": (0, None, None),  # opened last week: not this week's
        "SEV-3": (0, None, None),
        "SEV-4": (1, None, None),  # not acknowledged yet: nothing to measure
    }
    assert metrics.backlog == (
        ("< 1 day", 1),
        ("1–3 days", 1),
        ("3–7 days", 1),
        ("7–30 days", 0),
        ("> 30 days", 0),
    )
    assert metrics.open_total == 3


def test_an_empty_cache_has_nothing_to_measure(empty_cache: Cache) -> None:
    metrics = build_wall_metrics(empty_cache, NOW)
    assert all(c == (0, None, None) for c in by_severity(metrics).values())
    assert [n for _, n in metrics.backlog] == [0, 0, 0, 0, 0]


def test_the_week_starts_monday_midnight_utc() -> None:
    assert this_week(NOW) == (MONDAY, NOW)
    monday = datetime(2026, 11, 16, tzinfo=UTC)
    start, end = this_week(monday)  # the very first instant: a window a second wide
    assert start == monday
    assert end > start


@pytest.mark.parametrize(
    ("share", "text"),
    [
        (0.96, "✔ 96 %"),
        (0.95, "✔ 95 %"),
        (1.0, "✔ 100 %"),
        (0.9499, "▲ 94 % below target"),  # rounded down: never reads as met
        (0.71, "▲ 71 % below target"),
        (0.0, "▲ 0 % below target"),
        (None, "—"),
    ],
)
def test_compliance_reads_without_colour(share: float | None, text: str) -> None:
    assert compliance_text(share, 0.95) == text


def test_the_loader_computes_on_a_worker_thread(qtbot: QtBot, known_cache: Cache) -> None:
    import threading

    seen: list[str] = []
    loader = WallMetricsLoader(known_cache, clock=lambda: NOW)
    original = loader.compute

    def compute(now: datetime) -> WallMetrics:
        seen.append(threading.current_thread().name)
        return original(now)

    loader.compute = compute  # type: ignore[method-assign]
    with qtbot.waitSignal(loader.loaded, timeout=10_000) as blocker:
        loader.refresh_now()
    assert isinstance(blocker.args[0], WallMetrics)
    assert loader.last is blocker.args[0]
    assert seen == ["wall-metrics"]
    assert threading.current_thread().name not in seen
