"""The connector for our own ticket API (``console.server``), over HTTP(S) with ``requests``.

Every call has a timeout; TLS certificates are always verified (a private CA
is given as a CA bundle file, never by switching verification off). Requests
carry ``Authorization: Bearer <token>``; writes carry ``Idempotency-Key`` so a
resend after a lost answer is never applied twice, and edits carry
``If-Match`` so a stale edit is refused (412) instead of overwriting someone
else's.

The change feed is the hot path of a first sync (100k incidents), so pages are
decoded from JSON straight into domain records; anything the fast path does
not recognise goes through the pydantic wire models, which give the precise
error.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from pydantic import ValidationError

from console.connectors.base import (
    CREATE_FIELDS,
    PATCH_FIELDS,
    AuthFailed,
    BackendError,
    Caller,
    ChangeBatch,
    RateLimited,
    Rejected,
    Stale,
    TlsFailed,
    Unreachable,
)
from console.connectors.http import http_session, parse_retry_after, tls_verify
from console.domain.errors import DomainError
from console.domain.incident import (
    AlertInfo,
    HoldPeriod,
    Incident,
    Source,
    TimelineEvent,
    TimelineKind,
)
from console.domain.lifecycle import HoldReason, State
from console.domain.severity import Impact, Severity, Urgency
from console.wire import Incident as WireIncident
from console.wire import TimelineEntry as WireTimelineEntry
from console.wire import etag, incident_from_wire, timeline_from_wire

# The server's largest change page (console.server.core.settings.CHANGES_PAGE_MAX).
MAX_PAGE = 1000

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0
# The server sends a heartbeat at least every 15 s; three missed ones mean the
# stream is dead even if the socket looks open (a NAT box dropped it).
EVENTS_READ_TIMEOUT_S = 45.0
# When a 429 carries no usable Retry-After.
DEFAULT_RETRY_AFTER_S = 5.0

# Wire kinds of reference data → the cache's kinds.
REFERENCE_KINDS: Mapping[str, str] = {
    "service": "services",
    "team": "teams",
    "contact": "contacts",
    "policy": "policies",
    "shift": "shifts",
    "category": "categories",
    "known_error": "known_errors",
    # Not reference data, but kept the same way: whole documents by id.
    "pir": "pirs",
    "problem": "problems",
}

_PERMANENT = frozenset({400, 403, 404, 409, 410, 413, 422, 428})
_GATEWAY = frozenset({502, 503, 504})

_IMPACTS = {m.value: m for m in Impact}
_URGENCIES = {m.value: m for m in Urgency}
_SEVERITIES = {m.code: m for m in Severity}
_STATES = {m.value: m for m in State}
_SOURCES = {m.value: m for m in Source}
_HOLD_REASONS = {m.value: m for m in HoldReason}
_KINDS = {m.value: m for m in TimelineKind}
_ts = datetime.fromisoformat


def _opt_ts(value: object) -> datetime | None:
    if value is None:
        return None
    if type(value) is not str:
        raise TypeError("timestamp")
    return _ts(value)


def _opt_str(value: object) -> str | None:
    if value is None or type(value) is str:
        return value
    raise TypeError("text")


def _str(value: object) -> str:
    if type(value) is str:
        return value
    raise TypeError("text")


def _int(value: object) -> int:
    if type(value) is int:
        return value
    raise TypeError("whole number")


def _alert(data: object) -> AlertInfo | None:
    """The ``alert`` object of a wire incident (alert intake), or None."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise TypeError("alert")
    labels = data.get("labels") or {}
    if not isinstance(labels, dict):
        raise TypeError("alert labels")
    return AlertInfo(
        integration=_str(data["integration"]),
        key=_str(data["key"]),
        status=_str(data["status"]),
        first_seen=_ts(data["first_seen"]),
        last_seen=_ts(data["last_seen"]),
        repeat_count=_int(data.get("repeat_count", 1)),
        labels=tuple(sorted((_str(k), _str(v)) for k, v in labels.items())),
        generator_url=_opt_str(data.get("generator_url")),
        monitor=_opt_str(data.get("monitor")),
        flapping=data.get("flapping", False) is True,
    )


