"""The reference ticket server, measured against real ``python -m console serve`` processes.

- ``server.create_rps.{sqlite,pg}.c{1,4,16}``: ``POST /v1/incidents`` per second
  with a dispatcher token, from 1, 4 or 16 client threads (one
  ``requests.Session`` each), on a fresh database per figure.
- ``server.feed_changes_per_s`` (SQLite; ``.pg`` too when PostgreSQL is up):
  one client following ``GET /v1/changes?after=..&limit=1000`` from 0 to the
  end of a 100k-change log, decoding every page.
- ``server.sse_wake_p50_ms`` / ``_p99_ms`` (SQLite, one server): from just
  before a create is sent until a client on ``GET /v1/events`` receives the
  ``change`` event; ``.pg_two_servers`` is the same with the write sent to one
  server and the stream read from another on the same PostgreSQL database
  (the LISTEN/NOTIFY path).

Every server is a subprocess on 127.0.0.1 (port 0, the request log at its
default ``info`` level into a file); clients run in this process, on the same
cores. PostgreSQL figures use a schema of their own in the database at
``NOC_BENCH_PG_URL`` (default: the test database), dropped afterwards; when it
is unreachable they are skipped with a note.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx
import requests

from bench import fail, note, percentile, report

PG_URL = os.environ.get(
    "NOC_BENCH_PG_URL",
    os.environ.get("NOC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)

CONCURRENCY = (1, 4, 16)
CREATE_MAX = 300  # requests per figure ...
CREATE_WINDOW_S = 3.0  # ... or this long, whichever comes first
CREATE_ROUNDS = 3  # per figure, on one fresh database; the median is reported
CREATE_WARMUP = 10  # creates before the clock starts (imports, first connections)
FEED_CHANGES = 100_000
FEED_PAGE = 1000
SSE_WRITES = 200
SSE_EVENT_TIMEOUT_S = 5.0

INCIDENT = {
    "title": "Checkout returns 502 for some users",
    "service": "checkout",
    "impact": "high",
    "urgency": "medium",
    "description": "Reported by the service desk; see the monitoring alert.",
    "reporter": "service-desk",
    "source": "monitoring",
}

_LISTENING = re.compile(r"listening on (https?://\S+)")


# -- databases ------------------------------------------------------------


def pg_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers."""
    try:
        import psycopg

        with psycopg.connect(_libpq(PG_URL), connect_timeout=3):
            return None
    except Exception as exc:
        return f"PostgreSQL at {PG_URL} is not reachable ({exc})"


def _libpq(url: str) -> str:
    return url.replace("+psycopg", "")


