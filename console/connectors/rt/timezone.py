"""The time-zone offset RT applies to the account's TicketSQL dates, per UTC quarter hour."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from console.connectors.rt.core import OFFSETS_KEPT
from console.connectors.rt.mapping import parse_time
from console.connectors.rt.queue import RtQueue
from console.connectors.rt.sql import quarter_of, sql_time


class RtTimeZone(RtQueue):
    """Measures and remembers the account's offset (docs/rt.md, "How syncing works")."""

    def _remember_times(self, transactions: Mapping[int, list[dict[str, Any]]]) -> None:
        for txns in transactions.values():
            for txn in txns:
                at = parse_time(txn.get("Created"))
                if at is not None:
                    with contextlib.suppress(KeyError, TypeError, ValueError):
                        self._remember_time(int(txn["id"]), at)

    def _remember_time(self, txn: int, at: datetime) -> None:
        """Keep a transaction's time (to resume from a cursor, and to measure the zone with)."""
        self._txn_times[txn] = at
        self._quarter_probes[quarter_of(at)] = (txn, at)
        if len(self._txn_times) > 200_000:
            newest = sorted(self._txn_times)[-50_000:]
            self._txn_times = {k: self._txn_times[k] for k in newest}
        if len(self._quarter_probes) > OFFSETS_KEPT:
            recent = sorted(self._quarter_probes)[-OFFSETS_KEPT // 2 :]
            self._quarter_probes = {q: self._quarter_probes[q] for q in recent}

    def _offset_for(self, at: datetime, *, measure: bool = True) -> timedelta:
        """The offset to write the instant ``at`` in a TicketSQL date with.

        Measured once per UTC quarter hour with a transaction of that quarter
        hour the connector knows; without one (or with ``measure`` False) the
        last offset measured is used.
        """
        quarter = quarter_of(at)
        known = self._offsets.get(quarter)
        if known is not None:
            return known
        probe = self._quarter_probes.get(quarter) if measure else None
        if probe is not None:
            return self._user_offset(*probe)
        return self._offset if self._offset is not None else timedelta(0)

    def _user_offset(self, probe: int, probe_at: datetime) -> timedelta:
        """The offset from UTC of the zone RT reads this account's date literals in,
        at ``probe_at`` (the time of transaction ``probe``).

        RT converts a date in a query with the zone's offset at that date read
        as if it were UTC, so near a change of the offset (daylight saving)
        its reading shifts at another instant than the zone's clocks do, and
        an hour of instants cannot be written at all. Measuring RT's reading
        itself covers both; the offset is kept per UTC quarter hour, the
        smallest span in which it can change.
        """
        quarter = quarter_of(probe_at)
        known = self._offsets.get(quarter)
        if known is not None:
            return known
        guess = self._offset if self._offset is not None else timedelta(0)
        if not self._offset_is(probe, probe_at, guess):
            step = timedelta(minutes=15)
            low, high = -48, 57  # offsets from -12:00 to +14:00 in quarter hours
            while high - low > 1:
                middle = (low + high) // 2
                if self._txn_matches(probe, f"Created >= {sql_time(probe_at, middle * step)}"):
                    low = middle
                else:
                    high = middle
            guess = low * step
            if not self._offset_is(probe, probe_at, guess):
                guess -= step  # never later than the truth: reading a little more is harmless
        self._offset = guess
        self._offsets[quarter] = guess
        if len(self._offsets) > OFFSETS_KEPT:
            recent = sorted(self._offsets)[-OFFSETS_KEPT // 2 :]
            self._offsets = {q: self._offsets[q] for q in recent}
        return guess

    def _offset_is(self, probe: int, probe_at: datetime, offset: timedelta) -> bool:
        start = sql_time(probe_at, offset)
        end = sql_time(probe_at + timedelta(seconds=1), offset)
        return self._txn_matches(probe, f"Created >= {start} AND Created < {end}")

    def _txn_matches(self, probe: int, condition: str) -> bool:
        return self._first("transactions", f"id = {probe} AND {condition}") is not None
