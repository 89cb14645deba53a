"""The change-feed invariant, checked against any running server (SQLite or PostgreSQL).

A reader follows ``/v1/changes`` from 0 in small pages while 8 (or 16) writer
threads commit concurrently, so the group writer commits them in batches;
afterwards the reader's entries must be exactly the committed change log:
every seq once, in increasing order, none skipped.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from sqlalchemy import select

from console.server.core.tables import ChangeRow
from tests.helpers.servers import INCIDENT, Api

WRITERS = 8


def _writer(api: Api, index: int, rounds: int, acked: dict[str, Any], errors: list[str]) -> None:
    headers = api.auth("dispatcher")
    with httpx.Client(base_url=api.url, headers=headers, timeout=60) as client:
        for n in range(rounds):
            created = client.post(
                "/v1/incidents", json={**INCIDENT, "title": f"writer {index} incident {n}"}
            )
            if created.status_code != 201:
                errors.append(f"create {created.status_code}: {created.text}")
                continue
            incident = created.json()
            acked["incidents"].append(incident["id"])
            patched = client.patch(
                f"/v1/incidents/{incident['id']}",
                json={"state": "in_progress", "assignee": f"writer-{index}"},
                headers={"If-Match": '"1"'},
            )
            if patched.status_code != 200:
                errors.append(f"patch {patched.status_code}: {patched.text}")
                continue
            acked["patches"].append(incident["id"])
            note = client.post(
                f"/v1/incidents/{incident['id']}/timeline",
                json={"kind": "work_note", "body": f"note {index}/{n}"},
            )
            if note.status_code != 201:
                errors.append(f"note {note.status_code}: {note.text}")
                continue
            acked["notes"].append(note.json()["id"])


def check_feed_invariant(
    api: Api, rounds: int = 15, writers: int = WRITERS
) -> list[dict[str, Any]]:
    """Run the writers and a concurrent reader; assert the invariant; return the entries."""
    acked: dict[str, Any] = {"incidents": [], "patches": [], "notes": []}
    errors: list[str] = []
    seen: list[dict[str, Any]] = []
    writers_done = threading.Event()
    reader_error: list[BaseException] = []

    def read() -> None:
        cursor = 0
        headers = api.auth("viewer")
        try:
            with httpx.Client(base_url=api.url, headers=headers, timeout=60) as client:
                while True:
                    finishing = writers_done.is_set()
                    page = client.get(f"/v1/changes?after={cursor}&limit=7").json()
                    seen.extend(page["changes"])
                    cursor = page["cursor"]
                    if finishing and not page["more"]:
                        return
                    if not page["changes"]:
                        time.sleep(0.005)
        except BaseException as exc:  # surfaced in the main thread below
            reader_error.append(exc)

    reader = threading.Thread(target=read, name="feed-reader")
    reader.start()
    threads = [
        threading.Thread(target=_writer, args=(api, i, rounds, acked, errors), name=f"writer-{i}")
        for i in range(writers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    writers_done.set()
    reader.join(timeout=60)
    assert not reader.is_alive(), "the feed reader did not finish"
    assert not reader_error, reader_error
    assert not errors, errors[:5]

    seqs = [entry["seq"] for entry in seen]
    assert seqs == sorted(set(seqs)), "the reader saw a seq twice or out of order"
    with api.server.app.state.context.db.read_session() as session:
        committed = list(session.scalars(select(ChangeRow.seq).order_by(ChangeRow.seq)).all())
    assert seqs == committed, "the reader skipped a committed change"

    # Every acknowledged write is in the feed.
    incident_ids = {e["id"] for e in seen if e["kind"] == "incident"}
    assert set(acked["incidents"]) <= incident_ids
    note_ids = {e["id"] for e in seen if e["kind"] == "timeline"}
    assert set(acked["notes"]) <= note_ids
    expected = writers * rounds
    assert len(acked["incidents"]) == len(acked["patches"]) == len(acked["notes"]) == expected
    numbers = sorted(
        e["data"]["number"] for e in seen if e["kind"] == "incident" and e["data"]["version"] == 1
    )
    assert numbers == [f"INC-{n:06d}" for n in range(1, expected + 1)]
    return seen
