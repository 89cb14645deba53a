"""The SQL paths' side of the metrics: each group's durations packed, ranked with numpy.

Both SQL paths (``console.server.services.metrics`` and
``console.store.metrics``) run one grouped statement that counts and sums in
SQL and packs each group's durations into one text (``"412,96,…"``); this
module turns those groups into the answer :func:`console.domain.metrics.assemble`
gives: the exact nearest-rank medians and p90s (numpy's partition, the value
:func:`console.domain.metrics.stats` gives) and the business hours on the SLA
calendar's per-day table (:func:`console.domain.metrics.business_days`).
Ranking in the database would mean a sort per duration, about 0.5 µs a row on
SQLite: three times the whole statement.

numpy is imported where it is used: loaded, it slows a process's small
allocations down (``isoformat`` a third, the cache's row conversion a
quarter), and a server or a sync that never computes metrics has no need of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from console.domain.calendar import BusinessCalendar
from console.domain.metrics import (
    BACKLOG_BUCKETS,
    COUNT_FIELDS,
    DAY_SEGMENTS,
    DEFAULT_SEV1_THRESHOLD,
    Tally,
    Window,
    assemble,
    business_days,
    epoch_s,
    mean,
    period_key,
    rank,
    severity_code,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    IntArray = npt.NDArray[np.int64]

# The SQL paths' period numbers: whole days, and weeks from Monday 1969-12-29
# (1970-01-01 was a Thursday), since 1970 — ``(opened_s + WEEK_SHIFT_S) / WEEK_S``.
DAY_S = 86_400
WEEK_S = 7 * DAY_S
WEEK_SHIFT_S = 3 * DAY_S


def key_text(window: Window, key: Any) -> str | None:
    """A group key as the SQL read it, as the answer names it (SEV-1, 2026-11-30, …)."""
    if key is None:
        return None
    if window.group_by == "severity":
        return severity_code(int(key))
    if window.group_by == "period" and window.period in ("day", "week"):
        return period_number_text(int(key), window.period)
    return str(key)


def period_number_text(number: int, period: str) -> str:
    """A day or week number as the SQL paths count them, as its date (a week's Monday)."""
    seconds = number * DAY_S if period == "day" else number * WEEK_S - WEEK_SHIFT_S
    return period_key(seconds, "day")


def unpack(text: str | None) -> IntArray:
    """Whole numbers packed as ``"412,96,…"`` by the SQL paths (None or "" for none)."""
    import numpy as np

    if not text:
        return np.empty(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


def array_stats(values: IntArray) -> dict[str, float | int | None]:
    """Mean, nearest-rank median and p90 of whole seconds: what :func:`stats` gives."""
    import numpy as np

    n = len(values)
    if n == 0:
        return {"mean": None, "median": None, "p90": None}
    r50, r90 = rank(n, 0.5) - 1, rank(n, 0.9) - 1
    ranked = np.partition(values, (r50, r90))
    return {
        "mean": mean(int(values.sum()), n),
        "median": int(ranked[r50]),
        "p90": int(ranked[r90]),
    }


@dataclass
class Packed:
    """One group as a SQL path reads it: its sums and counts and its packed durations.

    ``ack`` the acknowledged incidents' seconds to acknowledge; ``fixes`` the
    resolved ones as ``opened_s, fix_s`` pairs (flattened), for the wall-clock
    and business-hours durations.
    """

    counts: dict[str, int]
    ack: list[IntArray]
    fixes: list[IntArray]

    @classmethod
    def empty(cls) -> Packed:
        return cls(dict.fromkeys(COUNT_FIELDS, 0), [], [])

    @classmethod
    def from_row(cls, row: Sequence[Any], first: int) -> Packed:
        """The group a result row reads from column ``first`` on (see :meth:`add`)."""
        packed = cls.empty()
        end = first + len(COUNT_FIELDS)
        packed.add(row[first:end], row[end], row[end + 1])
        return packed

    def add(self, counts: Sequence[Any], ack: str | None, fixes: str | None) -> None:
        """Add one result row: the :data:`COUNT_FIELDS` and the two packed texts."""
        for name, value in zip(COUNT_FIELDS, counts, strict=True):
            self.counts[name] += int(value or 0)
        self.ack.append(unpack(ack))
        self.fixes.append(unpack(fixes))

    def absorb(self, other: Packed) -> None:
        """Add another group's incidents to this one (their durations are not copied)."""
        for name, value in other.counts.items():
            self.counts[name] += value
        self.ack += other.ack
        self.fixes += other.fixes


def business_durations(
    table: Sequence[Sequence[int]], opened_s: IntArray, resolved_s: IntArray
) -> IntArray:
    """Working seconds between each pair, on a :func:`business_days` table (up to its end).

    The same arithmetic the table is made for (``before + Σ max(0, min(t, e) − s)``
    at each end, the difference floored at 0), for many incidents at once; an
    instant outside the table's days uses its first or last day's row.
    """
    import numpy as np

    if len(opened_s) == 0:
        return np.empty(0, dtype=np.int64)
    cal = np.asarray(table, dtype=np.int64)
    first = int(cal[0, 0])

    def worked_before(t: IntArray) -> IntArray:
        row = cal[np.clip(t // 86_400 - first, 0, len(cal) - 1)]
        total = row[:, 1].copy()
        for n in range(DAY_SEGMENTS):
            start, end = row[:, 2 + 2 * n], row[:, 3 + 2 * n]
            total += np.maximum(0, np.minimum(t, end) - start)
        return total

    return np.maximum(0, worked_before(resolved_s) - worked_before(opened_s))


def packed_tally(packed: Packed, table: Sequence[Sequence[int]]) -> Tally:
    """A group's tally from what the SQL read (``table``: the SLA calendar's days)."""
    import numpy as np

    ack = np.concatenate(packed.ack) if packed.ack else unpack(None)
    pairs = np.concatenate(packed.fixes) if packed.fixes else unpack(None)
    opened, fix = pairs[0::2], pairs[1::2]
    return Tally(
        dict(packed.counts),
        {},
        {
            "ack": array_stats(ack),
            "fix": array_stats(fix),
            "fix_business": array_stats(business_durations(table, opened, opened + fix)),
        },
    )


def packed_tallies(
    groups: Mapping[Any, Packed], table: Sequence[Sequence[int]]
) -> tuple[dict[Any, Tally], Tally]:
    """Every group's tally, and the total's (its medians over every group's durations)."""
    whole = Packed.empty()
    for packed in groups.values():
        whole.absorb(packed)
    return {k: packed_tally(p, table) for k, p in groups.items()}, packed_tally(whole, table)


def calendar_table(
    calendar: BusinessCalendar, window: Window, now: datetime
) -> list[tuple[int, ...]]:
    """The :func:`business_days` table a window's incidents need: its start to now."""
    first = window.start_s // 86_400
    last = max(epoch_s(now), window.end_s) // 86_400 + 1
    return business_days(calendar, first, last)


def gather(
    parts: Iterable[tuple[Any, str | None, Packed]],
) -> tuple[dict[Any, Packed], dict[str | None, int]]:
    """Groups and the incidents per source from ``(group key, source, packed)`` parts."""
    groups: dict[Any, Packed] = {}
    sources: dict[str | None, int] = {}
    for key, source, packed in parts:
        group = groups.get(key)
        if group is None:
            group = groups[key] = Packed.empty()
        group.absorb(packed)
        sources[source] = sources.get(source, 0) + packed.counts["count"]
    return groups, sources


def packed_report(
    window: Window,
    groups: Mapping[str | None, Packed],
    sources: Mapping[str | None, int],
    *,
    table: Sequence[Sequence[int]],
    backlog_counts: Sequence[int] | None = None,
    sev1_threshold: float = DEFAULT_SEV1_THRESHOLD,
) -> dict[str, Any]:
    """The whole answer (``GET /v1/metrics``'s shape) from groups keyed as it names them."""
    tallies, whole = packed_tallies(groups, table)
    return assemble(
        window,
        tallies,
        backlog_counts=backlog_counts or [0] * len(BACKLOG_BUCKETS),
        source_counts=sources,
        sev1_threshold=sev1_threshold,
        whole=whole,
    )
