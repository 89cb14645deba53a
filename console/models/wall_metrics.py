"""The wall's metrics page: SLA compliance this week per severity and the open backlog by age.

Shown only with ``[wall] metrics = true``. "This week" is the dashboard's
week: Monday 00:00 UTC (an ISO week, keyed by its Monday) up to now, over the
incidents opened in it. Compliance uses the definitions of docs/metrics.md
and the cache path of ``noc-console metrics`` (:func:`console.store.metrics.compute`),
so the wall, the dashboard, the command and ``GET /v1/metrics`` agree. The
backlog counts every open incident now, in the buckets of
:data:`console.domain.metrics.BACKLOG_BUCKETS`.

It reads the cache file (a few tens of milliseconds over 100 000 cached
incidents), so :class:`WallMetricsLoader` computes it on a worker thread (the dashboard's
:class:`~console.models.dashboard.BackgroundLoader`) and the wall paints the
last result.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QObject

from console.domain import metrics as m
from console.models.dashboard import COMPLIANCE_TARGET, SEVERITIES, BackgroundLoader, week_start
from console.store import Cache
from console.store import metrics as cache_metrics

WALL_METRICS_REFRESH_MS = 60_000
"""How often the page's figures are worked out again (they move slowly)."""


@dataclass(frozen=True)
class SeverityCompliance:
    """One severity's SLA compliance this week (None: nothing to measure yet)."""

    severity: str  # "SEV-1"
    opened: int
    response: float | None
    resolution: float | None


@dataclass(frozen=True)
class WallMetrics:
    """Everything the metrics page shows, computed at ``computed_at``."""

    computed_at: datetime
    week_from: datetime
    compliance: tuple[SeverityCompliance, ...]
    backlog: tuple[tuple[str, int], ...]  # (bucket label, open incidents), every bucket
    target: float = COMPLIANCE_TARGET

    @property
    def open_total(self) -> int:
        return sum(n for _, n in self.backlog)


def this_week(now: datetime) -> tuple[datetime, datetime]:
    """``[Monday 00:00 UTC, now)``; a moment wide when now is Monday 00:00 itself."""
    day = week_start(now.astimezone(UTC).date())
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = max(now.astimezone(UTC), start + timedelta(seconds=1))
    return start, end


def build_wall_metrics(cache: Cache, now: datetime) -> WallMetrics:
    """Read this week's facts and the open ages from the cache (worker thread)."""
    start, end = this_week(now)
    answer = cache_metrics.compute(cache, m.make_window(start, end, "severity"), now=now)
    groups = {g["key"]: g for g in answer["groups"]}
    compliance = tuple(
        SeverityCompliance(
            severity=code,
            opened=int(groups.get(code, {}).get("count", 0)),
            response=groups.get(code, {}).get("response_sla_met"),
            resolution=groups.get(code, {}).get("resolution_sla_met"),
        )
        for code in SEVERITIES
    )
    backlog = tuple((b["bucket"], int(b["count"])) for b in answer["backlog"])
    return WallMetrics(computed_at=now, week_from=start, compliance=compliance, backlog=backlog)


def compliance_text(share: float | None, target: float = COMPLIANCE_TARGET) -> str:
    """``✔ 96 %`` at or above target, ``▲ 71 % below target`` under it, ``—`` when none."""
    if share is None:
        return "—"
    percent = math.floor(share * 100 + 1e-9)  # down: 94.9 % never reads as a met 95 %
    if share >= target:
        return f"✔ {percent} %"
    return f"▲ {percent} % below target"


class WallMetricsLoader(BackgroundLoader):
    """:func:`build_wall_metrics` on a worker thread; ``loaded`` carries a :class:`WallMetrics`."""

    thread_name = "wall-metrics"
    last: WallMetrics | None

    def __init__(
        self,
        cache: Cache,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        delay_ms: int = 10_000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(clock=clock, delay_ms=delay_ms, parent=parent)
        self._cache = cache

    def compute(self, now: datetime) -> WallMetrics:
        return build_wall_metrics(self._cache, now)
