"""Our server's event stream (server-sent events): :class:`SseStream`, on its own connection."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator

import requests

from console.connectors.base import Unreachable
from console.connectors.noc.errors import transport_reason


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
            raise Unreachable(
                f"the event stream from {self._url} broke ({transport_reason(exc)})"
            ) from exc
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
