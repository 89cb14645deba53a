"""What the metrics dashboard shows, computed off the GUI thread from the local cache.

:func:`build_snapshot` reads the last weeks once, in one grouped statement, as
cells of one week, severity, team and source each
(:func:`console.store.metrics.cells`), and adds them up into every figure the
three tabs need — with the same definitions, code and numbers as
``GET /v1/metrics`` and ``noc-console metrics``.
:class:`DashboardLoader` runs it on a worker thread and hands the snapshot to
the GUI thread through a signal; changes to the incidents ask for a new one,
coalesced so a burst of sync updates costs one computation.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from console.domain import metrics as m
from console.domain import metrics_packed as mp
from console.domain.severity import Severity
from console.domain.sla import SlaPolicy
from console.services.reviews import review_standings
from console.store import Cache, CacheError
from console.store import metrics as cache_metrics

WEEKS = 13
"""The dashboard's window: the last 13 weeks (a quarter), the current week included."""
COMPLIANCE_TARGET = 0.95
"""The SLA compliance goal the charts draw as their target line."""
REFRESH_DELAY_MS = 2000
"""How long after a change the dashboard recomputes (a burst of changes: once)."""
SEVERITIES = ("SEV-1", "SEV-2", "SEV-3", "SEV-4")


@dataclass(frozen=True)
class DashboardSnapshot:
    """Every figure the dashboard shows, at one instant."""

    computed_at: datetime
    took_ms: float
    weeks: tuple[str, ...]
    # Per week (key order of ``weeks``): the whole report's group for that week.
    weekly: tuple[dict[str, Any], ...]
    # Per severity, per week: the week's group restricted to that severity.
    weekly_by_severity: Mapping[str, tuple[dict[str, Any], ...]]
    by_severity: dict[str, Any]
    by_team: dict[str, Any]
    by_source: dict[str, Any]
    mine_weekly: tuple[dict[str, Any], ...]
    mine: dict[str, Any] | None
    operator: str | None
    # Wall-clock targets in seconds per severity (None: a business-time target).
    response_targets: Mapping[str, float | None] = field(default_factory=dict)
    resolution_targets: Mapping[str, float | None] = field(default_factory=dict)
    # Post-incident reviews now (issue #20): not yet held (due), past their due
    # date unheld (overdue), and open action items past their due date.
    reviews_due: int = 0
    reviews_overdue: int = 0
    action_items_overdue: int = 0


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _wall_clock_targets(policy: SlaPolicy) -> tuple[dict[str, float | None], ...]:
    out: list[dict[str, float | None]] = []
    for targets in (policy.response, policy.resolution):
        out.append(
            {
                Severity(s).code: None
                if targets[Severity(s)].business
                else targets[Severity(s)].amount.total_seconds()
                for s in (1, 2, 3, 4)
            }
        )
    return tuple(out)


def _report(
    window: m.Window,
    cells: Sequence[cache_metrics.Cell],
    key: Callable[[cache_metrics.Cell], str | None],
    table: Sequence[Sequence[int]],
    backlog_counts: Sequence[int] | None = None,
) -> dict[str, Any]:
    """The report of ``window`` over some cells, grouped by ``key`` (the shape of /v1/metrics)."""
    groups, sources = mp.gather((key(c), c.source, c.packed) for c in cells)
    return mp.packed_report(window, groups, sources, table=table, backlog_counts=backlog_counts)


def _by_week(
    window: m.Window,
    weeks: Sequence[str],
    cells: Sequence[cache_metrics.Cell],
    table: Sequence[Sequence[int]],
) -> tuple[dict[str, Any], ...]:
    report = _report(window, cells, lambda c: c.week, table)
    groups = {g["key"]: g for g in report["groups"]}
    empty = _report(window, (), lambda c: c.week, table)["total"]
    return tuple(groups.get(w, {**empty, "key": w}) for w in weeks)


