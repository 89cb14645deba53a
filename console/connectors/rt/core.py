"""The RT connector's state, settings and plain properties: what every part builds on.

Also the constants the parts share (page sizes, timeouts, the fields a search reads).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import requests

from console.connectors.base import Caller
from console.connectors.http import tls_verify
from console.connectors.rt.directory import DirectorySource
from console.connectors.rt.mapping import RtMapping, TicketHistory
from console.connectors.rt.sql import Keyset
from console.connectors.rt.urls import API_PATH, RT_SCHEME_PREFIX, normalise_rt_url
from console.domain.incident import TimelineEvent

log = logging.getLogger("console.connectors.rt")

TOKEN_HINT = (
    "Make an auth token in Request Tracker (Logged in as → Settings → Auth Tokens) as the "
    "user the console works as, or ask your RT admin."
)
PAGE_MAX = 100  # RT's own limit for per_page
# The page size of a search for its first visible row (see RtBackend._first).
FIRST_PAGE = 20
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 60.0
DEFAULT_OVERLAP_S = 10.0
DEFAULT_POLL_S = 10.0
DEFAULT_RETRY_AFTER_S = 5.0
# Requests RT serves at once for one catch-up (each one costs RT a token check).
PARALLEL_REQUESTS = 4
# Tickets per TransactionSQL query (keeps the URL well under 8 KB).
TICKETS_PER_QUERY = 40
# How often to look for tickets deleted, merged or moved out of the queue.
TOMBSTONE_EVERY_S = 60.0
# Time-zone offsets measured, one per UTC quarter hour (see quarter_of).
OFFSETS_KEPT = 2_000
# A lost create looked for without a request key: made by this user this long
# before the first attempt, or since (RT's clock may differ a little from ours).
LOST_CREATE_MARGIN_S = 120
# Ticket fields read in a search (CustomFields and Requestor are expanded by RT).
TICKET_FIELDS = (
    "Subject,Status,Owner,Requestor,Created,Started,Told,Resolved,LastUpdated,Due,"
    "Queue,CustomFields"
)
TXN_FIELDS = "Type,Field,OldValue,NewValue,Created,Creator,ObjectId,ObjectType"
# Transactions whose text the timeline or the description needs.
_TEXT_TYPES = frozenset({"Create", "Comment", "Correspond"})
_OWNER_TYPES = frozenset({"Take", "Untake", "Steal", "Give", "Force"})
_PERMANENT = frozenset({400, 403, 404, 405, 409, 410, 413, 415, 422})
_TXN_LOCATION = re.compile(r"/transaction/(\d+)")
_TOKEN_USER = re.compile(r"^\d+-(\d+)-[0-9a-f]+$", re.IGNORECASE)


@dataclass(frozen=True)
class _Delivered:
    """What the engine last got for a ticket: its LastUpdated, version, and when it was read."""

    last_updated: datetime
    version: int
    read_at: datetime


@dataclass(frozen=True)
class _Answer:
    """A decoded REST2 answer: its JSON, headers that matter, and RT's clock."""

    data: Any
    status: int
    etag: int | None
    location: str
    server_time: datetime


