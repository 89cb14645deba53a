"""``GET /v1/events``: wakes with the newest seq, honours Last-Event-ID, sends heartbeats."""

from __future__ import annotations

import itertools
import time

from tests.helpers.servers import Api, ApiFactory
from tests.helpers.sse import SseReader


def test_new_client_is_told_the_newest_seq_at_once(api: Api) -> None:
    api.create()
    api.create()
    with SseReader(api.url, api.auth("viewer")) as stream:
        assert stream.status == 200
        assert stream.content_type.startswith("text/event-stream")
        event = stream.next_event(timeout=5)
        assert event is not None
        assert (event.event, event.id, event.data) == ("change", "2", '{"seq":2}')


def test_last_event_id_behind_gets_an_immediate_wake(api: Api) -> None:
    for _ in range(3):
        api.create()
    with SseReader(api.url, api.auth("viewer"), last_event_id=1) as stream:
        event = stream.next_event(timeout=2)
        assert event is not None
        assert event.id == "3"


def test_last_event_id_current_waits_for_the_next_write(api: Api) -> None:
    api.create()
    with SseReader(api.url, api.auth("viewer"), last_event_id=1) as stream:
        assert stream.next_event(timeout=0.8) is None  # nothing new: no event
        started = time.monotonic()
        api.create()
        event = stream.next_event(timeout=5)
        assert event is not None
        assert event.id == "2"
        assert time.monotonic() - started < 2


def test_heartbeat_comments_while_idle(api_factory: ApiFactory) -> None:
    api = api_factory(sse_heartbeat_s=0.2)
    with SseReader(api.url, api.auth("viewer"), last_event_id=0) as stream:
        time.sleep(1.5)
        beats = [at for at, text in stream.comments if text == "heartbeat"]
    assert len(beats) >= 4
    gaps = [b - a for a, b in itertools.pairwise(beats)]
    assert max(gaps) < 0.6


def test_events_need_a_token(api: Api) -> None:
    response = api.client.get("/v1/events")
    assert response.status_code == 401


def test_bad_last_event_id_is_422(api: Api) -> None:
    response = api.client.get(
        "/v1/events", headers={**api.auth("viewer"), "Last-Event-ID": "yesterday"}
    )
    assert response.status_code == 422
    assert "Last-Event-ID" in response.json()["error"]["message"]


def test_stopping_the_server_ends_open_streams(api_factory: ApiFactory) -> None:
    api = api_factory(sse_heartbeat_s=5)
    with SseReader(api.url, api.auth("viewer")) as stream:
        started = time.monotonic()
        api.server.stop()
        stream._thread.join(5)
        assert not stream._thread.is_alive()
    assert time.monotonic() - started < 4
