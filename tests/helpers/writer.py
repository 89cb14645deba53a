"""Group-writer helpers: hold the writer on a gate, send requests that land in one batch."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy.orm import Session

from console.server.core.writer import GroupWriter
from tests.helpers.servers import Api


@contextmanager
def held(writer: GroupWriter) -> Iterator[Callable[[], None]]:
    """Keep the writer busy with a job that waits on a gate; yields the gate's release.

    Everything submitted meanwhile queues up and goes into the next batch.
    """
    gate = threading.Event()
    entered = threading.Event()

    def block(_session: Session) -> None:
        entered.set()
        gate.wait(20)

    thread = threading.Thread(target=lambda: asyncio.run(writer.run(block)))
    thread.start()
    assert entered.wait(10), "the writer did not pick up the blocking job"
    try:
        yield gate.set
    finally:
        gate.set()
        thread.join(10)


def _send_all(api: Api, requests: list[tuple[str, str, dict[str, Any], dict[str, str]]]) -> list:
    """Send the requests concurrently while the writer is held; their responses in order."""
    writer = api.server.app.state.context.writer
    responses: list[httpx.Response | None] = [None] * len(requests)

    def send(index: int) -> None:
        method, path, body, headers = requests[index]
        with httpx.Client(base_url=api.url, timeout=30) as client:
            responses[index] = client.request(method, path, json=body, headers=headers)

    with held(writer) as release:
        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while len(writer._pending) < len(requests) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(writer._pending) == len(requests), "the requests did not all queue"
        release()
        for thread in threads:
            thread.join(30)
    assert writer.stats.sizes[-1] == len(requests), "the requests were not one batch"
    return responses