class RtCore:
    """What every part of the connector shares: the constructor, notices, closing.

    See :class:`~console.connectors.rt.RtBackend` for the arguments.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        mapping: RtMapping,
        key: str | None = None,
        ca_bundle: str | Path | None = None,
        overlap: float = DEFAULT_OVERLAP_S,
        directory: DirectorySource | None = None,
        commander_group: str | None = "NOC Commanders",
        connect_timeout: float = CONNECT_TIMEOUT_S,
        read_timeout: float = READ_TIMEOUT_S,
        parallel: int = PARALLEL_REQUESTS,
        tombstone_every: float = TOMBSTONE_EVERY_S,
        known_incidents: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        self._url = normalise_rt_url(url)
        self._web = self._url[len(RT_SCHEME_PREFIX) :]
        self._api = self._web + API_PATH
        self.mapping = mapping
        self._key = key or f"{self._url}#queue={mapping.queue}"
        self._verify = tls_verify(ca_bundle)
        self._timeout = (connect_timeout, read_timeout)
        self._token = token
        self.overlap = timedelta(seconds=max(0.0, overlap))
        self.directory = directory
        self.commander_group = commander_group
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max(1, parallel), thread_name_prefix="noc-rt")
        self._closed = False
        # What the queue looks like (read once per connector).
        self._queue_id: int | None = None
        self._cf_by_id: dict[str, str] = {}
        self._cf_names: list[str] | None = None
        # Notices for the operator (a missing custom field, a directory problem).
        self._notices: list[str] = []
        self._told: set[str] = set()
        self._notice_lock = threading.Lock()
        # Per ticket: what its transactions said, and what the engine last got.
        self._history: dict[int, TicketHistory] = {}
        self._delivered: dict[int, _Delivered] = {}
        # Transaction id → its time (to resume from a cursor, to measure the zone).
        self._txn_times: dict[int, datetime] = {}
        # Cursor → where the page that returned it ended (continuing a catch-up).
        self._keysets: dict[int, Keyset] = {}
        self._high_water = 0  # the highest cursor handed out
        # The next page of a catch-up, asked for ahead: ((query, per_page), answer).
        self._ahead: tuple[tuple[str, int, int], Future[_Answer]] | None = None
        # Looking for tickets that left the queue: from which transaction, and when last.
        self._tombstone_every = tombstone_every
        self._tombstone_floor: int | None = None
        self._tombstones_at = -float("inf")
        # The incident ids the cache holds (to find tickets that left the queue in ways
        # RT's history does not show this account: moved to a queue it cannot see).
        self._known_incidents = known_incidents
        # The account's time-zone offset as RT applies it, by UTC quarter hour, and a
        # transaction known in each quarter hour to measure it with.
        self._offset: timedelta | None = None
        self._offsets: dict[datetime, timedelta] = {}
        self._quarter_probes: dict[datetime, tuple[int, datetime]] = {}
        self._status_classes: dict[str, str] = {}
        # Rights RT shows only by what it offers or hides (see _check_note_rights):
        # checked once per connection.
        self._note_rights_checked = False
        self._comments_checked = False
        self._user_names: dict[str, str] = {}
        self._caller: Caller | None = None
        # The request key custom field, where the queue has it (on tickets, on their
        # transactions); see create_incident and add_timeline_entry.
        self._ticket_key: str | None = None
        self._note_key: str | None = None
        # Creates and notes already sent, by idempotency key (RT has no such keys);
        # those whose answer was lost: since when (monotonic), or the ticket's ETag
        # before the note was sent (to recognise it without a request key).
        self._created: dict[str, int] = {}
        self._uncertain: dict[str, float] = {}
        self._notes: dict[str, TimelineEvent] = {}
        self._uncertain_notes: dict[str, int] = {}

    @property
    def key(self) -> str:
        return self._key

    @property
    def url(self) -> str:
        return self._url

    @property
    def web_url(self) -> str:
        """RT's web address (without ``rt+``)."""
        return self._web

    @property
    def queue(self) -> str:
        return self.mapping.queue

    @property
    def supports_events(self) -> bool:
        return False

    @property
    def time_zone_offset(self) -> timedelta | None:
        """The offset RT reads this account's TicketSQL dates in (None: not measured yet)."""
        return self._offset

    def set_token(self, token: str) -> None:
        """Use ``token`` for every request from now on."""
        self._token = token

    def holdings(self) -> list[tuple[str, str]]:
        """Which system holds what, for the operator: (what, where) pairs."""
        directory = (
            self.directory.description
            if self.directory is not None
            else "nowhere yet (set directory under [rt] in settings.toml)"
        )
        return [
            (
                "Incidents, notes and status updates",
                f"Request Tracker {self._web}, queue {self.queue}",
            ),
            ("Escalation matrix, on-call, services, teams, contacts", directory),
        ]

    @property
    def token_hint(self) -> str:
        return TOKEN_HINT

    def take_notices(self) -> list[str]:
        """Messages for the operator gathered since the last call (each said once)."""
        with self._notice_lock:
            out, self._notices = self._notices, []
        return out

    def _notice(self, text: str) -> None:
        with self._notice_lock:
            if text in self._told:
                return
            self._told.add(text)
            self._notices.append(text)
        log.warning("%s", text)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._sessions_lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()
        if self.directory is not None:
            self.directory.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RtBackend({self._url!r}, queue={self.queue!r})"