def build_snapshot(
    cache: Cache, *, now: datetime, operator: str | None, policy: SlaPolicy
) -> DashboardSnapshot:
    """Read the facts once and compute every figure (runs on the worker thread).

    The cyclic garbage collector is paused meanwhile: the computation makes a
    few hundred thousand short-lived objects (freed by reference counting), and
    each full collection they trigger scans every object the window holds with
    the GIL held, which froze the GUI thread for 0.6–1.9 s per refresh at 100k
    incidents. The queue's bulk load and the sync's catch-up pause it the same way.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build_snapshot(cache, now=now, operator=operator, policy=policy)
    finally:
        if collecting:
            gc.enable()


def _build_snapshot(
    cache: Cache, *, now: datetime, operator: str | None, policy: SlaPolicy
) -> DashboardSnapshot:
    started = time.perf_counter()
    first = week_start(now.astimezone(UTC).date()) - timedelta(weeks=WEEKS - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), datetime.min.time(), UTC)
    weeks = tuple((first + timedelta(weeks=k)).isoformat() for k in range(WEEKS))
    # One statement reads the quarter as cells; every view adds some of them up.
    found = cache_metrics.cells(cache, start, end, operator)
    ages = cache_metrics.backlog_counts(cache, now)
    weekly_window = m.make_window(start, end, "period", "week")
    # The business-hours MTTR on the site's SLA calendar.
    table = mp.calendar_table(policy.calendar, weekly_window, now)

    def grouped(group_by: str, subset: Sequence[cache_metrics.Cell]) -> dict[str, Any]:
        key: Callable[[cache_metrics.Cell], str | None] = {
            "severity": lambda c: c.severity,
            "team": lambda c: c.team,
            "source": lambda c: c.source,
        }[group_by]
        return _report(m.make_window(start, end, group_by), subset, key, table, ages)

    by_sev = {
        code: _by_week(weekly_window, weeks, [c for c in found if c.severity == code], table)
        for code in SEVERITIES
    }
    mine_cells = [c for c in found if c.mine]
    response, resolution = _wall_clock_targets(policy)
    standings = review_standings(cache.reference("pirs"), now).values()
    snapshot = DashboardSnapshot(
        computed_at=now,
        took_ms=0.0,
        weeks=weeks,
        weekly=_by_week(weekly_window, weeks, found, table),
        weekly_by_severity=by_sev,
        by_severity=grouped("severity", found),
        by_team=grouped("team", found),
        by_source=grouped("source", found),
        mine_weekly=_by_week(weekly_window, weeks, mine_cells, table),
        mine=grouped("severity", mine_cells) if operator else None,
        operator=operator,
        response_targets=response,
        resolution_targets=resolution,
        reviews_due=sum(st.status in ("due", "overdue") for st in standings),
        reviews_overdue=sum(st.overdue for st in standings),
        action_items_overdue=sum(st.overdue_items for st in standings),
    )
    return replace(snapshot, took_ms=(time.perf_counter() - started) * 1000)


class BackgroundLoader(QObject):
    """Computes a result on a worker thread; :attr:`loaded` delivers it on the GUI thread.

    :meth:`request` asks for a new result after ``delay_ms`` (further requests
    meanwhile are folded in); :meth:`refresh_now` starts one at once. One
    computation runs at a time; a request while one runs starts another when it
    is done, so the last change is always shown. ``started`` fires when a
    computation begins (a view marks its figures "updating…"); :attr:`last` is
    the newest result delivered (the last good figures). Subclasses give
    :meth:`compute` (runs on the worker thread).
    """

    started = Signal()
    loaded = Signal(object)
    failed = Signal(str)
    thread_name = "background-metrics"

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        delay_ms: int = REFRESH_DELAY_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._lock = threading.Lock()
        self._running = False
        self._again = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.refresh_now)
        self._threads: list[threading.Thread] = []
        self.last: object | None = None
        self.loaded.connect(self._keep)

    def compute(self, now: datetime) -> object:
        """The result at ``now`` (worker thread); raise ``CacheError``/``ValueError`` to fail."""
        raise NotImplementedError

    def _keep(self, result: object) -> None:
        self.last = result

    @property
    def busy(self) -> bool:
        """A computation is running or waiting to start."""
        return self._running or self._timer.isActive()

    def request(self, *_: object) -> None:
        """A change happened: recompute soon (coalesced)."""
        if not self._timer.isActive():
            self._timer.start()

    def refresh_now(self) -> None:
        with self._lock:
            if self._running:
                self._again = True
                return
            self._running = True
        self.started.emit()
        thread = threading.Thread(target=self._work, name=self.thread_name, daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def wait(self, timeout: float = 10.0) -> None:
        """Wait for the running computation (tests, shutdown)."""
        for thread in list(self._threads):
            thread.join(timeout)

    def _work(self) -> None:
        while True:
            try:
                result = self.compute(self._clock())
            except (CacheError, ValueError) as exc:
                self.failed.emit(f"The metrics could not be computed: {exc}")
            else:
                self.loaded.emit(result)
            with self._lock:
                if not self._again:
                    self._running = False
                    return
                self._again = False
            self.started.emit()


class DashboardLoader(BackgroundLoader):
    """The dashboard's snapshots (:func:`build_snapshot`) on a worker thread."""

    thread_name = "dashboard-metrics"
    last: DashboardSnapshot | None

    def __init__(
        self,
        cache: Cache,
        *,
        policy: SlaPolicy,
        operator: str | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(clock=clock, parent=parent)
        self._cache = cache
        self._policy = policy
        self._operator = operator

    def compute(self, now: datetime) -> DashboardSnapshot:
        return build_snapshot(self._cache, now=now, operator=self._operator, policy=self._policy)
