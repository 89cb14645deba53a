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

import argparse
import contextlib
import http.client
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
from urllib.parse import quote, urlsplit

import httpx
import requests

from bench import fail, note, percentile, report

PG_URL = os.environ.get(
    "NOC_BENCH_PG_URL",
    os.environ.get("NOC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)

CONCURRENCY = (1, 4, 16)
LOAD_MAX = 2000  # requests per round ...
LOAD_WINDOW_S = 3.0  # ... or this long, whichever comes first
LOAD_ROUNDS = 3  # per figure, on one fresh database; the median is reported
LOAD_WARMUP = 20  # requests before the clock starts (imports, first connections)
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

# What engage needs: a policy for the incidents' service, and who its tier pages.
REFERENCE: list[tuple[str, dict[str, Any]]] = [
    ("/v1/teams/service-desk", {"name": "Service Desk", "tier": "L1"}),
    (
        "/v1/contacts/ana",
        {
            "name": "Ana Ruiz",
            "role": "Service desk analyst",
            "team": "service-desk",
            "primary_phone": "+34 612 34 56 78",
            "time_zone": "Europe/Madrid",
        },
    ),
    ("/v1/services/checkout", {"name": "Checkout", "owner_team": "service-desk"}),
    (
        "/v1/policies/checkout",
        {
            "service": "checkout",
            "tiers": [
                {
                    "level": 1,
                    "name": "L1 Service Desk",
                    "team": "service-desk",
                    "contact_id": "ana",
                    "engage_after_minutes": 0,
                }
            ],
        },
    ),
]

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
    from console.server.core.settings import sqlite_url

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
    from console.server.core import auth
    from console.server.core.db import Database

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
    from console.server.core import changes
    from console.server.core.auth import Principal, Role
    from console.server.core.db import Database
    from console.server.core.tables import ChangeRow, IncidentRow
    from console.server.services import incidents as service
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


NO_LIMITS = ("--rate-per-token", "0", "--rate-per-address", "0", "--rate-per-intake-token", "0")
"""The guard's rate limits off: the bench's clients share one token and one address, and
the figures are the server's, not the limiter's (300/s per token by default)."""


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
            [sys.executable, "-m", "console", "serve", "--port", "0", "--db", db_url, *NO_LIMITS],
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


# -- write load -------------------------------------------------------------


@dataclass
class LoadRun:
    """The outcome of one timed round of writes."""

    clients: int
    elapsed_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    server_cpu_s: float | None = None

    @property
    def done(self) -> int:
        return len(self.latencies_s)

    @property
    def rate(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0


# (method, path, JSON body, extra headers) of the n-th request of a client.
RequestMaker = Callable[[int, int], tuple[str, str, Any, dict[str, str]]]


class _Connection:
    """One keep-alive HTTP/1.1 connection (http.client: far less client CPU than requests,
    which matters when the clients share the server's two cores)."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        parts = urlsplit(base)
        self._prefix = parts.path.rstrip("/")
        self._headers = {"Content-Type": "application/json", **headers}
        secure = parts.scheme == "https"
        conn_type = http.client.HTTPSConnection if secure else http.client.HTTPConnection
        self._conn = conn_type(parts.hostname or "127.0.0.1", parts.port, timeout=60)

    def send(self, method: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, bytes]:
        data = json.dumps(body).encode()
        self._conn.request(method, self._prefix + path, data, {**self._headers, **headers})
        response = self._conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self._conn.close()


def _process_cpu_s(pid: int | None) -> float | None:
    """User + system CPU seconds of a local process so far (None when unknown)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load_round(
    connections: list[_Connection], make: RequestMaker, expect: int, pid: int | None
) -> LoadRun:
    """One timed round: every connection sends until LOAD_MAX requests or LOAD_WINDOW_S in all."""
    run = LoadRun(len(connections))
    tickets = itertools.count()
    lock = threading.Lock()
    start_gate = threading.Barrier(len(connections) + 1)
    deadline = 0.0

    def client(index: int, conn: _Connection) -> None:
        mine: list[float] = []
        failed: dict[str, int] = {}
        start_gate.wait()
        while (n := next(tickets)) < LOAD_MAX and time.perf_counter() < deadline:
            method, path, body, headers = make(index, n)
            sent = time.perf_counter()
            try:
                status, _body = conn.send(method, path, body, headers)
                outcome = str(status)
            except (OSError, http.client.HTTPException) as exc:
                outcome = type(exc).__name__
            if outcome == str(expect):
                mine.append(time.perf_counter() - sent)
            else:
                failed[outcome] = failed.get(outcome, 0) + 1
        with lock:
            run.latencies_s.extend(mine)
            for outcome, count in failed.items():
                run.failures[outcome] = run.failures.get(outcome, 0) + count

    threads = [threading.Thread(target=client, args=(i, c)) for i, c in enumerate(connections)]
    for thread in threads:
        thread.start()
    cpu_before = _process_cpu_s(pid)
    started = time.perf_counter()
    deadline = started + LOAD_WINDOW_S
    start_gate.wait()
    for thread in threads:
        thread.join()
    run.elapsed_s = time.perf_counter() - started
    cpu_after = _process_cpu_s(pid)
    if cpu_before is not None and cpu_after is not None:
        run.server_cpu_s = cpu_after - cpu_before
    return run


def measure_load(
    url: str,
    auth: dict[str, str],
    clients: int,
    make: RequestMaker,
    *,
    expect: int,
    pid: int | None = None,
    rounds: int = LOAD_ROUNDS,
) -> list[LoadRun]:
    """``rounds`` timed rounds from ``clients`` threads (one connection each), after a warm-up."""
    connections = [_Connection(url, auth) for _ in range(clients)]
    try:
        for k in range(max(LOAD_WARMUP, clients)):
            method, path, body, headers = make(k % clients, -1 - k)
            status, text = connections[k % clients].send(method, path, body, headers)
            if status != expect:
                fail(f"warm-up {method} {path} answered {status}: {text[:200]!r}")
        return [_load_round(connections, make, expect, pid) for _ in range(rounds)]
    finally:
        for conn in connections:
            conn.close()


@dataclass
class Figure:
    """The median round of one workload at one concurrency, as reported."""

    rate: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float | None


def summarise(label: str, runs: list[LoadRun], unit: str) -> Figure:
    """Note the rounds' spread and return the median rate with the pooled latencies."""
    done = sum(run.done for run in runs)
    failures: dict[str, int] = {}
    for run in runs:
        for outcome, count in run.failures.items():
            failures[outcome] = failures.get(outcome, 0) + count
    if not done:
        fail(f"no request succeeded for {label}: {failures}")
    rates = [run.rate for run in runs]
    lat = [s * 1000 for run in runs for s in run.latencies_s]
    cpu = [run.server_cpu_s for run in runs if run.server_cpu_s is not None]
    cpu_ms = 1000 * sum(cpu) / done if len(cpu) == len(runs) else None
    figure = Figure(statistics.median(rates), percentile(lat, 50), percentile(lat, 99), cpu_ms)
    note(
        f"{label}: {done} {unit} in {len(runs)} rounds, {min(rates):.0f}–{max(rates):.0f}/s; "
        f"latency p50 {figure.p50_ms:.1f} ms, p99 {figure.p99_ms:.1f} ms"
        + (f"; server CPU {cpu_ms:.2f} ms per request" if cpu_ms is not None else "")
        + (f"; failures {failures}" if failures else "")
        + f"; load average {os.getloadavg()[0]:.2f}"
    )
    return figure


def report_figure(metric: str, figure: Figure, unit: str) -> None:
    report(metric, figure.rate, unit)
    report(f"{metric}.p50_ms", figure.p50_ms, "ms")
    report(f"{metric}.p99_ms", figure.p99_ms, "ms")
    if figure.cpu_ms is not None:
        report(f"{metric}.server_cpu_ms", figure.cpu_ms, "ms")


def _keyed_create(tag: str) -> RequestMaker:
    """A create with its own Idempotency-Key, as the console's sync engine sends them."""

    def make(client: int, n: int) -> tuple[str, str, Any, dict[str, str]]:
        return "POST", "/v1/incidents", INCIDENT, {"Idempotency-Key": f"{tag}-{client}-{n}"}

    return make


def create_figures(
    folder: Path,
    backend: str,
    database: Callable[[str], contextlib.AbstractContextManager[str]],
) -> dict[int, Figure]:
    """Create throughput and latency at each concurrency, a fresh database and server each."""
    figures: dict[int, Figure] = {}
    for clients in CONCURRENCY:
        name = f"{backend}-c{clients}"
        with database(name) as db_url:
            token = issue_token(db_url, "dispatcher", f"bench-{name}")
            with ServeProcess(db_url, folder / f"serve-{name}.log") as server:
                runs = measure_load(
                    server.url,
                    {"Authorization": f"Bearer {token}"},
                    clients,
                    _keyed_create(name),
                    expect=201,
                    pid=server.proc.pid,
                )
        figure = summarise(f"{backend} creates c{clients}", runs, "creates")
        report_figure(f"server.create_rps.{backend}.c{clients}", figure, "creates/s")
        figures[clients] = figure
    return figures


def other_write_figures(
    folder: Path,
    backend: str,
    database: Callable[[str], contextlib.AbstractContextManager[str]],
) -> None:
    """PATCH, timeline POST and engage at 16 clients, on incidents made beforehand."""
    clients = 16
    with database(f"{backend}-writes") as db_url:
        token = issue_token(db_url, "commander", f"bench-{backend}-writes")
        admin = issue_token(db_url, "admin", f"bench-{backend}-admin")
        auth = {"Authorization": f"Bearer {token}"}
        with ServeProcess(db_url, folder / f"serve-{backend}-writes.log") as server:
            with requests.Session() as session:
                session.headers["Authorization"] = f"Bearer {admin}"
                for path, item in REFERENCE:
                    put = session.put(f"{server.url}{path}", json=item, timeout=30)
                    if put.status_code not in (200, 201):
                        fail(f"PUT {path} answered {put.status_code}: {put.text[:200]}")
                session.headers.update(auth)
                ids = [
                    session.post(f"{server.url}/v1/incidents", json=INCIDENT).json()["id"]
                    for _ in range(clients)
                ]
            versions = dict.fromkeys(ids, 1)
            version_lock = threading.Lock()

            def patch(client: int, n: int) -> tuple[str, str, Any, dict[str, str]]:
                # Each client edits its own incident, so If-Match is always current.
                incident = ids[client]
                with version_lock:
                    version = versions[incident]
                    versions[incident] = version + 1
                body = {"description": f"update {n}"}
                return "PATCH", f"/v1/incidents/{incident}", body, {"If-Match": f'"{version}"'}

            def note_(client: int, n: int) -> tuple[str, str, Any, dict[str, str]]:
                body = {"kind": "work_note", "body": f"note {n}"}
                return "POST", f"/v1/incidents/{ids[client]}/timeline", body, {}

            def engage(client: int, n: int) -> tuple[str, str, Any, dict[str, str]]:
                body = {"tiers": [1], "reason": f"swarm {n}"}
                return "POST", f"/v1/incidents/{ids[client]}/engage", body, {}

            workloads: list[tuple[str, RequestMaker, int]] = [
                ("patch", patch, 200),
                ("timeline", note_, 201),
                ("engage", engage, 201),
            ]
            for label, make, expect in workloads:
                runs = measure_load(
                    server.url, auth, clients, make, expect=expect, pid=server.proc.pid
                )
                figure = summarise(f"{backend} {label} c{clients}", runs, "requests")
                report_figure(f"server.{label}_rps.{backend}.c{clients}", figure, "requests/s")


# -- side by side with Request Tracker ---------------------------------------------


def rt_figures(url: str, token: str, queue: str, ours: dict[int, Figure]) -> None:
    """The create load against RT 5's REST2 (POST /REST/2.0/ticket) and the ratio to ours."""
    auth = {"Authorization": f"token {token}"}
    body = {"Queue": queue, "Subject": INCIDENT["title"], "Content": INCIDENT["description"]}

    def make(_client: int, _n: int) -> tuple[str, str, Any, dict[str, str]]:
        return "POST", "/REST/2.0/ticket", body, {}

    for clients in CONCURRENCY:
        runs = measure_load(url, auth, clients, make, expect=201, rounds=1)
        figure = summarise(f"RT creates c{clients}", runs, "tickets")
        report_figure(f"server.rt_create_rps.c{clients}", figure, "creates/s")
        if clients in ours and figure.rate > 0:
            report(f"server.vs_rt_ratio.c{clients}", ours[clients].rate / figure.rate, "x")


@contextlib.contextmanager
def rt_target(spec: str) -> Iterator[tuple[str, str, str]]:
    """(url, token, queue) of the RT to measure: a URL (token from NOC_BENCH_RT_TOKEN, queue
    from NOC_BENCH_RT_QUEUE, default General), or ``local`` to start the RT 5 of this
    machine as the RT tests do (tests/helpers/rtserver.py), with RT's own bcrypt cost."""
    if spec != "local":
        token = os.environ.get("NOC_BENCH_RT_TOKEN", "")
        if not token:
            fail("--vs-rt URL needs an RT auth token in NOC_BENCH_RT_TOKEN (or use --vs-rt local)")
        yield spec.rstrip("/"), token, os.environ.get("NOC_BENCH_RT_QUEUE", "General")
        return
    try:
        from tests.helpers.rtserver import RtServer, RtUnavailable, rt_unavailable_reason
    except ImportError as exc:  # a wheel without the tests
        fail(f"--vs-rt local needs the tests folder of a checkout ({exc})")
        return
    reason = rt_unavailable_reason()
    if reason:
        fail(reason)
    server = RtServer(bcrypt_cost=None)  # RT's own default: what a real RT costs
    try:
        try:
            server.start()
        except RtUnavailable as exc:
            fail(str(exc))
        rt = server.instance()
        yield rt.url, rt.token, rt.queue
    finally:
        server.stop()


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


def run(argv: list[str] | None = None) -> None:
    """Print every figure (the PostgreSQL ones only when PostgreSQL answers).

    ``--vs-rt URL`` (or ``--vs-rt local``) also runs the create load against
    Request Tracker 5 and prints our rate over RT's; ``--writes-only`` skips
    the feed and SSE figures.
    """
    parser = argparse.ArgumentParser(prog="python -m bench server")
    parser.add_argument("--vs-rt", metavar="URL", help="an RT 5 to compare with, or 'local'")
    parser.add_argument(
        "--writes-only", action="store_true", help="only the write figures (no feed or SSE)"
    )
    args = parser.parse_args(argv or [])
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
            f"writes: per figure a fresh database and server, {LOAD_WARMUP} untimed warm-up "
            f"requests, then {LOAD_ROUNDS} rounds of {LOAD_MAX} requests or "
            f"{LOAD_WINDOW_S:g} s (whichever first), the median round reported, latencies "
            "pooled; N client threads with one keep-alive connection each; creates are "
            "POST /v1/incidents by a dispatcher, each with its own Idempotency-Key; server CPU "
            "is the serve process's user+system time over the round"
        )
        note(f"serve {' '.join(NO_LIMITS)}: the request guard's rate limits off")
        note("sqlite: a new file per figure (WAL, synchronous=FULL)")
        ours = create_figures(folder, "sqlite", sqlite)
        other_write_figures(folder, "sqlite", sqlite)
        if problem is None:
            note(f"pg: a new schema per figure in {PG_URL.split('@')[-1]}, dropped after")
            create_figures(folder, "pg", pg_database)
            other_write_figures(folder, "pg", pg_database)
        else:
            note(f"skipping the PostgreSQL figures: {problem}")
        if args.vs_rt:
            with rt_target(args.vs_rt) as (url, token, queue):
                note(
                    f"RT: the same create load (POST /REST/2.0/ticket into queue {queue!r}) "
                    f"against {url}, one round of {LOAD_WINDOW_S:g} s per concurrency; the "
                    "ratio is our SQLite creates/s over RT's"
                )
                rt_figures(url, token, queue, ours)
        if args.writes_only:
            return

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
