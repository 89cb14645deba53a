"""The connector for Request Tracker 5, over its REST2 API (``/REST/2.0``).

``noc-console --backend rt+https://rt.example.org --queue NOC`` syncs the
console with the tickets of one RT queue. RT has no change feed and no push,
so the connector polls (``supports_events`` is False; the engine asks every
``rt.poll_interval_seconds``). The mapping itself is in
:mod:`console.connectors.rt.mapping`; docs/rt.md is the operator's guide and
docs/rt-setup.md the RT admin's.

**The cursor.** The engine keeps one whole number per backend. Here it is the
id of the newest RT transaction the cache reflects (RT numbers transactions
in one global sequence, and a ticket's newest transaction id is also its
ETag, hence the incident's version). To continue, the connector takes that
transaction's time, goes back ``overlap`` seconds and asks with TicketSQL for
``LastUpdated >= '…'``, ordered by ``LastUpdated, id``. The overlap catches
tickets updated in the same second as the last poll (RT's dates have whole
seconds) and updates whose transaction committed late; tickets seen again
unchanged (same ``LastUpdated`` read well after it, no newer transaction) are
dropped, so an idle poll costs one request and delivers nothing. Within one
catch-up, pages continue from the last ticket's ``(LastUpdated, id)``
(keyset paging), so tickets updated meanwhile are neither skipped nor
repeated. Pages that bring no newer transaction are read on within the same
call until one does or the search ends: the engine keeps no position but the
cursor, so a batch must not leave it where it was with pages unread.

**Rights.** RT checks the account's rights on each row *after* cutting a
search into pages, so a page comes back short when it held rows the account
may not see (autoreply EmailRecords without ShowOutgoingEmail, most often).
Every search is read to an empty page, or to the last page RT's ``total``
counts (ticket searches report it): see :meth:`RtBackend._search`. Tickets
that leave the queue where the account cannot follow them are found by the
cache's incident ids (``known_incidents``, :meth:`RtBackend._left_the_queue`).
Rights RT shows by what it offers (creating, commenting, replying, reading
comments) are checked once and a missing one is said once.

**Time zones.** RT reads TicketSQL dates in the time zone of the account
asking. The connector measures that offset with a transaction whose time it
knows, once per UTC quarter hour its positions reach (offsets change only on
a quarter hour), so date limits are right whatever the account's or the
server's zone, also across daylight-saving changes.

**Writes.** ``PUT /ticket/:id`` carries ``If-Match`` with the version: a
stale edit gets 412 and becomes :class:`~console.connectors.base.Stale` with
the ticket as it is now, for the engine's merge (unless the ticket already
shows the whole edit: the console's own earlier attempt). RT answers some
refused changes with 200 and the reason in its list of messages ("Status
'bogus' isn't a valid status …"); the connector reads the ticket back, and a
field not showing its new value becomes
:class:`~console.connectors.base.Rejected` with RT's own words. Work notes are
RT comments, status updates are RT correspondence (which RT mails to the
requestors).

**Sending again.** RT has no idempotency keys. The connector writes each
create's and each note's key into the queue's request key custom field (on
tickets, on ticket transactions) and looks for it before sending, so a
request sent again after its answer was lost is not done twice; without the
field it recognises only what it sent in this session, and says so once.

**Auth.** ``Authorization: token <RT auth token>``; a 401 is
:class:`~console.connectors.base.AuthFailed`. TLS certificates are always
verified (a private CA is given as a CA bundle file).

**What RT does not hold** (services, teams, contacts, on-call rotations,
escalation policies: the escalation matrix) comes from a
:class:`~console.connectors.rt.directory.DirectorySource`, our own server or a
JSON file, delivered with the last page of each poll.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from console.connectors.base import (
    CREATE_FIELDS,
    PATCH_FIELDS,
    RT_SCHEME_PREFIX,
    AuthFailed,
    BackendError,
    Caller,
    ChangeBatch,
    EventStream,
    RateLimited,
    Rejected,
    Stale,
    TlsFailed,
    Unreachable,
    is_rt_url,
)
from console.connectors.http import http_session, parse_retry_after, tls_verify
from console.connectors.rt.directory import DirectoryError, DirectorySource, ReferenceChanges
from console.connectors.rt.mapping import (
    SETUP_DOC,
    Attachment,
    Keyset,
    NotHeldByRt,
    RtMapping,
    RtUpdate,
    TicketHistory,
    UnreadableTicket,
    changed_since_sql,
    chunks,
    contents_by_transaction,
    create_for_fields,
    event_id,
    fold_transactions,
    incident_from_ticket,
    incident_id,
    note_key_sql,
    parse_time,
    quarter_of,
    quote_sql,
    refusals,
    request_key_sql,
    sql_time,
    ticket_id_of,
    ticket_number,
    timeline_from_transactions,
    transactions_sql,
    unapplied,
    update_for_edit,
)
from console.domain.errors import DomainError
from console.domain.incident import Incident, TimelineEvent, TimelineKind

log = logging.getLogger(__name__)

TOKEN_HINT = (
    "Make an auth token in Request Tracker (Logged in as → Settings → Auth Tokens) as the "
    "user the console works as, or ask your RT admin."
)
API_PATH = "/REST/2.0"
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


# --------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------


def normalise_rt_url(text: str) -> str:
    """``rt+https://rt.example.org/`` → ``rt+https://rt.example.org``; ValueError if not one.

    A path is kept (RT is often served under ``/rt``); a trailing
    ``/REST/2.0`` is dropped, since the connector adds it.
    """
    value = text.strip()
    if not is_rt_url(value):
        raise ValueError(f"{text!r} is not a Request Tracker URL; use rt+https://rt.example.org")
    inner = value[len(RT_SCHEME_PREFIX) :].rstrip("/")
    if inner.lower().endswith(API_PATH.lower()):
        inner = inner[: -len(API_PATH)].rstrip("/")
    parts = urlsplit(inner)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"{text!r} is not a Request Tracker URL; use rt+https://rt.example.org "
            "(with RT's web path if it has one, e.g. rt+https://example.org/rt)"
        )
    return RT_SCHEME_PREFIX + inner


# --------------------------------------------------------------------------
# The connector
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Delivered:
    """What the engine last got for a ticket: its LastUpdated, version, and when it was read."""

    last_updated: datetime
    version: int
    read_at: datetime


class _PreconditionFailed(BackendError):
    """412 (internal: turned into :class:`Stale` once the ticket is read again)."""


@dataclass(frozen=True)
class _Answer:
    """A decoded REST2 answer: its JSON, headers that matter, and RT's clock."""

    data: Any
    status: int
    etag: int | None
    location: str
    server_time: datetime