def incident_from_json(data: Mapping[str, Any]) -> Incident:
    """A wire incident (decoded JSON) as the domain record.

    The fast path builds the record directly (five times faster than going
    through the pydantic model); a value it does not accept falls back to the
    wire model, which either reads it or names exactly what is wrong.
    """
    try:
        hold_reason = data.get("hold_reason")
        holds = data.get("holds") or ()
        return Incident(
            id=_str(data["id"]),
            number=_str(data["number"]),
            title=_str(data["title"]),
            service=_str(data["service"]),
            impact=_IMPACTS[data["impact"]],
            urgency=_URGENCIES[data["urgency"]],
            severity=_SEVERITIES[data["severity"]],
            state=_STATES[data["state"]],
            opened_at=_ts(data["opened_at"]),
            updated_at=_ts(data["updated_at"]),
            version=_int(data["version"]),
            description=_str(data.get("description", "")),
            category=_opt_str(data.get("category")),
            subcategory=_opt_str(data.get("subcategory")),
            assignee=_opt_str(data.get("assignee")),
            assignment_group=_opt_str(data.get("assignment_group")),
            reporter=_opt_str(data.get("reporter")),
            source=_SOURCES[data.get("source", "phone")],
            major=data.get("major", False) is True,
            hold_reason=None if hold_reason is None else _HOLD_REASONS[hold_reason],
            holds=tuple(HoldPeriod(_ts(h["started"]), _opt_ts(h.get("ended"))) for h in holds),
            acknowledged_at=_opt_ts(data.get("acknowledged_at")),
            resolved_at=_opt_ts(data.get("resolved_at")),
            closed_at=_opt_ts(data.get("closed_at")),
            response_due=_opt_ts(data.get("response_due")),
            resolution_due=_opt_ts(data.get("resolution_due")),
            alert=_alert(data.get("alert")),
        )
    except (KeyError, TypeError, ValueError, AttributeError, DomainError):
        pass
    try:
        return incident_from_wire(WireIncident.model_validate(data))
    except (ValidationError, DomainError) as exc:
        raise BackendError(f"the backend sent an incident the console cannot read: {exc}") from exc


def timeline_from_json(data: Mapping[str, Any]) -> TimelineEvent:
    """A wire timeline entry (decoded JSON) as the domain event (fast path, then pydantic)."""
    try:
        extra = data.get("data") or {}
        if not isinstance(extra, dict):
            raise TypeError("data")
        return TimelineEvent(
            id=_str(data["id"]),
            incident_id=_str(data["incident_id"]),
            kind=_KINDS[data["kind"]],
            at=_ts(data["at"]),
            author=_str(data["author"]),
            body=_str(data["body"]),
            data=dict(extra),
        )
    except (KeyError, TypeError, ValueError, AttributeError, DomainError):
        pass
    try:
        return timeline_from_wire(WireTimelineEntry.model_validate(data))
    except (ValidationError, DomainError) as exc:
        raise BackendError(
            f"the backend sent a timeline entry the console cannot read: {exc}"
        ) from exc


def normalise_url(url: str) -> str:
    """``https://noc.example.com/`` → ``https://noc.example.com``; ValueError when not a URL."""
    text = url.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not a backend URL; use http://host:port or https://host")
    return text


