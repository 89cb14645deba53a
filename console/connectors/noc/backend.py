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

import json
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from console.connectors.base import (
    CREATE_FIELDS,
    PATCH_FIELDS,
    RECORD_ACTIONS,
    AuthFailed,
    BackendError,
    Caller,
    ChangeBatch,
    RateLimited,
    Rejected,
    Stale,
    StaleRecord,
    TlsFailed,
    Unreachable,
)
from console.connectors.http import http_session, parse_retry_after, tls_verify
from console.connectors.noc.decode import incident_from_json, timeline_from_json
from console.connectors.noc.errors import error_of, speaks_plain_http, transport_reason
from console.connectors.noc.events import SseStream
from console.domain.incident import Incident, TimelineEvent
from console.wire import etag

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
            if speaks_plain_http(exc):
                raise Unreachable(
                    f"{self._url} answers in plain HTTP, not HTTPS: the certificate is not the "
                    "problem. Check the address: the server may need to be set up for HTTPS, "
                    "or the URL is wrong"
                ) from exc
            raise TlsFailed(
                f"the TLS certificate of {self._url} cannot be verified ({transport_reason(exc)}). "
                "If the server uses a private certificate authority, give its CA bundle "
                "(--ca-bundle PATH or ca_bundle in the backend's settings)"
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise Unreachable(
                f"{self._url} did not answer in time ({transport_reason(exc)})"
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise Unreachable(f"cannot reach {self._url} ({transport_reason(exc)})") from exc
        if response.status_code >= 400:
            try:
                self._raise_for(response)
            finally:
                response.close()
        return response

    def _raise_for(self, response: requests.Response) -> None:
        status = response.status_code
        code, message = error_of(response)
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

    def assign_role(
        self, incident_id: str, role: str, person: str, reason: str, *, idempotency_key: str
    ) -> None:
        self._send(
            "PUT",
            f"/v1/incidents/{_segment(incident_id)}/roles/{_segment(role)}",
            body={"person": person, "reason": reason},
            headers={"Idempotency-Key": idempotency_key},
        )

    def set_bridge(
        self, incident_id: str, bridge: Mapping[str, str], *, idempotency_key: str
    ) -> None:
        self._send(
            "PUT",
            f"/v1/incidents/{_segment(incident_id)}/bridge",
            body=dict(bridge),
            headers={"Idempotency-Key": idempotency_key},
        )

    def change_responder(
        self, incident_id: str, person: str, action: str, *, idempotency_key: str
    ) -> None:
        self._send(
            "POST",
            f"/v1/incidents/{_segment(incident_id)}/responders",
            body={"person": person, "action": action},
            headers={"Idempotency-Key": idempotency_key},
        )

    # ------------------------------------------------------------ reviews and problems

    def write_record(
        self,
        action: str,
        target: str,
        body: Mapping[str, object],
        *,
        version: int | None,
        idempotency_key: str,
    ) -> Mapping[str, object]:
        kind = RECORD_ACTIONS.get(action)
        if kind is None:
            raise Rejected(0, f"{action!r} is not a review or problem edit the console knows")
        base = "/v1/pirs" if kind == "pir" else "/v1/problems"
        where = f"{base}/{_segment(target)}"
        headers = {"Idempotency-Key": idempotency_key}
        if version is not None:
            headers["If-Match"] = etag(version)
        method, path = {
            "pir_draft": ("POST", base),
            "pir_patch": ("PATCH", where),
            "pir_item": ("POST", f"{where}/action-items"),
            "problem_open": ("POST", base),
            "problem_patch": ("PATCH", where),
        }[action]
        sent = {"incident_id": target} if action == "pir_draft" else dict(body)
        try:
            response = self._send(method, path, body=sent, headers=headers)
        except _PreconditionFailed as stale:
            raise StaleRecord(stale.message, self._record(where)) from None
        data = self._json(response)
        if action == "pir_item":
            return self._record(where)  # the answer is the item; the cache keeps the review
        if not isinstance(data, dict):
            raise BackendError(f"{self._url}: the {kind} in the answer is not an object")
        return data

    def get_record(self, kind: str, target: str) -> Mapping[str, object]:
        if kind not in ("pir", "problem"):
            raise Rejected(0, f"{kind!r} is not a record kind (pir or problem)")
        base = "/v1/pirs" if kind == "pir" else "/v1/problems"
        return self._record(f"{base}/{_segment(target)}")

    def _record(self, path: str) -> dict[str, Any]:
        data = self._json(self._send("GET", path))
        if not isinstance(data, dict):
            raise BackendError(f"{self._url}: {path} did not answer with an object")
        return data

    def apply_workaround(
        self, incident_id: str, known_error_id: str, note: str, *, idempotency_key: str
    ) -> TimelineEvent:
        response = self._send(
            "POST",
            f"/v1/incidents/{_segment(incident_id)}/workaround",
            body={"known_error_id": known_error_id, "note": note},
            headers={"Idempotency-Key": idempotency_key},
        )
        return timeline_from_json(self._json(response))


class _PreconditionFailed(BackendError):
    """412 (internal: turned into :class:`Stale` once the current incident is read)."""


def _segment(value: str) -> str:
    return quote(value, safe="")
