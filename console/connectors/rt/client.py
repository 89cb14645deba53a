"""HTTP to RT's REST2 API: a session per thread, calls with typed errors, full searches.

Also the helpers that read RT's answers (totals, last pages, ETags, messages).
"""

from __future__ import annotations

import contextlib
import email.utils
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests

from console.connectors.base import (
    AuthFailed,
    BackendError,
    RateLimited,
    Rejected,
    TlsFailed,
    Unreachable,
)
from console.connectors.http import http_session, parse_retry_after
from console.connectors.rt.core import (
    _PERMANENT,
    DEFAULT_RETRY_AFTER_S,
    FIRST_PAGE,
    PAGE_MAX,
    RtCore,
    _Answer,
)
from console.connectors.rt.mapping import ticket_number
from console.connectors.rt.urls import API_PATH


class _PreconditionFailed(BackendError):
    """412 (internal: turned into :class:`Stale` once the ticket is read again)."""


class RtClient(RtCore):
    """Calls to REST2 with the connector's errors; searches read past RT's short pages."""

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
