"""Group commit: concurrent writes share a transaction, and each still stands or fails alone.

The unit tests drive ``GroupWriter`` on a real SQLite file (and PostgreSQL);
the others send real HTTP requests to a server on loopback while the writer is
held on a gate, so the requests are certain to land in one batch.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from console.server.core import auth
from console.server.core.db import Database
from console.server.core.errors import ApiError
from console.server.core.settings import sqlite_url
from console.server.core.tables import MetaRow
from console.server.core.writer import GroupWriter
from tests.helpers.servers import INCIDENT, Api, ApiFactory
from tests.helpers.writer import _send_all, held


def _insert_meta(key: str) -> Callable[[Session], str]:
    def work(session: Session) -> str:
        session.connection().execute(insert(MetaRow.__table__), {"key": key, "value": "x"})
        return key

    return work


def _failing_after_a_write(key: str) -> Callable[[Session], str]:
    def work(session: Session) -> str:
        session.connection().execute(insert(MetaRow.__table__), {"key": key, "value": "x"})
        raise ApiError(409, "conflict", "refused after writing")

    return work


def _stored_keys(db: Database) -> set[str]:
    with db.read_session() as session:
        return set(session.scalars(select(MetaRow.key)).all())


def _run_together(writer: GroupWriter, jobs: list[Callable[[Session], Any]]) -> list[Any]:
    async def main() -> list[Any]:
        pending = (writer.run(job) for job in jobs)
        return list(await asyncio.gather(*pending, return_exceptions=True))

    with held(writer) as release:
        results: list[Any] = []
        thread = threading.Thread(target=lambda: results.extend(asyncio.run(main())))
        thread.start()
        deadline = time.monotonic() + 10
        while len(writer._pending) < len(jobs) and time.monotonic() < deadline:
            time.sleep(0.01)
        release()
        thread.join(20)
    return results


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = (
        sqlite_url(tmp_path / "writer.db")
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    db = Database(url)
    yield db
    db.dispose()


def test_a_failing_request_in_a_batch_fails_alone(database: Database) -> None:
    writer = GroupWriter(database)
    jobs = [
        _insert_meta("good-1"),
        _failing_after_a_write("refused-after-write"),
        _insert_meta("good-2"),
        _insert_meta("good-1"),  # a primary-key violation: an IntegrityError at the database
        _insert_meta("good-3"),
    ]
    try:
        results = _run_together(writer, jobs)
        assert writer.stats.sizes[-1] == len(jobs), "the jobs were not in one transaction"
    finally:
        writer.stop()
    assert [results[0], results[2], results[4]] == ["good-1", "good-2", "good-3"]
    assert isinstance(results[1], ApiError)
    assert results[1].status == 409
    assert isinstance(results[3], IntegrityError)
    stored = _stored_keys(database)
    assert {"good-1", "good-2", "good-3"} <= stored
    assert "refused-after-write" not in stored  # its own write was rolled back with it


def test_a_request_is_answered_only_after_its_commit(database: Database) -> None:
    """The answer waits for COMMIT to return (the fsync), and the row is then visible."""
    commits: list[float] = []

    def slow_commit(_conn: Any) -> None:
        time.sleep(0.3)
        commits.append(time.monotonic())

    event.listen(database.engine, "commit", slow_commit)
    writer = GroupWriter(database)
    try:
        answered = asyncio.run(_timed(writer.run(_insert_meta("durable"))))
    finally:
        writer.stop()
        event.remove(database.engine, "commit", slow_commit)
    assert commits
    assert answered >= commits[-1]
    assert "durable" in _stored_keys(database)


async def _timed(awaitable: Any) -> float:
    await awaitable
    return time.monotonic()


def test_the_writer_commits_with_full_durability(database: Database) -> None:
    writer = GroupWriter(database)

    def settings(session: Session) -> list[str]:
        if database.dialect == "sqlite":
            # 2 = FULL: the WAL is fsynced at every commit.
            return [str(session.execute(text("PRAGMA synchronous")).scalar_one())]
        return [
            str(session.execute(text(f"SHOW {name}")).scalar_one())
            for name in ("synchronous_commit", "fsync")
        ]

    try:
        found = asyncio.run(writer.run(settings))
    finally:
        writer.stop()
    assert found == (["2"] if database.dialect == "sqlite" else ["on", "on"])


# -- over HTTP, against the fast path ------------------------------------------


def test_bad_requests_in_a_batch_fail_alone_over_http(api: Api) -> None:
    incident = api.create()
    resolved = api.create()
    moved = api.patch(resolved, state="in_progress")
    assert moved.status_code == 200
    resolved = moved.json()
    dispatcher = api.auth("dispatcher")
    reused = {**dispatcher, "Idempotency-Key": "reused-key"}
    first = api.request("POST", "/v1/incidents", role=None, json=INCIDENT, headers=reused)
    assert first.status_code == 201
    stale = {**dispatcher, "If-Match": '"99"'}
    requests = [
        ("POST", "/v1/incidents", {**INCIDENT, "title": "good 1"}, dispatcher),
        ("PATCH", f"/v1/incidents/{incident['id']}", {"title": "stale"}, stale),  # 412
        ("POST", "/v1/incidents", {**INCIDENT, "title": "good 2"}, dispatcher),
        # 409: an illegal move (in progress → closed skips resolved)
        (
            "PATCH",
            f"/v1/incidents/{resolved['id']}",
            {"state": "closed"},
            {**dispatcher, "If-Match": f'"{resolved["version"]}"'},
        ),
        ("POST", "/v1/incidents", {**INCIDENT, "title": "different body"}, reused),  # 409
        (
            "POST",
            f"/v1/incidents/{uuid.uuid4()}/timeline",
            {"kind": "work_note", "body": "x"},
            dispatcher,
        ),  # 404
        (
            "POST",
            f"/v1/incidents/{incident['id']}/timeline",
            {"kind": "work_note", "body": "ok"},
            dispatcher,
        ),
        ("POST", "/v1/incidents", {**INCIDENT, "title": "good 3"}, dispatcher),
    ]
    responses = _send_all(api, requests)
    statuses = [r.status_code for r in responses]
    assert statuses == [201, 412, 201, 409, 409, 404, 201, 201], [r.text for r in responses]
    changes = api.all_changes()
    titles = [c["data"]["title"] for c in changes if c["kind"] == "incident"]
    assert {"good 1", "good 2", "good 3"} <= set(titles)
    assert "stale" not in titles
    assert "different body" not in titles
    firsts = [c["data"] for c in changes if c["kind"] == "incident" and c["data"]["version"] == 1]
    numbers = sorted(data["number"] for data in firsts)
    assert numbers == [f"INC-{n:06d}" for n in range(1, len(numbers) + 1)], "a number was skipped"


def test_an_idempotent_resend_in_the_same_batch_gets_the_first_answer(api: Api) -> None:
    dispatcher = api.auth("dispatcher")
    keyed = {**dispatcher, "Idempotency-Key": f"resend-{uuid.uuid4()}"}
    requests = [("POST", "/v1/incidents", {**INCIDENT, "title": "once"}, keyed)] * 6 + [
        ("POST", "/v1/incidents", {**INCIDENT, "title": f"other {n}"}, dispatcher) for n in range(4)
    ]
    responses = _send_all(api, requests)
    keyed_responses = responses[:6]
    assert [r.status_code for r in responses] == [201] * 10
    assert len({r.json()["id"] for r in keyed_responses}) == 1
    assert len({r.text for r in keyed_responses}) == 1  # the same body, byte for byte
    replayed = [r.headers.get("Idempotent-Replayed") for r in keyed_responses]
    assert replayed.count("true") == 5
    titles = [c["data"]["title"] for c in api.all_changes() if c["kind"] == "incident"]
    assert titles.count("once") == 1


def test_keys_of_earlier_batches_replay_from_the_batch_lookup(api: Api) -> None:
    """A batch's keys are looked up with one query: a key committed before replays its
    first answer, a new key writes once, and a key whose request failed stays free."""
    dispatcher = api.auth("dispatcher")
    earlier = {**dispatcher, "Idempotency-Key": f"earlier-{uuid.uuid4()}"}
    first = api.request("POST", "/v1/incidents", role=None, json=INCIDENT, headers=earlier)
    assert first.status_code == 201
    incident = api.create()
    failed_key = f"failed-{uuid.uuid4()}"
    stale = {**dispatcher, "Idempotency-Key": failed_key, "If-Match": '"99"'}
    fresh = {**dispatcher, "Idempotency-Key": f"fresh-{uuid.uuid4()}"}
    requests = [
        ("POST", "/v1/incidents", INCIDENT, earlier),  # replayed from the earlier batch
        ("PATCH", f"/v1/incidents/{incident['id']}", {"title": "retitled"}, stale),  # 412
        ("POST", "/v1/incidents", {**INCIDENT, "title": "fresh"}, fresh),
        ("POST", "/v1/incidents", {**INCIDENT, "title": "fresh"}, fresh),  # replayed
    ]
    responses = _send_all(api, requests)
    assert [r.status_code for r in responses] == [201, 412, 201, 201]
    assert responses[0].headers.get("Idempotent-Replayed") == "true"
    assert responses[0].json()["id"] == first.json()["id"]
    # The two sends of the fresh key race each other: whichever the server takes
    # first writes, the other replays its answer byte for byte.
    replayed = [responses[n].headers.get("Idempotent-Replayed") for n in (2, 3)]
    assert sorted(replayed, key=str) == [None, "true"]
    assert responses[3].text == responses[2].text
    # The failed request stored nothing under its key: sent again with the right
    # version, it writes.
    retry = {**stale, "If-Match": f'"{incident["version"]}"'}
    again = api.request(
        "PATCH",
        f"/v1/incidents/{incident['id']}",
        role=None,
        json={"title": "retitled"},
        headers=retry,
    )
    assert again.status_code == 200, again.text
    assert again.headers.get("Idempotent-Replayed") is None
    # After the commit the stored keys answer from the database.
    later = api.request(
        "POST", "/v1/incidents", role=None, json={**INCIDENT, "title": "fresh"}, headers=fresh
    )
    assert later.headers.get("Idempotent-Replayed") == "true"
    assert later.text == responses[2].text
    titles = [c["data"]["title"] for c in api.all_changes() if c["kind"] == "incident"]
    assert titles.count("fresh") == 1


def test_roles_are_checked_in_the_batch_as_before(api: Api) -> None:
    incident = api.create()
    requests = [
        ("POST", "/v1/incidents", INCIDENT, api.auth("viewer")),  # 403
        (
            "POST",
            "/v1/incidents",
            {**INCIDENT, "severity": "SEV-1", "severity_reason": "x"},
            api.auth("dispatcher"),
        ),  # 403: an override needs a commander
        (
            "POST",
            f"/v1/incidents/{incident['id']}/engage",
            {"tiers": [1], "reason": "x"},
            api.auth("dispatcher"),
        ),  # 403: engaging needs a commander
        ("POST", "/v1/incidents", INCIDENT, {"Authorization": "Bearer noc_unknown"}),  # 401
        ("POST", "/v1/incidents", INCIDENT, api.auth("dispatcher")),
    ]
    writer = api.server.app.state.context.writer
    statuses = []
    for method, path, body, headers in requests:
        statuses.append(api.client.request(method, path, json=body, headers=headers).status_code)
    assert statuses == [403, 403, 403, 401, 201]
    assert writer.stats.failed_requests == 0  # refused before they reached the writer


def test_a_token_revoked_after_the_early_check_writes_nothing(api: Api) -> None:
    """The early check may use a token seen a moment ago; the write re-reads it."""
    api.create()  # the dispatcher's token is now in the early-check cache
    context = api.server.app.state.context
    with context.db.write_session() as session:
        found = auth.authenticate(session=session, secret=api.tokens["dispatcher"])
        assert found is not None
        auth.revoke_token(session=session, name_or_id=found.name, now=datetime.now(UTC))
        session.commit()
    refused = api.request("POST", "/v1/incidents", role="dispatcher", json=INCIDENT)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_token"
    assert api.request("GET", "/v1/incidents", role="viewer").json()["total"] == 1


def test_writes_share_transactions_under_load(api_factory: ApiFactory) -> None:
    api = api_factory()
    writer = api.server.app.state.context.writer

    def write(index: int) -> None:
        with httpx.Client(base_url=api.url, headers=api.auth("dispatcher"), timeout=30) as c:
            for n in range(10):
                created = c.post("/v1/incidents", json={**INCIDENT, "title": f"{index}/{n}"})
                assert created.is_success

    threads = [threading.Thread(target=write, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert writer.stats.requests == 120
    assert writer.stats.batches < 120


def test_a_stopped_writer_refuses_new_writes(database: Database) -> None:
    """On shutdown the queued writes finish and later ones are refused (a 503 to the client)."""
    from console.server.core.writer import WriterStopped

    writer = GroupWriter(database)
    assert asyncio.run(writer.run(_insert_meta("before-stop"))) == "before-stop"
    writer.stop()
    with pytest.raises(WriterStopped):
        asyncio.run(writer.run(_insert_meta("after-stop")))
    assert "after-stop" not in _stored_keys(database)