@contextlib.contextmanager
def sqlite_database(folder: Path, name: str) -> Iterator[str]:
    """A fresh SQLite file in ``folder`` (removed with the folder)."""
    from console.server.settings import sqlite_url

    path = folder / f"{name}.db"
    yield sqlite_url(path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextlib.contextmanager
def pg_database(name: str) -> Iterator[str]:
    """A SQLAlchemy URL into a fresh schema of the bench PostgreSQL database; dropped after."""
    import psycopg

    schema = f"noc_bench_{name}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    plain = _libpq(PG_URL)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def issue_token(db_url: str, role: str, name: str) -> str:
    """Create an API token on the database (as ``noc-console token create`` does)."""
    from console.server import auth
    from console.server.db import Database

    db = Database(db_url, pool_size=1)
    try:
        with db.write_session() as session:
            secret, _row = auth.create_token(
                session=session, name=name, role=auth.Role.of(role), now=datetime.now(UTC)
            )
            session.commit()
    finally:
        db.dispose()
    return secret


def seed_changes(db_url: str, n: int) -> int:
    """Fill a fresh server database with ``n`` incidents and their ``n`` change-log rows.

    One incident is logged through the server's own service layer
    (``services.incidents.create_incident``, as ``POST /v1/incidents`` does);
    the other ``n - 1`` copy its row and its change-log entry (the incident's
    wire JSON) with a new id, number and title, inserted with one
    ``executemany`` per 10k rows through the server's SQLAlchemy tables, in
    one transaction. Run it before a server opens the database. Returns the
    newest seq.
    """
    from sqlalchemy import insert

    from console.domain.incident import format_number
    from console.domain.sla import SlaPolicy
    from console.server import changes
    from console.server.auth import Principal, Role
    from console.server.db import Database
    from console.server.services import incidents as service
    from console.server.tables import ChangeRow, IncidentRow
    from console.wire import IncidentCreate

    db = Database(db_url, pool_size=1)
    now = datetime.now(UTC)
    scope = service.WriteScope(
        principal=Principal(token_id="bench", name="bench-seed", role=Role.DISPATCHER),
        now=now,
        sla=SlaPolicy.default(),
        notify_channel=db.notify_channel if db.dialect == "postgresql" else None,
    )
    try:
        with db.write_session() as session:
            template = service.create_incident(
                session=session, body=IncidentCreate.model_validate(INCIDENT), scope=scope
            )
            row_values = {
                column.key: getattr(template, column.key)
                for column in IncidentRow.__table__.columns
            }
            wire = service.incident_wire(template).model_dump(mode="json")
            chunk = 10_000
            for start in range(2, n + 1, chunk):
                numbers = range(start, min(start + chunk, n + 1))
                incident_rows: list[dict[str, Any]] = []
                change_rows: list[dict[str, Any]] = []
                for number in numbers:
                    incident_id = str(uuid.UUID(int=number, version=4))
                    title = f"{INCIDENT['title']} (branch {number % 40})"
                    incident_rows.append(
                        {**row_values, "id": incident_id, "number": number, "title": title}
                    )
                    data = {
                        **wire,
                        "id": incident_id,
                        "number": format_number(number),
                        "title": title,
                    }
                    change_rows.append(
                        {
                            "kind": "incident",
                            "entity_id": incident_id,
                            "op": "upsert",
                            "data": json.dumps(data, separators=(",", ":")),
                            "written_at": now,
                        }
                    )
                session.execute(insert(IncidentRow), incident_rows)
                session.execute(insert(ChangeRow), change_rows)
            session.commit()
        with db.read_session() as session:
            return changes.latest_seq(session=session)
    finally:
        db.dispose()


# -- servers ----------------------------------------------------------------


class ServeProcess:
    """``python -m console serve --port 0 --db URL`` as a child process.

    ``url`` is known once it prints its address; leaving the ``with`` block
    stops it with SIGTERM (SIGKILL if it does not exit within 15 s). stderr,
    the request log, goes to ``log_path``.
    """

    def __init__(self, db_url: str, log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "console", "serve", "--port", "0", "--db", db_url],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self.url = ""

    def __enter__(self) -> ServeProcess:
        try:
            self._wait_listening(30.0)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_listening(self, timeout: float) -> None:
        lines: queue.Queue[str | None] = queue.Queue()

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                self._log.flush()
                tail = self.log_path.read_text()[-2000:]
                raise RuntimeError(f"serve did not start within {timeout:g} s; its log:\n{tail}")
            match = _LISTENING.search(line)
            if match:
                self.url = match.group(1)
                return

    def stop(self) -> None:
        """SIGTERM, then wait; SIGKILL if it hangs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


# -- creates ----------------------------------------------------------------


@dataclass
class CreateRun:
    """The outcome of one create-throughput measurement."""

    clients: int
    elapsed_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def created(self) -> int:
        return len(self.latencies_s)

    @property
    def rate(self) -> float:
        return self.created / self.elapsed_s if self.elapsed_s > 0 else 0.0


def _create_round(url: str, sessions: list[requests.Session]) -> CreateRun:
    """One timed round: every session creates until CREATE_MAX or CREATE_WINDOW_S in all."""
    run = CreateRun(len(sessions))
    tickets = itertools.count()
    lock = threading.Lock()
    start_gate = threading.Barrier(len(sessions) + 1)
    deadline = 0.0

    def client(session: requests.Session) -> None:
        mine: list[float] = []
        failed: dict[str, int] = {}
        start_gate.wait()
        while next(tickets) < CREATE_MAX and time.perf_counter() < deadline:
            sent = time.perf_counter()
            try:
                response = session.post(f"{url}/v1/incidents", json=INCIDENT, timeout=30)
                outcome = str(response.status_code)
            except requests.RequestException as exc:
                outcome = type(exc).__name__
            if outcome == "201":
                mine.append(time.perf_counter() - sent)
            else:
                failed[outcome] = failed.get(outcome, 0) + 1
        with lock:
            run.latencies_s.extend(mine)
            for outcome, count in failed.items():
                run.failures[outcome] = run.failures.get(outcome, 0) + count

    threads = [threading.Thread(target=client, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline = started + CREATE_WINDOW_S
    start_gate.wait()
    for thread in threads:
        thread.join()
    run.elapsed_s = time.perf_counter() - started
    return run


def measure_creates(url: str, token: str, clients: int) -> list[CreateRun]:
    """CREATE_ROUNDS timed rounds of creates from ``clients`` threads, after a warm-up."""
    sessions = [requests.Session() for _ in range(clients)]
    for session in sessions:
        session.headers["Authorization"] = f"Bearer {token}"
    try:
        # Warm-up (not timed): one create per connection, then a few more.
        for k in range(max(CREATE_WARMUP, clients)):
            response = sessions[k % clients].post(f"{url}/v1/incidents", json=INCIDENT, timeout=30)
            if response.status_code != 201:
                fail(f"warm-up create answered {response.status_code}: {response.text[:200]}")
        return [_create_round(url, sessions) for _ in range(CREATE_ROUNDS)]
    finally:
        for session in sessions:
            session.close()


def create_figures(
    folder: Path, backend: str, database: Callable[[str], contextlib.AbstractContextManager[str]]
) -> None:
    """The three create-throughput figures of one database kind (median of the rounds)."""
    for clients in CONCURRENCY:
        name = f"{backend}-c{clients}"
        with database(name) as db_url:
            token = issue_token(db_url, "dispatcher", f"bench-{name}")
            with ServeProcess(db_url, folder / f"serve-{name}.log") as server:
                runs = measure_creates(server.url, token, clients)
        created = sum(run.created for run in runs)
        failures: dict[str, int] = {}
        for run in runs:
            for outcome, count in run.failures.items():
                failures[outcome] = failures.get(outcome, 0) + count
        if not created:
            fail(f"no create succeeded with {clients} clients on {backend}: {failures}")
        rates = [run.rate for run in runs]
        lat = [s * 1000 for run in runs for s in run.latencies_s]
        note(
            f"{backend} c{clients}: {created} creates in {len(runs)} rounds, "
            f"{min(rates):.0f}–{max(rates):.0f}/s; latency p50 {percentile(lat, 50):.1f} ms, "
            f"p99 {percentile(lat, 99):.1f} ms" + (f"; failures {failures}" if failures else "")
        )
        report(f"server.create_rps.{backend}.c{clients}", statistics.median(rates), "creates/s")


# -- the change feed ----------------------------------------------------------


def read_feed(url: str, token: str, expected: int) -> tuple[int, float, int]:
    """Follow the feed from 0 to its end: (changes read, seconds, bytes received)."""
    count = 0
    received = 0
    cursor = 0
    last_seq = 0
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        started = time.perf_counter()
        while True:
            response = session.get(
                f"{url}/v1/changes",
                params={"after": cursor, "limit": FEED_PAGE},
                timeout=60,
            )
            if response.status_code != 200:
                fail(f"GET /v1/changes answered {response.status_code}: {response.text[:200]}")
            received += len(response.content)
            page = response.json()
            for change in page["changes"]:
                if change["seq"] <= last_seq:
                    fail(f"the feed went backwards: {change['seq']} after {last_seq}")
                last_seq = change["seq"]
            count += len(page["changes"])
            cursor = page["cursor"]
            if not page["more"]:
                break
        elapsed = time.perf_counter() - started
    if count != expected:
        fail(f"read {count} changes from the feed, expected {expected}")
    return count, elapsed, received


def feed_figure(
    folder: Path,
    backend: str,
    database: Callable[[str], contextlib.AbstractContextManager[str]],
    metric: str,
) -> None:
    """Seed FEED_CHANGES changes, then time one client reading them all."""
    with database(f"{backend}-feed") as db_url:
        started = time.perf_counter()
        newest = seed_changes(db_url, FEED_CHANGES)
        note(
            f"{backend} feed: seeded {FEED_CHANGES} incidents + change-log rows "
            f"(newest seq {newest}) in {time.perf_counter() - started:.1f} s"
        )
        token = issue_token(db_url, "viewer", f"bench-{backend}-feed")
        with ServeProcess(db_url, folder / f"serve-{backend}-feed.log") as server:
            count, elapsed, received = read_feed(server.url, token, FEED_CHANGES)
    note(
        f"{backend} feed: {count} changes in {count // FEED_PAGE} pages of {FEED_PAGE}, "
        f"{received / 1e6:.0f} MB, {elapsed:.2f} s, one client decoding every page"
    )
    report(metric, count / elapsed, "changes/s")


# -- SSE wake-up --------------------------------------------------------------


class EventReader:
    """``GET /v1/events`` read on a thread; each ``change`` event queued as (seq, arrival)."""

    def __init__(self, url: str, token: str) -> None:
        self._url = f"{url}/v1/events"
        self._headers = {"Authorization": f"Bearer {token}"}
        self.events: queue.Queue[tuple[int, float]] = queue.Queue()
        self._client = httpx.Client(timeout=httpx.Timeout(30, read=60))
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sse", daemon=True)

    def __enter__(self) -> EventReader:
        self._thread.start()
        if not self._opened.wait(10):
            fail("the SSE stream did not open within 10 s")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._client.close()
        self._thread.join(5)

    def _run(self) -> None:
        seq: int | None = None
        try:
            with self._client.stream("GET", self._url, headers=self._headers) as response:
                self._opened.set()
                if response.status_code != 200:
                    return
                for line in response.iter_lines():
                    if line.startswith("id:"):
                        seq = int(line[3:].strip())
                    elif line == "" and seq is not None:
                        self.events.put((seq, time.perf_counter()))
                        seq = None
        except (httpx.HTTPError, RuntimeError):
            pass  # closed by __exit__, or the server went away
        finally:
            self._opened.set()

    def next_event(self, timeout: float) -> tuple[int, float] | None:
        """The next (seq, arrival time), or None if none comes within ``timeout``."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None


def measure_wakes(
    write_url: str, events_url: str, writer: str, viewer: str
) -> dict[str, list[float]]:
    """SSE_WRITES creates, one at a time; each waits for its event before the next.

    Returns milliseconds from just before the POST is sent (``from_send``) and
    from its 201 having been read (``from_201``, negative when the event came
    first) until the event arrived.
    """
    from_send: list[float] = []
    from_201: list[float] = []
    with (
        EventReader(events_url, viewer) as reader,
        requests.Session() as session,
    ):
        session.headers["Authorization"] = f"Bearer {writer}"
        first = reader.next_event(SSE_EVENT_TIMEOUT_S)  # the "you are behind" event
        if first is None:
            fail("the SSE stream sent no first event")
            return {}
        newest = first[0]
        for k in range(SSE_WRITES + 5):
            time.sleep(0.005)  # let the previous response and event settle
            sent = time.perf_counter()
            response = session.post(f"{write_url}/v1/incidents", json=INCIDENT, timeout=30)
            answered = time.perf_counter()
            if response.status_code != 201:
                fail(f"create answered {response.status_code}: {response.text[:200]}")
            event = reader.next_event(SSE_EVENT_TIMEOUT_S)
            if event is None:
                fail(f"no SSE event within {SSE_EVENT_TIMEOUT_S:g} s of write {k}")
                return {}
            seq, arrived = event
            if seq <= newest:
                fail(f"the SSE stream repeated seq {seq} (newest was {newest})")
            newest = seq
            if k >= 5:  # the first few warm the connections up
                from_send.append((arrived - sent) * 1000)
                from_201.append((arrived - answered) * 1000)
    return {"from_send": from_send, "from_201": from_201}


def report_wakes(label: str, wakes: dict[str, list[float]], suffix: str) -> None:
    """Note the distribution and report p50 and p99 from the send time."""
    send, answered = wakes["from_send"], wakes["from_201"]
    early = sum(1 for v in answered if v < 0)
    note(
        f"{label}: {len(send)} creates one at a time; from just before the POST: "
        f"p50 {percentile(send, 50):.2f} ms, p99 {percentile(send, 99):.2f} ms, "
        f"max {max(send):.2f} ms; from the 201 read: p50 {percentile(answered, 50):.2f} ms, "
        f"p99 {percentile(answered, 99):.2f} ms ({early} events arrived before their 201)"
    )
    report(f"server.sse_wake_p50_ms{suffix}", percentile(send, 50), "ms")
    report(f"server.sse_wake_p99_ms{suffix}", percentile(send, 99), "ms")


# -- run ----------------------------------------------------------------------


def run() -> None:
    """Print every figure (the PostgreSQL ones only when PostgreSQL answers)."""
    note(
        f"server: real `python -m console serve` subprocesses on 127.0.0.1, request log at "
        f"info into a file; clients in this process; {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.2f} at the start"
    )
    problem = pg_problem()
    with tempfile.TemporaryDirectory(prefix="noc-bench-server-") as tmp:
        folder = Path(tmp)

        def sqlite(name: str) -> contextlib.AbstractContextManager[str]:
            return sqlite_database(folder, name)

        note(
            f"creates: POST /v1/incidents with a dispatcher token; per figure a fresh database "
            f"and server, {CREATE_WARMUP} untimed warm-up creates, then {CREATE_ROUNDS} rounds "
            f"of {CREATE_MAX} requests or {CREATE_WINDOW_S:g} s (whichever first), the median "
            "round reported; N client threads with a requests.Session each"
        )
        note("sqlite: a new file per figure (WAL, synchronous=FULL)")
        create_figures(folder, "sqlite", sqlite)
        if problem is None:
            note(f"pg: a new schema per figure in {PG_URL.split('@')[-1]}, dropped after")
            create_figures(folder, "pg", pg_database)
        else:
            note(f"skipping the PostgreSQL figures: {problem}")

        note(
            f"feed: GET /v1/changes?after=<cursor>&limit={FEED_PAGE} from 0 to the end of "
            f"{FEED_CHANGES} changes (incident upserts, ~0.8 KB of JSON each), one client"
        )
        feed_figure(folder, "sqlite", sqlite, "server.feed_changes_per_s")
        if problem is None:
            feed_figure(folder, "pg", pg_database, "server.feed_changes_per_s.pg")

        note(
            f"sse wake: {SSE_WRITES} creates one at a time (5 ms apart, after 5 untimed), "
            "each waiting for its `change` event on GET /v1/events before the next; figures "
            "are from just before the POST is sent (the create's own time included)"
        )
        with sqlite_database(folder, "sse") as db_url:
            writer = issue_token(db_url, "dispatcher", "bench-sse-writer")
            viewer = issue_token(db_url, "viewer", "bench-sse-viewer")
            with ServeProcess(db_url, folder / "serve-sse.log") as server:
                wakes = measure_wakes(server.url, server.url, writer, viewer)
        report_wakes("sqlite, writer and stream on one server", wakes, "")
        if problem is None:
            with pg_database("sse") as db_url:
                writer = issue_token(db_url, "dispatcher", "bench-sse-writer")
                viewer = issue_token(db_url, "viewer", "bench-sse-viewer")
                with (
                    ServeProcess(db_url, folder / "serve-sse-a.log") as a,
                    ServeProcess(db_url, folder / "serve-sse-b.log") as b,
                ):
                    wakes = measure_wakes(a.url, b.url, writer, viewer)
            report_wakes(
                "pg, write to server A, stream from server B (LISTEN/NOTIFY)",
                wakes,
                ".pg_two_servers",
            )
