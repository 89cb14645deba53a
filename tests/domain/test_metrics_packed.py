"""The SQL paths' packed durations: ranked and measured with numpy, to the second.

:func:`~console.domain.metrics_packed.packed_tally` must give what the plain-Python
definitions give (``stats``, ``business_seconds``), or the server, the cache
and the reference would disagree.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time

import numpy as np
import pytest

from console.domain import metrics as m
from console.domain import metrics_packed as mp
from console.domain.calendar import BusinessCalendar

_LOS_ANGELES = BusinessCalendar(
    time_zone="America/Los_Angeles",
    day_start=time(9, 0),
    day_end=time(17, 0),
    holidays=frozenset({date(2026, 11, 26)}),
)


@pytest.mark.parametrize("n", [1, 2, 3, 9, 10, 11, 1000, 4321])
def test_ranks_and_means_are_the_plain_definitions(n: int) -> None:
    rng = random.Random(n)
    values = [int(rng.lognormvariate(6, 1.2)) for _ in range(n)]
    packed = ",".join(map(str, values))
    assert mp.array_stats(mp.unpack(packed)) == m.stats(list(values))
    assert mp.array_stats(mp.unpack("")) == m.stats([])
    assert mp.unpack(None).size == 0


def test_business_hours_are_the_calendars_own_count_across_dst_and_a_holiday() -> None:
    window = m.make_window("2026-10-20", "2026-11-30", "severity")
    now = datetime(2026, 12, 2, tzinfo=UTC)
    table = mp.calendar_table(_LOS_ANGELES, window, now)
    rng = random.Random(5)
    opened = [rng.randrange(window.start_s, window.end_s) for _ in range(2000)]
    # Some resolved within minutes, some days later (never after "now").
    now_s = m.epoch_s(now)
    resolved = [min(now_s, o + int(rng.lognormvariate(9, 1.5))) for o in opened]
    got = mp.business_durations(table, np.array(opened), np.array(resolved))
    expected = [
        m.business_seconds(_LOS_ANGELES, o, r) for o, r in zip(opened, resolved, strict=True)
    ]
    assert got.tolist() == expected


JAN = m.epoch_s(datetime(2026, 1, 5, 3, tzinfo=UTC))  # a Monday, before working hours


def test_a_group_and_the_total_from_packed_rows() -> None:
    a, b = mp.Packed.empty(), mp.Packed.empty()
    counts = [3, 2, 2, 2, 1, 2, 1, 1, 0, 1, 4, 3]  # the COUNT_FIELDS of one row
    a.add(counts, "60,120", f"{JAN},30,{JAN},90")
    b.add(counts, "600", f"{JAN},300")
    table = mp.calendar_table(
        _LOS_ANGELES,
        m.make_window("2026-01-01", "2026-02-01", "severity"),
        datetime(2026, 2, 2, tzinfo=UTC),
    )
    tallies, whole = mp.packed_tallies({"a": a, "b": b}, table)
    assert tallies["a"].stats is not None
    assert whole.stats is not None
    assert tallies["a"].stats["ack"] == {"mean": 90.0, "median": 60, "p90": 120}
    assert whole.stats["ack"] == {"mean": 260.0, "median": 120, "p90": 600}
    assert whole.stats["fix"] == {"mean": 140.0, "median": 90, "p90": 300}
    assert whole.counts["count"] == 6
    # 03:00 UTC is the evening before in Los Angeles: no working time at all.
    assert whole.stats["fix_business"] == {"mean": 0.0, "median": 0, "p90": 0}


@pytest.mark.parametrize(
    ("kind", "data", "marks"),
    [
        ("escalation", {"tier": 2}, (True, False, None)),
        ("assignment", {"assignment_group": {"from": None, "to": "Network"}}, (False, False, None)),
        ("assignment", {"assignment_group": {"from": "Network", "to": "DB"}}, (True, False, None)),
        ("state_change", {"from": "resolved", "to": "reopened"}, (False, True, None)),
        ("state_change", {"from": "new", "to": "in_progress"}, (False, False, None)),
        ("csat", {"score": 4}, (False, False, 4)),
        ("csat", {"score": 9}, (False, False, None)),
        ("work_note", {}, (False, False, None)),
    ],
)
def test_what_an_entry_marks(kind: str, data: dict[str, object], marks: tuple[object, ...]) -> None:
    assert m.entry_marks(kind, data) == marks
