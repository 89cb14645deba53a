"""A small SSE client for the tests: reads ``/v1/events`` on a thread into a queue."""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from types import TracebackType

import httpx


@dataclass(frozen=True)
class SseEvent:
    """One dispatched event (``id``, ``event``, ``data``) and when it arrived."""

    id: str
    event: str
    data: str
    received: float


class SseReader:
    """Stream ``/v1/events`` in the background; ``next_event`` waits for the next one.

    Comment lines (heartbeats) are counted with their arrival times in
    ``comments``. Leaving the ``with`` block closes the connection.
    """

    def __init__(
        self, base_url: str, headers: dict[str, str], last_event_id: int | None = None
    ) -> None:
        self.headers = dict(headers)
        if last_event_id is not None:
            self.headers["Last-Event-ID"] = str(last_event_id)
        self.url = f"{base_url}/v1/events"
        self.events: queue.Queue[SseEvent] = queue.Queue()
        self.comments: list[tuple[float, str]] = []
        self.status: int | None = None
        self.opened = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(30, read=30))
        self._thread = threading.Thread(target=self._run, name="sse-reader", daemon=True)
        self._stop = False

    def __enter__(self) -> SseReader:
        self._thread.start()
        if not self.opened.wait(10):
            raise TimeoutError("the SSE stream did not open within 10 s")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop = True
        self._client.close()
        self._thread.join(5)

    def _run(self) -> None:
        fields: dict[str, str] = {}
        try:
            with self._client.stream("GET", self.url, headers=self.headers) as response:
                self.status = response.status_code
                self.content_type = response.headers.get("content-type", "")
                self.opened.set()
                for line in response.iter_lines():
                    if self._stop:
                        return
                    if line == "":
                        if "data" in fields:
                            self.events.put(
                                SseEvent(
                                    fields.get("id", ""),
                                    fields.get("event", "message"),
                                    fields["data"],
                                    time.monotonic(),
                                )
                            )
                        fields = {}
                    elif line.startswith(":"):
                        self.comments.append((time.monotonic(), line[1:].strip()))
                    else:
                        name, _, value = line.partition(":")
                        fields[name] = value.removeprefix(" ")
        except (httpx.HTTPError, RuntimeError):
            # The test closed the client, or the server went away.
            pass
        finally:
            self.opened.set()

    def next_event(self, timeout: float) -> SseEvent | None:
        """The next event, or None when none arrives within ``timeout`` seconds."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None