class RtBackend:
    """One Request Tracker queue as a :class:`~console.connectors.base.Backend`.

    ``url`` is ``rt+https://rt.example.org`` (RT's web address with ``rt+``
    in front). ``key`` (for the cache's cursor) defaults to the URL and the
    queue, so each queue has its own position. Methods are meant for one
    thread at a time (the sync engine's); the connector runs a few requests
    of its own in parallel inside a call.
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

    # ------------------------------------------------------------ properties

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

    def __enter__(self) -> RtBackend:
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

    # ------------------------------------------------------------ HTTP

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = http_session(self._verify, self._web)
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | Sequence[tuple[str, object]] | None = None,
        body: object = None,
        headers: Mapping[str, str] | None = None,
    ) -> _Answer:
        """One REST2 request; transport failures and error statuses become typed errors."""
        if self._closed:
            raise BackendError(f"the connection to {self._web} is closed")
        where = f"{self._api}/{path.lstrip('/')}"
        sent = dict(headers or {})
        if self._token:
            sent["Authorization"] = f"token {self._token}"
        if body is not None:
            sent["Content-Type"] = "application/json"
        try:
            response = self._session().request(
                method,
                where,
                params=params,  # type: ignore[arg-type]
                data=None if body is None else json.dumps(body).encode("utf-8"),
                headers=sent,
                timeout=self._timeout,
                allow_redirects=False,
                verify=self._verify,
            )
        except requests.exceptions.SSLError as exc:
            raise TlsFailed(
                f"the TLS certificate of {self._web} cannot be verified ({_reason(exc)}). "
                "If RT uses a private certificate authority, give its CA bundle "
                "(--ca-bundle PATH)"
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise Unreachable(f"Request Tracker at {self._web} did not answer in time") from exc
        except requests.exceptions.RequestException as exc:
            raise Unreachable(
                f"cannot reach Request Tracker at {self._web} ({_reason(exc)})"
            ) from exc
        with contextlib.closing(response):
            return self._answer(response)

    def _answer(self, response: requests.Response) -> _Answer:
        status = response.status_code
        server_time = _server_time(response.headers.get("Date"))
        if status in (301, 302, 303, 307, 308):
            target = response.headers.get("Location", "")
            raise BackendError(
                f"{self._web} answered with a redirect to {target or 'another address'}: "
                "is this RT's web address? If RT is served under a path, include it "
                "(rt+https://example.org/rt)"
            )
        text = response.content
        data: Any = None
        if text:
            try:
                data = json.loads(text)
            except ValueError:
                data = None
        if status >= 400:
            message = _message_of(data, response)
            if status == 401:
                raise AuthFailed(
                    f"Request Tracker refused the auth token ({message}); it may have been "
                    "revoked or have expired: make a new one in RT (Logged in as → Settings → "
                    "Auth Tokens)"
                )
            if status == 412:
                raise _PreconditionFailed(message)
            if status == 429:
                retry = parse_retry_after(response.headers.get("Retry-After"), None)
                raise RateLimited(
                    f"{self._web} asks the console to slow down ({message})",
                    retry if retry is not None else DEFAULT_RETRY_AFTER_S,
                )
            if status >= 500 or status == 408:
                # RT failing inside (its database locked or restarting) or a proxy
                # in front of it: worth waiting for, and the outbox keeps its order.
                raise Unreachable(
                    f"Request Tracker at {self._web} is not available right now "
                    f"({status}: {message})",
                    parse_retry_after(response.headers.get("Retry-After"), None),
                )
            if status in _PERMANENT:
                raise Rejected(status, f"Request Tracker: {message}")
            raise BackendError(f"Request Tracker at {self._web} failed ({status}: {message})")
        if data is None and text:
            raise BackendError(
                f"{self._web}{API_PATH} did not answer in JSON: is this Request Tracker 5 "
                "with REST2, and is the address right?"
            )
        etag = response.headers.get("ETag")
        return _Answer(
            data=data,
            status=status,
            etag=_etag_number(etag),
            location=response.headers.get("Location", ""),
            server_time=server_time,
        )

    def _search(
        self, path: str, params: Sequence[tuple[str, object]], per_page: int = PAGE_MAX
    ) -> Iterator[tuple[list[dict[str, Any]], datetime]]:
        """Every page of a REST2 collection, to its end.

        RT checks the account's rights on each row *after* paging, so a page
        comes back short when it held rows this account may not see (the
        autoreply EmailRecords without ShowOutgoingEmail, a custom field
        without SeeCustomField), while later pages still hold rows. A short
        page is therefore not the end: the end is an empty page, or the last
        page RT counts where it reports ``total`` (it does when the account
        may see every row, as ticket searches under RT's SQL rights checks).
        """
        page = 1
        while True:
            answer = self._call(
                "GET", path, params=[*params, ("per_page", per_page), ("page", page)]
            )
            items = _items(answer.data, self._web)
            yield items, answer.server_time
            if not items or _last_page(answer.data, page, per_page):
                return
            page += 1

    def _first(
        self, path: str, query: str, *, newest: bool = False, fields: str = ""
    ) -> dict[str, Any] | None:
        """The first item of a REST2 search by id (``newest``: the last), or None.

        Not ``per_page=1``: RT drops rows the account may not see after paging
        (the newest transaction of a queue is often an autoreply's EmailRecord),
        so a page of one can be empty with visible rows after it. A page of
        ``FIRST_PAGE`` costs RT the same one request.
        """
        params: list[tuple[str, object]] = [
            ("query", query),
            ("orderby", "id"),
            ("order", "DESC" if newest else "ASC"),
        ]
        if fields:
            params.append(("fields", fields))
        for items, _ in self._search(path, params, per_page=FIRST_PAGE):
            if items:
                return items[0]
        return None

    # ------------------------------------------------------------ the queue

    def _prepare(self) -> int:
        """The queue's id (read once), and a notice for each custom field it lacks."""
        if self._queue_id is not None:
            return self._queue_id
        try:
            answer = self._call("GET", f"queue/{_segment(self.queue)}")
        except Rejected as exc:
            if exc.status in (403, 404):
                raise BackendError(
                    f"Request Tracker at {self._web} has no queue {self.queue!r} that this "
                    "token's user can see: check --queue (or rt.queue in settings.toml) and "
                    f"the user's SeeQueue and ShowTicket rights ({SETUP_DOC})"
                ) from exc
            raise
        data = answer.data if isinstance(answer.data, dict) else {}
        try:
            queue_id = int(data["id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BackendError(f"{self._web} sent a queue the console cannot read") from exc
        names: list[str] = []
        for item in data.get("TicketCustomFields") or ():
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                names.append(item["name"])
                self._cf_by_id[str(item.get("id"))] = item["name"]
        self._cf_names = names
        present = {n.lower() for n in names}
        on_notes = {
            str(item["name"]).lower()
            for item in data.get("TicketTransactionCustomFields") or ()
            if isinstance(item, dict) and isinstance(item.get("name"), str)
        }
        self._learn_request_key(present, on_notes)
        for field_name, cf in self.mapping.fields.configured().items():
            if cf.lower() not in present:
                self._notice(
                    f"Queue {self.queue} in Request Tracker has no custom field {cf!r} "
                    f"(the incident's {field_name.replace('_', ' ')}), or this user may not see "
                    f"it: ask the RT admin to create it and apply it to the queue "
                    f"({SETUP_DOC}). Until then the console shows "
                    + (
                        "medium"
                        if field_name in ("impact", "urgency")
                        else "nothing"
                        if field_name != "service"
                        else "'unknown'"
                    )
                    + f" for it and refuses edits of the {field_name.replace('_', ' ')}."
                )
        self._queue_id = queue_id
        return queue_id

    def _learn_request_key(self, on_tickets: set[str], on_notes: set[str]) -> None:
        """Use the request key field where the queue has it; say once what may double."""
        name = self.mapping.fields.request_key
        self._ticket_key = name if name and name.lower() in on_tickets else None
        self._note_key = name if name and name.lower() in on_notes else None
        lacking = [
            what
            for what, held in (
                ("new incidents", self._ticket_key),
                ("work notes and status updates", self._note_key),
            )
            if held is None
        ]
        if not lacking:
            return
        where = {
            2: "for tickets or for ticket transactions",
            1: "for tickets" if self._ticket_key is None else "for ticket transactions",
        }[len(lacking)]
        missing = (
            f"Queue {self.queue} in Request Tracker has no custom field {name!r} {where}, "
            "or this user may not see it"
            if name
            else "No request key field is set (rt.custom_fields.request_key is empty)"
        )
        self._notice(
            f"{missing}. RT has no other way to recognise a request sent again, so "
            f"{' and '.join(lacking)} whose answer from RT was lost (a timeout, the console "
            "closed meanwhile) may be made twice in RT when the console sends them again "
            "after a restart. Ask the RT admin to add the request key field "
            f"({SETUP_DOC}, 'Request keys')."
        )

    # ------------------------------------------------------------ who

    def whoami(self) -> Caller | None:
        """The token's RT user, with the console role its RT rights come to.

        viewer: may see the queue but not create tickets in it; dispatcher:
        may create tickets in the queue (RT's CreateTicket); commander: also a
        member of the RT group named by ``rt.commander_group`` (default "NOC
        Commanders"); admin: may administer RT's users (AdminUsers, e.g. a
        SuperUser).
        """
        match = _TOKEN_USER.match(self._token or "")
        if match is None:
            return None
        user = self._call("GET", f"user/{match.group(1)}").data
        if not isinstance(user, dict) or not isinstance(user.get("Name"), str):
            return None
        name = user["Name"]
        queue = self._call("GET", f"queue/{_segment(self.queue)}").data
        links = queue.get("_hyperlinks") if isinstance(queue, dict) else None
        may_create = any(
            isinstance(link, dict) and link.get("ref") == "create" for link in links or ()
        )
        role = "dispatcher" if may_create else "viewer"
        if not may_create:
            self._notice(
                f"The RT user {name!r} may not create tickets in queue {self.queue} (RT's "
                "CreateTicket right), so the console works as a viewer: RT refuses new "
                "incidents logged here. For a dispatcher's desk ask the RT admin to grant "
                f"it ({SETUP_DOC}, step 3); a wall display needs no more."
            )
        if may_create and self.commander_group:
            groups = {
                str(g.get("id")) for g in user.get("Memberships") or () if isinstance(g, dict)
            }
            if groups and self._group_id(self.commander_group) in groups:
                role = "commander"
        if self._administers_users():
            role = "admin"
        caller = Caller(name=name, role=role)
        self._caller = caller
        return caller

    def _group_id(self, name: str) -> str | None:
        params = [("query", json.dumps([{"field": "Name", "value": name}])), ("fields", "Name")]
        try:
            for items, _ in self._search("groups", params):
                for item in items:
                    if str(item.get("Name", "")).lower() == name.lower():
                        return str(item.get("id"))
        except Rejected:
            return None
        return None

    def _administers_users(self) -> bool:
        """RT shows a user's memberships only to itself and to holders of AdminUsers."""
        try:
            other = self._call("GET", "user/Nobody").data
        except Rejected:
            return False
        return isinstance(other, dict) and "Memberships" in other

    # ------------------------------------------------------------ pull

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

    def _check_note_rights(self, number: int, ticket: Mapping[str, Any] | None = None) -> None:
        """Say once which of the notes' rights the account lacks, by the actions RT offers
        it on a ticket of the queue (one ticket read per connection)."""
        self._note_rights_checked = True
        if ticket is None:
            try:
                data = self._call("GET", f"ticket/{number}").data
            except Rejected:
                return
            ticket = data if isinstance(data, dict) else {}
        offered = {
            str(link.get("ref"))
            for link in ticket.get("_hyperlinks") or ()
            if isinstance(link, dict)
        }
        if not offered:
            return
        who = f"The RT user {self._caller.name!r}" if self._caller else "This RT user"
        for ref, right, what in (
            ("comment", "CommentOnTicket", "work notes (RT comments)"),
            ("correspond", "ReplyToTicket", "status updates (RT correspondence)"),
        ):
            if ref not in offered:
                self._notice(
                    f"{who} may not add {what} to the tickets of queue {self.queue} (RT's "
                    f"{right} right): RT refuses them, and the console shows each one as "
                    f"refused. Ask the RT admin to grant {right} on the queue ({SETUP_DOC})."
                )

    def _check_comments_visible(self, txn: int) -> None:
        """After this connection's first comment: whether the account may read comments."""
        self._comments_checked = True
        try:
            self._call("GET", f"transaction/{txn}")
        except Rejected:
            who = f"The RT user {self._caller.name!r}" if self._caller else "This RT user"
            self._notice(
                f"{who} may comment but not read comments (RT's ShowTicketComments right): "
                "work notes written in RT, and the console's own once it restarts, are missing "
                f"from the timeline. Ask the RT admin to grant ShowTicketComments ({SETUP_DOC})."
            )

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

    def _incident(
        self, ticket: Mapping[str, Any], history: TicketHistory, version: int
    ) -> Incident:
        status = str(ticket.get("Status") or "")
        status_class = None
        if not self.mapping.statuses.knows(status):
            status_class = self._status_class(status, ticket_id_of(ticket))
        try:
            return incident_from_ticket(
                ticket, history, self.mapping, status_class=status_class, version=version
            )
        except UnreadableTicket as exc:
            raise BackendError(
                f"Request Tracker sent a ticket the console cannot read: {exc}"
            ) from exc

    def _status_class(self, status: str, ticket: int) -> str:
        """Whether an RT status the settings do not map is inactive or active in its lifecycle."""
        key = status.lower()
        known = self._status_classes.get(key)
        if known is not None:
            return known
        inactive = self._first("tickets", f"id = {ticket} AND Status = '__Inactive__'")
        found = "inactive" if inactive is not None else "active"
        self._status_classes[key] = found
        self._notice(
            f"Request Tracker status {status!r} is not in the console's status map; it is "
            f"read as {'resolved' if found == 'inactive' else 'new or in progress'} "
            f"(RT calls it {found}). Map it under [rt.statuses] in settings.toml (docs/rt.md)."
        )
        return found

    def _etag_of(self, ticket: int) -> int:
        answer = self._call("GET", f"ticket/{ticket}")
        return answer.etag or 1

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

    def _transactions(self, wanted: Mapping[int, int]) -> dict[int, list[dict[str, Any]]]:
        """The transactions of each ticket after the id given (0: all), by ticket, in order."""
        groups = chunks(sorted(wanted), TICKETS_PER_QUERY)

        def fetch(group: list[int]) -> list[dict[str, Any]]:
            sql = transactions_sql({t: wanted[t] for t in group})
            params = [("query", sql), ("orderby", "id"), ("order", "ASC"), ("fields", TXN_FIELDS)]
            return [item for items, _ in self._search("transactions", params) for item in items]

        out: dict[int, list[dict[str, Any]]] = {}
        for items in self._parallel(fetch, groups):
            for txn in items:
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    out.setdefault(int(txn["ObjectId"]), []).append(txn)
        return out

    def _contents(self, transactions: Mapping[int, list[dict[str, Any]]]) -> dict[int, Attachment]:
        """The text of each Create, Comment and Correspond transaction among ``transactions``."""
        ids = sorted(
            int(t["id"])
            for txns in transactions.values()
            for t in txns
            if t.get("Type") in _TEXT_TYPES
        )
        if not ids:
            return {}

        def fetch(group: list[int]) -> list[dict[str, Any]]:
            query = json.dumps(
                [
                    {"field": "TransactionId", "operator": "IN", "value": group},
                    {"field": "ContentType", "operator": "LIKE", "value": "text/"},
                ]
            )
            params = [("query", query), ("fields", "TransactionId,ContentType,Content,Headers")]
            return [item for items, _ in self._search("attachments", params) for item in items]

        found = [a for items in self._parallel(fetch, chunks(ids, PAGE_MAX)) for a in items]
        return contents_by_transaction(found)

    def _names_for_owner_changes(
        self, transactions: Mapping[int, list[dict[str, Any]]]
    ) -> dict[str, str]:
        """RT user id → name for the users owner changes name (they carry ids)."""
        ids: set[str] = set()
        for txns in transactions.values():
            for txn in txns:
                if (txn.get("Type") == "Set" and txn.get("Field") == "Owner") or txn.get(
                    "Type"
                ) in _OWNER_TYPES:
                    ids |= {str(txn.get("OldValue") or ""), str(txn.get("NewValue") or "")}
        missing = sorted(int(i) for i in ids - set(self._user_names) if i.isdigit())

        def fetch(group: list[int]) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            for user_id in group:
                try:
                    data = self._call("GET", f"user/{user_id}").data
                except Rejected:
                    continue  # not visible to this user: the id is shown instead
                if isinstance(data, dict):
                    found.append({"uid": str(user_id), "Name": data.get("Name") or data.get("id")})
            return found

        # RT cannot search users by id, so each one is read (once per session).
        groups = [missing[i::PARALLEL_REQUESTS] for i in range(PARALLEL_REQUESTS)]
        for items in self._parallel(fetch, [g for g in groups if g]):
            for user in items:
                self._user_names[user["uid"]] = str(user["Name"] or user["uid"])
        return dict(self._user_names)

    def _parallel(
        self, work: Callable[[list[int]], list[dict[str, Any]]], groups: list[list[int]]
    ) -> list[list[dict[str, Any]]]:
        if len(groups) <= 1:
            return [work(g) for g in groups]
        futures = [self._pool.submit(work, g) for g in groups]
        return [f.result() for f in futures]

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

    # ------------------------------------------------------------ time zone

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

    # ------------------------------------------------------------ the directory

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

    # ------------------------------------------------------------ reads of one

    def get_incident(self, incident_id: str) -> Incident:
        """The ticket as RT has it now (with its ETag as the version)."""
        number = _ticket(incident_id)
        incident, _ticket_json = self._read_ticket(number)
        return incident

    def _read_ticket(self, number: int) -> tuple[Incident, dict[str, Any]]:
        answer = self._call("GET", f"ticket/{number}")
        ticket = answer.data if isinstance(answer.data, dict) else {}
        if not self._note_rights_checked:
            self._check_note_rights(number, ticket)
        history = self._history.get(number, TicketHistory())
        version = answer.etag or history.version
        if history.version < version or history.description is None:
            fresh = self._transactions({number: history.version}).get(number, [])
            self._remember_times({number: fresh})
            contents = self._contents({number: fresh})
            history = fold_transactions(history, fresh, contents, self.mapping.statuses)
            if history.description is None:
                history = replace(history, description="")
            self._history[number] = history
        return self._incident(ticket, history, version or history.version), ticket

    # ------------------------------------------------------------ writes

    def _check_override(self, fields: Mapping[str, object]) -> None:
        if (
            fields.get("severity")
            and self._caller is not None
            and not self._caller.at_least("commander")
        ):
            group = self.commander_group or "the commanders' group"
            raise Rejected(
                403,
                "overriding the severity needs the commander role; in Request Tracker that is "
                f"membership of the group {group!r} (your RT user {self._caller.name!r} is "
                f"a {self._caller.role})",
            )

    def create_incident(self, fields: Mapping[str, object], *, idempotency_key: str) -> Incident:
        """Create a ticket in the queue; what RT cannot hold is added as a comment.

        RT has no idempotency keys. Where the queue has the request key field
        the key is written on the new ticket, and the queue is searched for it
        before every create, so a create sent again after its answer was lost
        gives the ticket made the first time, also after a restart. Without the
        field only this session's creates are recognised (see
        :meth:`_find_created`). The comments of a new ticket are added once:
        when the create is sent again, only those missing are added.
        """
        unknown = sorted(set(fields) - set(CREATE_FIELDS))
        if unknown:
            raise Rejected(422, f"{', '.join(unknown)}: not a field a new incident can have")
        self._prepare()
        try:
            plan = create_for_fields(fields, self.mapping, available_cfs=self._cf_names)
        except (NotHeldByRt, DomainError) as exc:
            raise Rejected(422, str(exc)) from exc
        body = dict(plan.body)
        reporter = str(body.get("Requestor", ""))
        notes = list(plan.comments)
        if reporter and ("@" not in reporter or " " in reporter or "," in reporter):
            # RT makes requestors of e-mail addresses; a caller's name (or a contact
            # id, which need not be an RT user) is kept in a comment instead.
            del body["Requestor"]
            notes.insert(0, f"Reported by: {reporter}")
        number = self._created.get(idempotency_key)
        if number is None:
            number = self._find_created(idempotency_key, body)
        sent_before = number is not None
        if number is None:
            self._check_override(fields)
            if self._ticket_key is not None:
                body["CustomFields"] = {
                    **body.get("CustomFields", {}),
                    self._ticket_key: idempotency_key,
                }
            number = self._post_ticket(body, idempotency_key)
        self._created[idempotency_key] = number
        self._uncertain.pop(idempotency_key, None)
        try:
            self._add_comments(number, notes, since=0 if sent_before else None)
        except (Unreachable, RateLimited, AuthFailed):
            raise  # sent again, the create finds its ticket and adds what is missing
        except BackendError as exc:
            self._notice(
                f"RT ticket {number} was created, but its notes could not be added "
                f"({exc.message}): {' / '.join(notes)}"
            )
        return self.get_incident(incident_id(number))

    def _post_ticket(self, body: Mapping[str, Any], idempotency_key: str) -> int:
        """``POST /ticket``; an answer lost on the way marks the create as uncertain."""
        try:
            answer = self._call("POST", "ticket", body=body)
        except (Unreachable, BackendError) as exc:
            if not isinstance(exc, Rejected | AuthFailed | RateLimited):
                # RT may have made it all the same.
                self._uncertain.setdefault(idempotency_key, time.monotonic())
            raise
        try:
            return int(answer.data["id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BackendError(f"{self._web} created a ticket but did not say its number") from exc

    def _find_created(self, idempotency_key: str, body: Mapping[str, Any]) -> int | None:
        """The ticket an earlier attempt of this create made, if there is one.

        With the request key field: the queue's ticket holding the key. Without
        it, and only after this session lost an answer to this create: a ticket
        this user created in the queue since shortly before that attempt, with
        the same subject and text.
        """
        queue_id = self._prepare()
        if self._ticket_key is not None:
            made = self._first(
                "tickets", request_key_sql(queue_id, self._ticket_key, idempotency_key)
            )
            return ticket_id_of(made) if made is not None else None
        first_try = self._uncertain.get(idempotency_key)
        if first_try is None:
            return None
        minutes = int((time.monotonic() - first_try + LOST_CREATE_MARGIN_S) // 60) + 1
        query = (
            f"Queue = {queue_id} AND Creator = '__CurrentUser__' AND "
            f"Subject = {quote_sql(str(body['Subject']))} AND "
            f"Created > '{minutes} minutes ago'"
        )
        params = [("query", query), ("orderby", "id"), ("order", "ASC")]
        found = [
            item for items, _ in self._search("tickets", params, per_page=10) for item in items
        ]
        text = str(body.get("Content", "")).strip()
        for item in found:
            number = ticket_id_of(item)
            if number in self._created.values():
                continue  # another create of this session
            if self.get_incident(incident_id(number)).description.strip() == text:
                return number
        return None

    def _add_comments(self, number: int, texts: Sequence[str], *, since: int | None) -> None:
        """Comment ``texts`` on the ticket; with ``since``, skip those this user already
        commented after transaction ``since`` (a resend after a lost answer)."""
        if not texts:
            return
        present = self._messages_by_me(number, "Comment", since) if since is not None else {}
        for text in texts:
            if text.strip() not in present:
                self._call("POST", f"ticket/{number}/comment", body=_note(text))

    def _messages_by_me(self, number: int, kind: str, since: int) -> dict[str, dict[str, Any]]:
        """This user's comments (``Comment``) or correspondence (``Correspond``) on the
        ticket after transaction ``since``: text → transaction, the earliest of each."""
        query = (
            f"ObjectType = 'RT::Ticket' AND ObjectId = {number} AND id > {since} "
            f"AND Type = {quote_sql(kind)}"
        )
        user = _TOKEN_USER.match(self._token or "")
        if user is not None:
            query += f" AND Creator = {user.group(1)}"
        params = [("query", query), ("orderby", "id"), ("order", "ASC"), ("fields", TXN_FIELDS)]
        txns = [item for items, _ in self._search("transactions", params) for item in items]
        contents = self._contents({number: txns})
        out: dict[str, dict[str, Any]] = {}
        for txn in txns:
            content = contents.get(int(txn["id"]))
            if content is not None:
                out.setdefault(content.text.strip(), txn)
        return out

    def update_incident(
        self,
        incident_id: str,
        fields: Mapping[str, object],
        *,
        version: int,
        idempotency_key: str,
    ) -> Incident:
        """Change the ticket with ``If-Match``; what RT did not apply becomes :class:`Rejected`.

        RT answers some refused changes with 200, so the ticket is read back:
        a field not showing its new value is refused, with RT's message saying
        why. Comments that go with the edit (a hold reason, the reason of a
        severity override) are added after the change is seen applied.
        """
        unknown = sorted(set(fields) - set(PATCH_FIELDS))
        if unknown:
            raise Rejected(422, f"{', '.join(unknown)}: not a field an edit can change")
        number = _ticket(incident_id)
        self._prepare()
        self._check_override(fields)
        current_status = None
        if fields.get("acknowledged") is True:
            ticket = self._call("GET", f"ticket/{number}").data
            current_status = str(ticket.get("Status") or "") if isinstance(ticket, dict) else None
        try:
            plan = update_for_edit(
                fields,
                self.mapping,
                available_cfs=self._cf_names,
                current_status=current_status,
            )
        except (NotHeldByRt, DomainError) as exc:
            raise Rejected(422, str(exc)) from exc
        reasons: list[str] = []
        said: list[str] = []
        if plan.body:
            try:
                answer = self._call(
                    "PUT",
                    f"ticket/{number}",
                    body=plan.body,
                    headers={"If-Match": f'"{version}"'},
                )
            except _PreconditionFailed:
                return self._after_stale_edit(number, plan, version)
            reasons = refusals(answer.data)
            if isinstance(answer.data, list):
                said = [str(m) for m in answer.data if isinstance(m, str)]
        incident, ticket = self._read_ticket(number)
        missing = unapplied(plan.expected, ticket)
        if missing:
            why = f"it answered: {'; '.join(said)}" if said else "no reason given"
            text = "; ".join(reasons) or (
                f"Request Tracker did not change {', '.join(missing)} ({why})"
            )
            raise Rejected(422, f"Request Tracker refused the change: {text}")
        if plan.comments:
            self._add_comments(number, plan.comments, since=None)
            incident, ticket = self._read_ticket(number)
        return incident

    def _after_stale_edit(self, number: int, plan: RtUpdate, version: int) -> Incident:
        """412: the ticket changed since ``version``.

        When it already shows every value of the edit, the edit is done: it is
        the console's own earlier attempt whose answer was lost (or someone
        made the same change). Its comments are then added where this user has
        not added them since ``version``. Otherwise :class:`Stale` with the
        ticket as it is now, for the engine's merge.
        """
        current, ticket = self._read_ticket(number)
        if unapplied(plan.expected, ticket):
            raise Stale(
                f"RT ticket {number} changed since version {version} (now {current.version})",
                current,
            )
        if plan.comments:
            self._add_comments(number, plan.comments, since=version)
            current, ticket = self._read_ticket(number)
        return current

    def add_timeline_entry(
        self,
        incident_id: str,
        kind: str,
        body: str,
        *,
        idempotency_key: str,
        score: int | None = None,
    ) -> TimelineEvent:
        """A work note as an RT comment, a status update as RT correspondence.

        CSAT scores (kind ``csat``) have no place in RT yet and are refused
        (the message says so); ``score`` is accepted for the protocol only.

        Where the queue's transactions have the request key field, the key is
        written on the note and looked for before it is sent, so a note sent
        again after its answer was lost is not added twice, also after a
        restart. Without the field only a resend in this session is recognised
        (see :meth:`_find_note`).
        """
        done = self._notes.get(idempotency_key)
        if done is not None:
            return done
        number = _ticket(incident_id)
        try:
            what = TimelineKind.of(kind)
        except DomainError as exc:
            raise Rejected(422, str(exc)) from exc
        if what is TimelineKind.WORK_NOTE:
            action = "comment"
        elif what is TimelineKind.STATUS_UPDATE:
            action = "correspond"
        else:
            raise Rejected(
                422,
                f"Request Tracker keeps work notes (comments) and status updates "
                f"(correspondence), not {what.label.lower()} entries",
            )
        if not body.strip():
            raise Rejected(422, "a note needs some text")
        self._prepare()
        found = self._find_note(number, action, body, idempotency_key)
        if found is not None:
            event = self._note_event(
                incident_id,
                what,
                body,
                int(found["id"]),
                parse_time(found.get("Created")),
                _creator(found),
            )
        else:
            event = self._post_note(incident_id, number, what, action, body, idempotency_key)
        self._notes[idempotency_key] = event
        self._uncertain_notes.pop(idempotency_key, None)
        return event

    def _post_note(
        self,
        incident_id: str,
        number: int,
        what: TimelineKind,
        action: str,
        body: str,
        idempotency_key: str,
    ) -> TimelineEvent:
        payload: dict[str, Any] = _note(body)
        before: int | None = None
        if self._note_key is not None:
            payload["TxnCustomFields"] = {self._note_key: idempotency_key}
        elif idempotency_key not in self._uncertain_notes:
            before = self._etag_of(number)  # to recognise this note if its answer is lost
        try:
            answer = self._call("POST", f"ticket/{number}/{action}", body=payload)
        except (Unreachable, BackendError) as exc:
            if before is not None and not isinstance(exc, Rejected | AuthFailed | RateLimited):
                self._uncertain_notes.setdefault(idempotency_key, before)
            raise
        # RT answers 201 only once the note is recorded (a refused one gets 400), so
        # whatever else the answer's messages say, the note is there.
        match = _TXN_LOCATION.search(answer.location)
        if match is None:
            raise BackendError(f"{self._web} added the note but did not say where")
        if action == "comment" and not self._comments_checked:
            with contextlib.suppress(BackendError):
                self._check_comments_visible(int(match.group(1)))
        author = self._caller.name if self._caller is not None else ""
        return self._note_event(
            incident_id, what, body, int(match.group(1)), answer.server_time, author
        )

    def _find_note(
        self, number: int, action: str, body: str, idempotency_key: str
    ) -> dict[str, Any] | None:
        """The transaction an earlier attempt of this note made, if there is one.

        With the request key field on transactions: the ticket's transaction
        holding the key. Without it, and only after this session lost an answer
        to this note: this user's comment (or correspondence) with the same
        text added after the ticket's version read just before that attempt.
        Two notes of the same text sent on purpose are two requests with two
        keys, so neither is taken for the other.
        """
        if self._note_key is not None:
            return self._first(
                "transactions",
                note_key_sql(number, self._note_key, idempotency_key),
                fields=TXN_FIELDS,
            )
        since = self._uncertain_notes.get(idempotency_key)
        if since is None:
            return None
        return self._messages_by_me(number, action.capitalize(), since).get(body.strip())

    def _note_event(
        self,
        incident_id: str,
        what: TimelineKind,
        body: str,
        txn: int,
        at: datetime | None,
        author: str,
    ) -> TimelineEvent:
        action = "Comment" if what is TimelineKind.WORK_NOTE else "Correspond"
        return TimelineEvent(
            id=event_id(txn),
            incident_id=incident_id,
            kind=what,
            at=at or datetime.now(UTC).replace(microsecond=0),
            author=author or "me",
            body=body,
            data={"rt_transaction": txn, "rt_type": action},
        )

    def publish_status_update(
        self, incident_id: str, audience: str, status: str, text: str, *, idempotency_key: str
    ) -> TimelineEvent:
        """RT has no audiences: refused, so an internal update never mails the requestors."""
        raise Rejected(
            422,
            "Request Tracker has no stakeholder audiences; publish internal and executive "
            "updates by your usual channel and add a work note saying what was sent",
        )

    def engage(
        self, incident_id: str, tiers: list[int], reason: str, *, idempotency_key: str
    ) -> list[TimelineEvent]:
        """RT has no escalation tiers: refused, with what to do instead."""
        raise Rejected(
            422,
            "Request Tracker has no escalation tiers to engage; call the people on call from "
            "the escalation matrix (Ctrl+3) and add a work note saying whom you engaged",
        )


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _ticket(incident_ref: str) -> int:
    try:
        return ticket_number(incident_ref)
    except ValueError as exc:
        raise Rejected(404, str(exc)) from exc


def _note(text: str) -> dict[str, Any]:
    return {"Content": text, "ContentType": "text/plain"}


def _creator(txn: Mapping[str, Any]) -> str:
    """The name of a REST2 transaction's ``Creator`` (``{"id": "alice", ...}``)."""
    creator = txn.get("Creator")
    if isinstance(creator, Mapping):
        creator = creator.get("id")
    return str(creator or "")


def _segment(value: str) -> str:
    return quote(value, safe="")


def _items(data: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise BackendError(f"{where} sent a search result the console cannot read")
    return [i for i in data["items"] if isinstance(i, dict)]


def _total(data: Any) -> int | None:
    """A REST2 search's ``total``: RT reports it only where the account may see every
    row (ticket searches under RT's SQL rights checks, its default); else None."""
    total = data.get("total") if isinstance(data, dict) else None
    if isinstance(total, str) and total.isdigit():
        return int(total)
    if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
        return total
    return None


def _last_page(data: Any, page: int, per_page: int) -> bool:
    """Whether RT's ``total`` says page ``page`` of ``per_page`` is the last (False when
    RT does not say)."""
    total = _total(data)
    return total is not None and page * per_page >= total


def _etag_number(value: str | None) -> int | None:
    if not value:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    return int(text) if text.isdigit() else None


def _server_time(value: str | None) -> datetime:
    """RT's clock from the ``Date`` header (ours when it sent none)."""
    if value:
        with contextlib.suppress(TypeError, ValueError):
            when = email.utils.parsedate_to_datetime(value)
            if when.tzinfo is not None:
                return when.astimezone(UTC)
    return datetime.now(UTC).replace(microsecond=0)


def _message_of(data: Any, response: requests.Response) -> str:
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return data["message"]
    if isinstance(data, list):
        texts = [str(m) for m in data if isinstance(m, str)]
        if texts:
            return "; ".join(texts)
    text = response.text.strip().replace("\n", " ")[:200]
    return text or f"HTTP {response.status_code} {response.reason}"


def _reason(exc: BaseException) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused: RT is not running or not listening there"
    if "Name or service not known" in text or "getaddrinfo failed" in text:
        return "the host name is unknown"
    return text[:200]