class NocBackend:
    """Our ticket API as a :class:`~console.connectors.base.Backend`.

    ``ca_bundle`` names a PEM file of CA certificates to trust instead of the
    system's (a NOC with a private CA); verification itself cannot be turned
    off. ``key`` is the cache's name for this backend's data; it defaults to
    the URL. Methods are safe to call from one thread at a time; the event
    stream uses its own connection and may be read on another thread.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        key: str | None = None,
        ca_bundle: str | Path | None = None,
        connect_timeout: float = CONNECT_TIMEOUT_S,
        read_timeout: float = READ_TIMEOUT_S,
        events_read_timeout: float = EVENTS_READ_TIMEOUT_S,
    ) -> None:
        self._url = normalise_url(url)
        self._key = key or self._url
        self._verify = tls_verify(ca_bundle)
        self._timeout = (connect_timeout, read_timeout)
        self._events_timeout = (connect_timeout, events_read_timeout)
        self._token = token
        self._session = http_session(self._verify, self._url)
        self._closed = False

    # ------------------------------------------------------------ properties

    @property
    def key(self) -> str:
        return self._key

    @property
    def url(self) -> str:
        return self._url

    @property
    def supports_events(self) -> bool:
        return True

    def set_token(self, token: str) -> None:
        """Use ``token`` for every request from now on."""
        self._token = token

    def holdings(self) -> list[tuple[str, str]]:
        return [
            (
                "Incidents, timelines, escalation matrix, on-call, services, teams, contacts",
                f"NOC Console server {self._url}",
            )
        ]

    def take_notices(self) -> list[str]:
        return []  # the server says what is wrong in its answers

    @property
    def token_hint(self) -> str:
        return ""  # the token dialog's own advice is about this server

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._session.close()

    def __enter__(self) -> NocBackend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"NocBackend({self._url!r})"

    # ------------------------------------------------------------ HTTP

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _send(
        self,
        method: str,
        path: str,
        *,
        session: requests.Session | None = None,
        params: Mapping[str, str | int] | None = None,
        body: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        timeout: tuple[float, float] | None = None,
    ) -> requests.Response:
        """One request; transport failures and error statuses become typed errors."""
        where = f"{self._url}{path}"
        try:
            response = (session or self._session).request(
                method,
                where,
                params=params,
                json=body,
                headers=self._headers(headers),
                stream=stream,
                timeout=timeout or self._timeout,
                allow_redirects=False,
                # Per request: a session's own setting loses to REQUESTS_CA_BUNDLE
                # from the environment, and an explicit --ca-bundle must win.
                verify=self._verify,
            )
        except requests.exceptions.SSLError as exc:
            if _speaks_plain_http(exc):
                raise Unreachable(
                    f"{self._url} answers in plain HTTP, not HTTPS: the certificate is not the "
                    "problem. Check the address: the server may need to be set up for HTTPS, "
                    "or the URL is wrong"
                ) from exc
            raise TlsFailed(
                f"the TLS certificate of {self._url} cannot be verified ({_reason(exc)}). "
                "If the server uses a private certificate authority, give its CA bundle "
                "(--ca-bundle PATH or ca_bundle in the backend's settings)"
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise Unreachable(f"{self._url} did not answer in time ({_reason(exc)})") from exc
        except requests.exceptions.RequestException as exc:
            raise Unreachable(f"cannot reach {self._url} ({_reason(exc)})") from exc
        if response.status_code >= 400:
            try:
                self._raise_for(response)
            finally:
                response.close()
        return response

    def _raise_for(self, response: requests.Response) -> None:
        status = response.status_code
        code, message = _error_of(response)
        if status == 401:
            raise AuthFailed(message)
        if status == 429:
            retry = parse_retry_after(response.headers.get("Retry-After"), DEFAULT_RETRY_AFTER_S)
            raise RateLimited(
                f"{self._url} asks the console to slow down ({message})",
                retry if retry is not None else DEFAULT_RETRY_AFTER_S,
            )
        if status in _GATEWAY:
            raise Unreachable(
                f"{self._url} is not available right now ({status}: {message})",
                parse_retry_after(response.headers.get("Retry-After"), None),
            )
        if status == 412:
            # The caller that sent If-Match handles it (it re-reads the incident).
            raise _PreconditionFailed(message)
        if status in _PERMANENT:
            raise Rejected(status, message, code)
        raise BackendError(f"{self._url} failed ({status}: {message})")

    def _json(self, response: requests.Response) -> Any:
        try:
            return json.loads(response.content)
        except ValueError as exc:
            raise BackendError(
                f"{self._url} sent an answer that is not JSON (is it a NOC Console server?)"
            ) from exc
        finally:
            response.close()

    # ------------------------------------------------------------ reads

    def changes(self, after: int, limit: int = MAX_PAGE) -> ChangeBatch:
        """One page of ``GET /v1/changes``, net of repeats within the page."""
        response = self._send(
            "GET", "/v1/changes", params={"after": after, "limit": max(1, min(limit, MAX_PAGE))}
        )
        page = self._json(response)
        try:
            entries = page["changes"]
            cursor = int(page["cursor"])
            more = bool(page["more"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BackendError(f"{self._url} sent a change page the console cannot read") from exc
        # The newest entry per entity wins, so "upsert then delete" ends deleted
        # and "delete then upsert" ends present, whatever order the cache applies
        # upserts and deletions in.
        last: dict[tuple[str, str], Mapping[str, Any]] = {}
        try:
            for entry in entries:
                last[(str(entry["kind"]), str(entry["id"]))] = entry
        except (KeyError, TypeError) as exc:
            raise BackendError(f"{self._url} sent a change entry the console cannot read") from exc
        incidents: list[Incident] = []
        deleted: list[str] = []
        timeline: list[TimelineEvent] = []
        reference: dict[str, list[Mapping[str, object]]] = {}
        deleted_reference: dict[str, list[str]] = {}
        for (kind, entity_id), entry in last.items():
            data = entry.get("data")
            if data is not None and not isinstance(data, dict):
                raise BackendError(f"{self._url} sent a change entry the console cannot read")
            upsert = entry.get("op") == "upsert" and data is not None
            if kind == "incident":
                if data is not None and upsert:
                    incidents.append(incident_from_json(data))
                else:
                    deleted.append(entity_id)
            elif kind == "timeline":
                # The server never deletes timeline entries (and the cache has no
                # way to); an unknown tombstone is ignored.
                if data is not None and upsert:
                    timeline.append(timeline_from_json(data))
            elif kind in REFERENCE_KINDS:
                store_kind = REFERENCE_KINDS[kind]
                if data is not None and upsert:
                    reference.setdefault(store_kind, []).append(data)
                else:
                    deleted_reference.setdefault(store_kind, []).append(entity_id)
            # A kind this console does not know yet (a newer server) is skipped:
            # the cursor still moves past it, as for every other entry.
        return ChangeBatch(
            cursor=cursor,
            more=more,
            incidents=tuple(incidents),
            deleted_incidents=tuple(deleted),
            timeline=tuple(timeline),
            reference={kind: tuple(items) for kind, items in reference.items()},
            deleted_reference={kind: tuple(ids) for kind, ids in deleted_reference.items()},
            count=len(entries),
        )

    def latest_cursor(self) -> int | None:
        """The newest seq: the first event of a fresh SSE stream carries it at once."""
        # A short wait: behind a proxy that buffers event streams the first
        # event never comes, and progress is not worth delaying the sync for.
        stream = self.open_events(None, read_timeout=min(self._timeout[1], 3.0))
        try:
            for seq in stream:
                return seq
        except Unreachable:
            return None
        finally:
            stream.close()
        return None

    def open_events(self, last_seen: int | None, *, read_timeout: float | None = None) -> SseStream:
        """Open ``GET /v1/events`` on a connection of its own."""
        session = http_session(self._verify, self._url)
        headers = {"Accept": "text/event-stream"}
        if last_seen is not None:
            headers["Last-Event-ID"] = str(last_seen)
        timeout = self._events_timeout
        if read_timeout is not None:
            timeout = (timeout[0], read_timeout)
        try:
            response = self._send(
                "GET", "/v1/events", session=session, headers=headers, stream=True, timeout=timeout
            )
        except BaseException:
            session.close()
            raise
        return SseStream(response, session, self._url)

    def whoami(self) -> Caller | None:
        """``GET /v1/me``: the token's name and role (None from a server without it)."""
        try:
            response = self._send("GET", "/v1/me")
        except Rejected as exc:
            if exc.status == 404:
                return None  # a server from before /v1/me existed
            raise
        data = self._json(response)
        try:
            return Caller(name=str(data["name"]), role=str(data["role"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise BackendError(
                f"{self._url} sent an answer to /v1/me the console cannot read"
            ) from exc

    def get_incident(self, incident_id: str) -> Incident:
        response = self._send("GET", f"/v1/incidents/{_segment(incident_id)}")
        return incident_from_json(self._json(response))

    # ------------------------------------------------------------ writes

    def create_incident(self, fields: Mapping[str, object], *, idempotency_key: str) -> Incident:
        body = {name: value for name, value in fields.items() if name in CREATE_FIELDS}
        response = self._send(
            "POST", "/v1/incidents", body=body, headers={"Idempotency-Key": idempotency_key}
        )
        return incident_from_json(self._json(response))

    def update_incident(
        self,
        incident_id: str,
        fields: Mapping[str, object],
        *,
        version: int,
        idempotency_key: str,
    ) -> Incident:
        unknown = sorted(set(fields) - set(PATCH_FIELDS))
        if unknown:
            raise Rejected(422, f"{', '.join(unknown)}: not a field an edit can change")
        path = f"/v1/incidents/{_segment(incident_id)}"
        try:
            response = self._send(
                "PATCH",
                path,
                body=dict(fields),
                headers={"If-Match": etag(version), "Idempotency-Key": idempotency_key},
            )
        except _PreconditionFailed as stale:
            current = self.get_incident(incident_id)
            raise Stale(stale.message, current) from None
        return incident_from_json(self._json(response))

    def add_timeline_entry(
        self,
        incident_id: str,
        kind: str,
        body: str,
        *,
        idempotency_key: str,
        score: int | None = None,
    ) -> TimelineEvent:
        sent: dict[str, object] = {"kind": kind, "body": body}
        if score is not None:
            sent["score"] = score
        response = self._send(
            "POST",
            f"/v1/incidents/{_segment(incident_id)}/timeline",
            body=sent,
            headers={"Idempotency-Key": idempotency_key},
        )
        return timeline_from_json(self._json(response))

    def publish_status_update(
        self, incident_id: str, audience: str, status: str, text: str, *, idempotency_key: str
    ) -> TimelineEvent:
        response = self._send(
            "POST",
            f"/v1/incidents/{_segment(incident_id)}/status-updates",
            body={"audience": audience, "status": status, "text": text},
            headers={"Idempotency-Key": idempotency_key},
        )
        data = self._json(response)
        if not isinstance(data, dict):
            raise BackendError(f"{self._url}: the status update response is not an object")
        return timeline_from_json(
            {
                "id": data.get("id"),
                "incident_id": data.get("incident_id"),
                "kind": "status_update",
                "at": data.get("at"),
                "author": data.get("author"),
                "body": data.get("text"),
                "data": {"audience": data.get("audience"), "status": data.get("status")},
            }
        )

    def engage(
        self, incident_id: str, tiers: list[int], reason: str, *, idempotency_key: str
    ) -> list[TimelineEvent]:
        response = self._send(
            "POST",
            f"/v1/incidents/{_segment(incident_id)}/engage",
            body={"tiers": list(tiers), "reason": reason},
            headers={"Idempotency-Key": idempotency_key},
        )
        data = self._json(response)
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise BackendError(f"{self._url}: the engage response has no list of entries")
        return [timeline_from_json(item) for item in items]


class _PreconditionFailed(BackendError):
    """412 (internal: turned into :class:`Stale` once the current incident is read)."""


class SseStream:
    """``GET /v1/events`` as an iterator of seqs; :meth:`close` works from any thread.

    A blocked read is woken by shutting the socket down, so stopping the sync
    never waits for the next heartbeat.
    """

    def __init__(self, response: requests.Response, session: requests.Session, url: str) -> None:
        self._response = response
        self._session = session
        self._url = url
        self._closed = threading.Event()
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[int]:
        event = ""
        data = ""
        event_id = ""
        try:
            for line in self._lines():
                if self._closed.is_set():
                    return
                if not line:
                    if event in ("", "change") and (data or event_id):
                        seq = _seq_of(data, event_id)
                        if seq is not None:
                            yield seq
                    event, data, event_id = "", "", ""
                    continue
                if line.startswith(":"):
                    continue  # a comment: the heartbeat
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "event":
                    event = value
                elif name == "data":
                    data = f"{data}\n{value}" if data else value
                elif name == "id":
                    event_id = value
        except (requests.exceptions.RequestException, OSError, AttributeError) as exc:
            if self._closed.is_set():
                return
            raise Unreachable(f"the event stream from {self._url} broke ({_reason(exc)})") from exc
        finally:
            self.close()

    def _lines(self) -> Iterator[str]:
        """The stream's lines as they arrive (CR, LF or CRLF ends a line, as SSE allows)."""
        buffer = b""
        after_cr = False  # a CR ended the last chunk: a leading LF belongs to it
        # chunk_size=None: hand over whatever arrived, without waiting to fill a chunk.
        for chunk in self._response.iter_content(chunk_size=None):
            if after_cr and chunk.startswith(b"\n"):
                chunk = chunk[1:]
            after_cr = False
            buffer += chunk
            while True:
                ends = [i for i in (buffer.find(b"\n"), buffer.find(b"\r")) if i >= 0]
                if not ends:
                    break
                cut = min(ends)
                line, rest = buffer[:cut], buffer[cut + 1 :]
                if buffer[cut : cut + 1] == b"\r":
                    if rest.startswith(b"\n"):
                        rest = rest[1:]
                    elif not rest:
                        after_cr = True
                buffer = rest
                yield line.decode("utf-8", "replace")

    def close(self) -> None:
        """End the stream (idempotent, thread-safe)."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
        connection = getattr(self._response.raw, "connection", None)
        sock = getattr(connection, "sock", None)
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):  # already gone
                sock.shutdown(socket.SHUT_RDWR)
        self._response.close()
        self._session.close()


def _seq_of(data: str, event_id: str) -> int | None:
    try:
        seq = json.loads(data)["seq"] if data else int(event_id)
    except (ValueError, KeyError, TypeError):
        try:
            seq = int(event_id)
        except ValueError:
            return None
    return int(seq) if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0 else None


def _segment(value: str) -> str:
    return quote(value, safe="")


def _error_of(response: requests.Response) -> tuple[str, str]:
    """The server's ``{"error": {"code", "message"}}``, or a readable stand-in."""
    try:
        body = json.loads(response.content)
        error = body["error"]
        return str(error.get("code", "")), str(error["message"])
    except (ValueError, KeyError, TypeError, AttributeError):
        text = response.text.strip().replace("\n", " ")[:200]
        return "", text or f"HTTP {response.status_code} {response.reason}"


_PLAIN_HTTP_SIGNS = ("WRONG_VERSION_NUMBER", "wrong version number", "record layer failure")


def _speaks_plain_http(exc: BaseException) -> bool:
    """An HTTPS hello answered by a plain-HTTP server (OpenSSL's tell-tale reasons)."""
    text = _reason(exc)
    return any(sign in text for sign in _PLAIN_HTTP_SIGNS)


def _reason(exc: BaseException) -> str:
    """A short reason for a transport error (requests nests the useful part deeply)."""
    inner: BaseException | None = exc
    seen = 0
    while inner is not None and seen < 6:
        args = getattr(inner, "args", ())
        nested = next((a for a in args if isinstance(a, BaseException)), None)
        reason = getattr(inner, "reason", None)
        if isinstance(reason, BaseException):
            nested = reason
        if nested is None:
            break
        inner, seen = nested, seen + 1
    text = str(inner or exc)
    if "Connection refused" in text or isinstance(inner, ConnectionRefusedError):
        return "connection refused: the server is not running or not listening there"
    if "certificate verify failed" in text:
        return "certificate verify failed: " + text.split("certificate verify failed:", 1)[-1][:120]
    return text[:200]
