"""The server on the real PostgreSQL: the feed invariant, numbering, LISTEN/NOTIFY fan-out.

Each test gets a schema of its own (see ``pg_url``); ``NOC_REQUIRE_PG=1`` (as
in CI) turns a missing database into a failure instead of a skip.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from tests.helpers.feed_check import check_feed_invariant
from tests.helpers.serve import ServeProcess, create_token
from tests.helpers.servers import INCIDENT, ApiFactory
from tests.helpers.sse import SseReader

pytestmark = pytest.mark.postgres


def test_incident_round_trip_on_postgresql(api_factory: ApiFactory, pg_url: str) -> None:
    api = api_factory(pg_url)
    health = api.client.get("/v1/health").json()
    assert health["database"] == "postgresql"
    incident = api.create()
    assert incident["number"] == "INC-000001"
    patched = api.patch(incident, state="in_progress", assignee="Ana")
    assert patched.status_code == 200, patched.text
    stale = api.patch(incident, title="stale")
    assert stale.status_code == 412
    text = api.request(
        "POST", f"/v1/incidents/{incident['id']}/timeline", json={"kind": "work_note", "body": "ok"}
    )
    assert text.status_code == 201
    assert [c["kind"] for c in api.all_changes()] == [
        "incident",
        "incident",
        "timeline",
        "timeline",
        "timeline",
    ]


def test_reader_sees_every_change_once_in_order_with_8_concurrent_writers_pg(
    api_factory: ApiFactory, pg_url: str
) -> None:
    api = api_factory(pg_url)
    check_feed_invariant(api, rounds=15)


def test_reader_sees_every_change_once_in_order_with_16_concurrent_writers_pg(
    api_factory: ApiFactory, pg_url: str
) -> None:
    api = api_factory(pg_url)
    check_feed_invariant(api, rounds=8, writers=16)
    assert api.server.app.state.context.writer.stats.largest_batch > 1


def test_idempotent_creates_race_to_one_incident_on_postgresql(
    api_factory: ApiFactory, pg_url: str
) -> None:
    api = api_factory(pg_url)
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def send() -> None:
        with httpx.Client(base_url=api.url, headers=api.auth("dispatcher"), timeout=30) as client:
            response = client.post(
                "/v1/incidents", json=INCIDENT, headers={"Idempotency-Key": "same-key"}
            )
        with lock:
            results.append(response)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [r.status_code for r in results] == [201] * 8
    assert len({r.json()["id"] for r in results}) == 1
    assert api.request("GET", "/v1/incidents").json()["total"] == 1


def test_two_servers_on_one_database_wake_each_others_sse_clients(
    api_factory: ApiFactory, pg_url: str
) -> None:
    # The poll safety net is pushed far out, so only LISTEN/NOTIFY can deliver
    # the wake-up from server A's commit to server B's stream in time.
    first = api_factory(pg_url, feed_poll_s=60)
    second = api_factory(pg_url, feed_poll_s=60)
    second.tokens = first.tokens  # one database, so one set of tokens works on both
    with SseReader(second.url, second.auth("viewer")) as stream:
        assert stream.next_event(timeout=5) is not None  # the connect-time wake
        incident = first.create()
        event = stream.next_event(timeout=5)
        assert event is not None, "server B's client was not woken by server A's commit"
        changes = second.request("GET", "/v1/changes?after=0", role="viewer").json()["changes"]
        assert int(event.id) == changes[-1]["seq"]
        assert changes[-1]["id"] == incident["id"]


@pytest.mark.slow
def test_two_serve_processes_share_one_database(pg_url: str, tmp_path: Path) -> None:
    token = create_token(pg_url, "dispatcher", "floor-console")
    with (
        ServeProcess(pg_url, tmp_path / "a.log") as first,
        ServeProcess(pg_url, tmp_path / "b.log") as second,
    ):
        headers = {"Authorization": f"Bearer {token}"}
        with SseReader(second.url, headers) as stream:
            assert stream.next_event(timeout=5) is not None  # the connect-time wake
            with first.client(token) as client:
                created = [client.post("/v1/incidents", json=INCIDENT).json() for _ in range(3)]
            seqs: list[int] = []
            while len(seqs) < 1 or seqs[-1] < 3:
                event = stream.next_event(timeout=5)
                assert event is not None, "process B's client missed process A's commits"
                seqs.append(int(event.id))
        with second.client(token) as client:
            numbers = [i["number"] for i in client.get("/v1/incidents").json()["items"]]
        assert numbers == [c["number"] for c in reversed(created)]


@pytest.mark.slow
def test_two_serve_processes_writing_at_once_keep_one_feed_and_one_set_of_keys(
    pg_url: str, tmp_path: Path
) -> None:
    """Writes through both processes at once: the feed read from either is gap-free and in
    commit order, an Idempotency-Key is honoured across processes, and each process's
    SSE clients are woken by the other's commits."""
    from sqlalchemy import select

    from console.server.core.db import Database
    from console.server.core.tables import ChangeRow

    writer_token = create_token(pg_url, "dispatcher", "floor-writer")
    viewer_token = create_token(pg_url, "viewer", "floor-wall")
    with (
        ServeProcess(pg_url, tmp_path / "a.log") as first,
        ServeProcess(pg_url, tmp_path / "b.log") as second,
    ):
        servers = [first, second]
        viewer = {"Authorization": f"Bearer {viewer_token}"}
        errors: list[str] = []
        seen: list[dict[str, object]] = []
        done = threading.Event()

        def write(index: int) -> None:
            server = servers[index % 2]
            with server.client(writer_token) as client:
                for n in range(12):
                    created = client.post(
                        "/v1/incidents", json={**INCIDENT, "title": f"p{index % 2} w{index} {n}"}
                    )
                    if created.status_code != 201:
                        errors.append(created.text)
                        continue
                    note = client.post(
                        f"/v1/incidents/{created.json()['id']}/timeline",
                        json={"kind": "work_note", "body": "seen"},
                    )
                    if note.status_code != 201:
                        errors.append(note.text)

        def read() -> None:
            cursor = 0
            with httpx.Client(base_url=first.url, headers=viewer, timeout=30) as client:
                while True:
                    finishing = done.is_set()
                    page = client.get(f"/v1/changes?after={cursor}&limit=5").json()
                    seen.extend(page["changes"])
                    cursor = page["cursor"]
                    if finishing and not page["more"]:
                        return

        with SseReader(first.url, viewer) as on_a, SseReader(second.url, viewer) as on_b:
            assert on_a.next_event(timeout=5) is not None
            assert on_b.next_event(timeout=5) is not None
            reader = threading.Thread(target=read)
            reader.start()
            writers = [threading.Thread(target=write, args=(i,)) for i in range(8)]
            for thread in writers:
                thread.start()
            for thread in writers:
                thread.join(120)
            done.set()
            reader.join(60)
            assert not errors, errors[:3]

            # One key, sent to both processes at once: one incident.
            key = {"Idempotency-Key": "one-key-two-servers"}
            answers: list[httpx.Response] = []

            def send(server: ServeProcess) -> None:
                with server.client(writer_token) as client:
                    answers.append(client.post("/v1/incidents", json=INCIDENT, headers=key))

            senders = [threading.Thread(target=send, args=(s,)) for s in servers * 3]
            for thread in senders:
                thread.start()
            for thread in senders:
                thread.join(30)
            assert [r.status_code for r in answers] == [201] * 6
            assert len({r.json()["id"] for r in answers}) == 1

            # Each stream was woken by commits, up to the newest seq, whichever process wrote.
            db = Database(pg_url, pool_size=1)
            try:
                with db.read_session() as session:
                    committed = list(
                        session.scalars(select(ChangeRow.seq).order_by(ChangeRow.seq)).all()
                    )
            finally:
                db.dispose()
            for stream in (on_a, on_b):
                newest = 0
                while newest < committed[-1]:
                    event = stream.next_event(timeout=5)
                    assert event is not None, "a stream missed the other process's commits"
                    newest = int(event.id)

        seqs = [int(str(change["seq"])) for change in seen]
        assert seqs == sorted(set(seqs)), "the reader saw a seq twice or out of order"
        assert seqs == committed[: len(seqs)], "the reader skipped a committed change"
        assert len(seqs) == 8 * 12 * 2
        with second.client(writer_token) as client:
            assert client.get("/v1/incidents?limit=1").json()["total"] == 8 * 12 + 1
