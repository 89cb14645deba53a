"""uvicorn's HTTP/1.1 protocol with a deadline for the request headers.

uvicorn calls the app only once a request's headers are complete, and its
keep-alive timer is reset by every byte that arrives, so a client that
opens connections and drips a header byte now and then would hold them open
for ever (the "slowloris" attack). :func:`protocol_class` returns h11's
protocol with a deadline: the headers of each request must be complete within
``header_timeout_s`` of the connection opening (or of the previous response
ending), else the connection is closed. The body's deadline is the request
guard's (``guard.py``).

uvicorn's C parser (httptools, from ``uvicorn[standard]``) is used when it is
installed: it costs a create about 7 % less CPU than pure-Python h11
(docs/server.md). Both get the same deadline.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)


class HeaderDeadlineProtocol(H11Protocol):
    """:class:`H11Protocol` closing connections whose headers do not arrive in time."""

    header_timeout_s: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._headers_late)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the headers are in; the body has its own deadline

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()

    def _headers_late(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "-"
        log.info("%s: closed a connection whose request headers did not arrive in time", client)
        self.transport.close()


def _httptools_protocol() -> type[asyncio.Protocol] | None:
    """httptools' protocol with the header deadline, or None without httptools."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return None

    class HeaderDeadlineHttpTools(HttpToolsProtocol):
        """:class:`HttpToolsProtocol` closing connections whose headers do not arrive in time."""

        header_timeout_s: float = 10.0

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._header_deadline: asyncio.TimerHandle | None = None
            self._waiting_for_headers = True

        def _arm(self) -> None:
            self._disarm()
            self._waiting_for_headers = True
            self._header_deadline = self.loop.call_later(self.header_timeout_s, self._late)

        def _disarm(self) -> None:
            if self._header_deadline is not None:
                self._header_deadline.cancel()
                self._header_deadline = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_headers_complete(self) -> None:
            self._waiting_for_headers = False
            self._disarm()  # the headers are in; the body has its own deadline
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and not self.pipeline:
                self._arm()

        def _late(self) -> None:
            self._header_deadline = None
            if self.transport.is_closing() or not self._waiting_for_headers or self.pipeline:
                return
            client = f"{self.client[0]}:{self.client[1]}" if self.client else "-"
            log.info("%s: closed a connection whose request headers did not arrive in time", client)
            self.transport.close()

    return HeaderDeadlineHttpTools


def protocol_class(header_timeout_s: float) -> type[asyncio.Protocol]:
    """The protocol class for uvicorn's ``http=`` with this header deadline.

    httptools' when it is installed, else h11's; ``NOC_HTTP_PARSER=h11`` picks h11.
    """
    base: type[asyncio.Protocol] | None = None
    if os.environ.get("NOC_HTTP_PARSER", "").lower() != "h11":
        base = _httptools_protocol()
    if base is None:
        base = HeaderDeadlineProtocol
    return type("NocHttpProtocol", (base,), {"header_timeout_s": header_timeout_s})
