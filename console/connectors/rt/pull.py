"""The change feed RT lacks: polling the queue by LastUpdated, and the tickets that left it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from console.connectors.base import BackendError, ChangeBatch, EventStream, Rejected
from console.connectors.rt.client import _Answer, _items, _last_page, _total
from console.connectors.rt.core import PAGE_MAX, TICKET_FIELDS, _Delivered
from console.connectors.rt.directory import DirectoryError, ReferenceChanges
from console.connectors.rt.history import RtHistory
from console.connectors.rt.mapping import (
    TicketHistory,
    fold_transactions,
    incident_id,
    parse_time,
    ticket_id_of,
    ticket_number,
    timeline_from_transactions,
)
from console.connectors.rt.sql import Keyset, changed_since_sql
from console.domain.incident import Incident, TimelineEvent


class RtPull(RtHistory):
    """``changes`` and ``latest_cursor``: catch-up pages, keyset positions, tickets that left."""

    def latest_cursor(self) -> int | None:
        """The newest transaction id in the queue (for progress)."""
        try:
            newest = self._newest_transaction()
        except Rejected:
            return None
        return newest[0] if newest is not None else None

    def _newest_transaction(self, at_most: int | None = None) -> tuple[int, datetime | None] | None:
        """The queue's newest transaction (with an id of at most ``at_most``) and its time."""
        queue_id = self._prepare()
        query = f"TicketQueue = {queue_id}"
        if at_most is not None:
            query += f" AND id <= {at_most}"
        newest = self._first("transactions", query, newest=True, fields="Created")
        if newest is None:
            return None
        number = int(newest["id"])
        at = parse_time(newest.get("Created"))
        if at is not None:
            self._remember_time(number, at)
        return number, at

    def open_events(self, last_seen: int | None) -> EventStream:
        raise BackendError("Request Tracker has no event stream; the console polls it")

    def changes(self, after: int, limit: int = PAGE_MAX) -> ChangeBatch:
        """The queue's tickets changed since the cursor ``after``, at most ``limit`` a page.

        Pages that bring no newer transaction (tickets seen before, or tickets
        whose transactions are older than ones already delivered, as after an
        import) are read on within this call until the cursor moves or the
        search ends: the cursor is the only position the engine keeps, so a
        batch that leaves it where it was must not leave anything unread.
        """
        queue_id = self._prepare()
        per_page = max(1, min(limit, PAGE_MAX))
        if after < self._high_water:
            # Asked again from an older cursor: what was delivered since may not have
            # reached the cache (a failed write), so nothing counts as delivered.
            self._delivered.clear()
            self._tombstone_floor = None
        if self._tombstone_floor is None:
            self._tombstone_floor = after
        position = self._keysets.get(after)
        if after > 0:
            probe, probe_at = self._resume_point(after)
            if probe is not None and probe_at is not None:
                self._user_offset(probe, probe_at)
                if position is None:
                    position = Keyset(probe_at - self.overlap, 0)
        incidents: list[Incident] = []
        timeline: list[TimelineEvent] = []
        cursor = after
        more = False
        page_number = 1
        while True:
            query = self._changed_since(queue_id, position)
            answer = self._ticket_page(query, per_page, page_number)
            found_page = _items(answer.data, self._web)
            # A short page is not the end (see _search): the end is an empty page,
            # or the last one by RT's total, which ticket searches report.
            more = bool(found_page) and not _last_page(answer.data, page_number, per_page)
            # RT may read the page's date earlier than meant (near a change of the
            # account's UTC offset): what lies before the position was read already.
            page = [t for t in found_page if position is None or position.precedes(t)]
            if page:
                updated = parse_time(page[-1].get("LastUpdated"))
                if updated is not None:
                    position = Keyset(updated, ticket_id_of(page[-1]))
                page_number = 1
            else:
                page_number += 1  # a whole page before the position: read on past it
            if more and position is not None:
                # A long catch-up: ask for the next page while this one's
                # transactions are read (RT spends most of a request checking
                # the token, so overlapping requests nearly halves the time).
                self._prefetch_page(
                    self._changed_since(queue_id, position, measure=False), per_page, page_number
                )
            found, events, top = self._read_page(page, answer.server_time)
            incidents += found
            timeline += events
            cursor = max(cursor, top)
            if not more or cursor > after:
                break
        if incidents and not self._note_rights_checked:
            self._check_note_rights(ticket_number(incidents[0].id))
        self._high_water = max(self._high_water, cursor)
        if more and position is not None:
            # First come wins: re-asking for this cursor after a failed page
            # re-reads from the earliest page that returned it.
            self._keysets.setdefault(cursor, position)
        else:
            self._keysets.clear()
        reference: dict[str, tuple[Mapping[str, object], ...]] = {}
        deleted_reference: dict[str, tuple[str, ...]] = {}
        gone: tuple[str, ...] = ()
        if not more:
            reference, deleted_reference = self._directory_changes()
            gone = self._tombstones(queue_id, after, [ticket_number(i.id) for i in incidents])
        return ChangeBatch(
            cursor=cursor,
            more=more,
            incidents=tuple(i for i in incidents if i.id not in gone),
            deleted_incidents=gone,
            timeline=tuple(timeline),
            reference=reference,
            deleted_reference=deleted_reference,
            count=len(incidents),
        )

    def _changed_since(
        self, queue_id: int, position: Keyset | None, *, measure: bool = True
    ) -> str:
        """TicketSQL for the queue's tickets after ``position``, its date in the account's zone."""
        if position is None:
            return changed_since_sql(queue_id, None, timedelta(0))
        offset = self._offset_for(position.updated, measure=measure)
        return changed_since_sql(queue_id, position, offset)

    def _ticket_params(self, query: str, per_page: int, page: int) -> list[tuple[str, object]]:
        return [
            ("query", query),
            ("orderby", "LastUpdated"),
            ("order", "ASC"),
            ("orderby", "id"),
            ("order", "ASC"),
            ("fields", TICKET_FIELDS),
            ("per_page", per_page),
            ("page", page),
        ]

    def _ticket_page(self, query: str, per_page: int, page: int) -> _Answer:
        """One page of the ticket search (the one asked for ahead, if it matches)."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            if ahead[0] == (query, per_page, page):
                return ahead[1].result()
            ahead[1].cancel()
        return self._call("GET", "tickets", params=self._ticket_params(query, per_page, page))

    def _prefetch_page(self, query: str, per_page: int, page: int) -> None:
        params = self._ticket_params(query, per_page, page)
        future = self._pool.submit(self._call, "GET", "tickets", params=params)
        self._ahead = ((query, per_page, page), future)

    def _read_page(
        self, page: list[dict[str, Any]], server_time: datetime
    ) -> tuple[list[Incident], list[TimelineEvent], int]:
        """The page's changed tickets as incidents and timeline entries, and its top version."""
        wanted: dict[int, int] = {}
        tickets: dict[int, dict[str, Any]] = {}
        top = 0
        for ticket in page:
            number = ticket_id_of(ticket)
            updated = parse_time(ticket.get("LastUpdated"))
            seen = self._delivered.get(number)
            if seen is not None:
                top = max(top, seen.version)
            settled = (
                seen is not None
                and updated == seen.last_updated
                and seen.read_at - seen.last_updated > self.overlap
            )
            if settled:
                continue
            tickets[number] = ticket
            wanted[number] = seen.version if seen is not None else 0
        if not tickets:
            return [], [], top
        transactions = self._transactions(wanted)
        self._remember_times(transactions)
        contents = self._contents(transactions)
        users = self._names_for_owner_changes(transactions)
        incidents: list[Incident] = []
        timeline: list[TimelineEvent] = []
        for number, ticket in tickets.items():
            fresh = transactions.get(number, [])
            seen = self._delivered.get(number)
            updated = parse_time(ticket.get("LastUpdated")) or server_time
            if seen is not None and not fresh and updated == seen.last_updated:
                # Nothing new after all: it has settled now.
                self._delivered[number] = replace(seen, read_at=server_time)
                continue
            history = fold_transactions(
                self._history.get(number, TicketHistory()), fresh, contents, self.mapping.statuses
            )
            if history.description is None and seen is None:
                history = replace(history, description="")
            self._history[number] = history
            version = history.version or (seen.version if seen else 0)
            if version <= 0:
                version = self._etag_of(number)
            incident = self._incident(ticket, history, version)
            incidents.append(incident)
            timeline += timeline_from_transactions(
                number,
                fresh,
                contents,
                self.mapping,
                user_names=users,
                cf_names=self._cf_by_id,
            )
            self._delivered[number] = _Delivered(updated, version, server_time)
            top = max(top, version)
        return incidents, timeline, top

    def _tombstones(
        self, queue_id: int, after: int, delivered: Sequence[int] = ()
    ) -> tuple[str, ...]:
        """Tickets deleted, merged into another, or moved out of the queue since ``after``
        (looked for at most every ``tombstone_every`` seconds).

        With the cache's incident ids (``known_incidents``): the queue's ticket
        count against them, and when fewer, the queue's ticket ids (see
        :meth:`_left_the_queue`). Without them: the tickets' last transactions,
        which cannot show a move to a queue this account may not see.
        """
        now = time.monotonic()
        if now - self._tombstones_at < self._tombstone_every:
            return ()
        if self._known_incidents is not None:
            self._tombstones_at = now
            gone = self._left_the_queue(queue_id, delivered)
            for number in gone:
                self._delivered.pop(number, None)
                self._history.pop(number, None)
            return tuple(incident_id(number) for number in gone)
        floor = self._tombstone_floor if self._tombstone_floor is not None else after
        if floor <= 0:
            # A first sync: the cache holds nothing of this queue that could be gone.
            self._tombstone_floor = self._high_water
            self._tombstones_at = now
            return ()
        query = (
            f"ObjectType = 'RT::Ticket' AND id > {floor} AND ("
            f"(TicketQueue = {queue_id} AND ((Type = 'Status' AND NewValue = 'deleted') OR "
            "(Type = 'AddLink' AND Field = 'MergedInto'))) OR "
            f"(Type = 'Set' AND Field = 'Queue' AND OldValue = '{queue_id}'))"
        )
        params = [("query", query), ("orderby", "id"), ("order", "ASC"), ("fields", "ObjectId")]
        candidates: set[int] = set()
        top = floor
        for items, _ in self._search("transactions", params):
            for txn in items:
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    candidates.add(int(txn["ObjectId"]))
                    top = max(top, int(txn["id"]))
        gone = [number for number in sorted(candidates) if not self._still_here(number, queue_id)]
        for number in gone:
            self._delivered.pop(number, None)
            self._history.pop(number, None)
        self._tombstones_at = now
        self._tombstone_floor = top
        return tuple(incident_id(number) for number in gone)

    def _left_the_queue(self, queue_id: int, delivered: Sequence[int]) -> list[int]:
        """The cached tickets (and those just ``delivered``) the queue no longer shows.

        A ticket moved to a queue this account may not see leaves no trace it
        can read (RT hides that ticket's history from it too); RT's searches
        show only live tickets of the queue (not deleted ones, not those merged
        into another). So the queue's ticket count is compared with the
        tickets the cache holds: one request, RT reports the count of a ticket
        search. Only when the queue holds fewer are its ticket ids listed (one
        request per 100 tickets) and the missing ones leave the cache.
        """
        assert self._known_incidents is not None
        known = set(delivered)
        for ref in self._known_incidents():
            with contextlib.suppress(ValueError):
                known.add(ticket_number(ref))
        if not known:
            return []
        query = f"Queue = {queue_id}"
        counted = self._call(
            "GET", "tickets", params=[("query", query), ("per_page", 1), ("fields", "id")]
        ).data
        total = _total(counted)
        if total is not None and total >= len(known):
            return []  # at least as many tickets as the cache holds: none left
        present: set[int] = set()
        params = [("query", query), ("orderby", "id"), ("order", "ASC"), ("fields", "id")]
        for items, _ in self._search("tickets", params):
            for item in items:
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    present.add(int(item["id"]))
        return sorted(known - present)

    def _still_here(self, number: int, queue_id: int) -> bool:
        """Whether the ticket is (again) a live ticket of the queue."""
        try:
            data = self._call("GET", f"ticket/{number}").data
        except Rejected:
            return False  # gone, or no longer visible to this user
        if not isinstance(data, dict) or str(data.get("Status", "")).lower() == "deleted":
            return False
        queue = data.get("Queue")
        effective = data.get("EffectiveId")
        in_queue = isinstance(queue, dict) and str(queue.get("id")) == str(queue_id)
        merged = isinstance(effective, dict) and str(effective.get("id")) != str(number)
        return in_queue and not merged

    def _resume_point(self, after: int) -> tuple[int | None, datetime | None]:
        """A transaction at or before the cursor, and its time (None: read everything)."""
        known = self._txn_times.get(after)
        if known is not None:
            return after, known
        try:
            answer = self._call("GET", f"transaction/{after}")
            at = parse_time(answer.data.get("Created")) if isinstance(answer.data, dict) else None
            if at is not None:
                self._remember_time(after, at)
                return after, at
        except Rejected:
            pass  # gone or no longer visible: the queue's nearest older one will do
        newest = self._newest_transaction(at_most=after)
        return newest if newest is not None else (None, None)

    def _directory_changes(self) -> ReferenceChanges:
        if self.directory is None:
            return {}, {}
        try:
            found = self.directory.changes()
        except (DirectoryError, BackendError) as exc:
            text = getattr(exc, "message", None) or str(exc)
            self._notice(
                f"The escalation matrix and on-call data could not be read from "
                f"{self.directory.description}: {text}. The console shows what it had."
            )
            return {}, {}
        return found
