"""A real Request Tracker 5 on loopback for the RT connector's tests and bench.

Uses Debian's packages (``request-tracker5``, ``rt5-db-sqlite``,
``rt5-standalone``; ``.ci/install-rt`` installs them together with the site
config drop-ins ``tests/rt/seed/*.pm`` this module relies on: the test settings and a
custom lifecycle, ``noc-incident``). Every server
gets its own SQLite file in a private temporary folder and its own free port,
so two test runs on one machine never share a database; the package's default
database is never touched.

Building an RT database takes several seconds of Perl, so a *template* database
(RT's schema and core data, ``tests/rt/seed/noc-initialdata.pl`` and
``seed/test-initialdata.pl``, the spare queues, auth tokens for root and the
dispatchers) is built once per machine, RT version and seed, and copied for
every server start (about 1 s from the copy to the first answer).

RT runs as ``www-data`` (its site config is readable only by that group), so the
tests must run as root or as ``www-data``.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import fcntl
import functools
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

RT_HOME = Path("/usr/share/request-tracker5")
RT_SERVER = RT_HOME / "libexec" / "rt-server"
RT_SETUP_DATABASE = Path("/usr/sbin/rt-setup-database-5")
RT_SITE_CONFIG = Path("/etc/request-tracker5/RT_SiteConfig.d")
DROP_IN = RT_SITE_CONFIG / "90-noc-console-tests.pm"
# Every site config drop-in of seed/ (installed side by side by .ci/install-rt).
DROP_INS = (DROP_IN, RT_SITE_CONFIG / "91-noc-console-lifecycle.pm")
RT_VERSION_FILE = RT_HOME / "lib" / "RT" / "Generated.pm"
RT_USER = "www-data"

SEED_DIR = Path(__file__).resolve().parents[1] / "rt" / "seed"
INITIALDATA = SEED_DIR / "noc-initialdata.pl"
TEST_INITIALDATA = SEED_DIR / "test-initialdata.pl"
MAKE_TOKEN = SEED_DIR / "make-token.pl"
ADD_QUEUES = SEED_DIR / "add-queues.pl"
DROP_IN_SOURCE = SEED_DIR / DROP_IN.name
INSTALL_HINT = "run `sudo bash .ci/install-rt` to install Request Tracker 5 for the tests"

QUEUE = "NOC"
CONSOLE_USER = "noc-console"
# An operator as on most real RT installations: exactly SeeQueue, ShowTicket,
# ShowTicketComments, SeeCustomField, ModifyTicket, CommentOnTicket, ReplyToTicket,
# OwnTicket and TakeTicket on the queue; no ShowOutgoingEmail, no CreateTicket,
# no ModifyCustomField (seed/test-initialdata.pl).
OPERATOR = "operator"
# Fewer rights still: SeeQueue, ShowTicket, SeeCustomField, CommentOnTicket (no
# ShowTicketComments, no ReplyToTicket).
WATCHER = "watcher"
# The custom lifecycle of seed/91-noc-console-lifecycle.pm.
LIFECYCLE = "noc-incident"
LIFECYCLE_STATUSES = ("new", "triage", "investigating", "mitigated", "resolved", "rejected")
# Set by `rt-setup-database --action init`; for looking around in the web UI.
ROOT_PASSWORD = "password"
# Dispatchers besides the console user (they can own NOC tickets).
OTHER_DISPATCHERS = ("alice", "bob")
# Spare queues set up like NOC, so a test can have a queue of its own for free.
SPARE_QUEUES = tuple(f"NOC-T{n:02d}" for n in range(1, 61))
# RT hashes auth tokens with bcrypt and checks the hash on every REST2 request
# (about 0.4 s of server CPU per request here at RT's default cost of 12). The
# tests use a low cost so a request takes milliseconds; ``bcrypt_cost=None``
# keeps RT's default, for measuring what a real RT costs.
TEST_BCRYPT_COST = 4
CUSTOM_FIELDS = ("Impact", "Urgency", "Severity", "Service", "Category")
STARTUP_TIMEOUT_S = 90.0


class RtUnavailable(Exception):
    """RT is not installed (or not usable by this user); the message says what to do."""


class RtError(RuntimeError):
    """Setting up or driving the test RT failed; the message says what and shows RT's output."""


def rt_unavailable_reason() -> str | None:
    """Why the test RT cannot run here, or None when it can."""
    for path, what in (
        (RT_SERVER, "RT's rt-server"),
        (RT_SETUP_DATABASE, "RT's rt-setup-database-5"),
        (RT_HOME / "lib" / "RT.pm", "RT's Perl libraries"),
    ):
        if not path.exists():
            return (
                f"Request Tracker 5 is not installed ({what}, {path}, is missing): {INSTALL_HINT}"
            )
    for drop_in in DROP_INS:
        if not drop_in.exists():
            return f"RT's site config drop-in {drop_in} for the tests is missing: {INSTALL_HINT}"
        if drop_in.read_bytes() != (SEED_DIR / drop_in.name).read_bytes():
            return f"RT's site config drop-in {drop_in} is out of date: {INSTALL_HINT}"
    try:
        pwd.getpwnam(RT_USER)
    except KeyError:
        return f"there is no {RT_USER} user to run RT as: {INSTALL_HINT}"
    if os.geteuid() != 0 and not os.access(RT_SITE_CONFIG / "50-debconf.pm", os.R_OK):
        return (
            f"RT's site config is readable only by root and {RT_USER}: run the RT tests "
            f"as root or as {RT_USER}"
        )
    return None


_RT_ERROR = re.compile(r"\[(error|crit|critical|alert|emerg|emergency)\]")
# Logged at every start when no external HTML-to-text program is installed; harmless.
_NOISE = "Running with the internal HTML converter"


def _tail(text: str, lines: int = 40) -> str:
    kept = [line for line in text.rstrip().splitlines() if _NOISE not in line]
    return "\n".join(kept[-lines:])


def _run_as() -> dict[str, Any]:
    """Popen arguments that run a child as RT's web server user (from root)."""
    if os.geteuid() != 0:
        return {}
    return {"user": RT_USER, "group": RT_USER, "extra_groups": []}


def _give_to_rt(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(RT_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _private_dir(prefix: str, parent: Path | None = None) -> Path:
    """A fresh folder only RT's user (and root) can enter."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    folder.chmod(0o700)
    _give_to_rt(folder)
    return folder


def _rt_env(workdir: Path, db_path: Path, *, base_url: str = "", bcrypt_cost: int | None) -> dict:
    """The whole environment of an RT process: the drop-in reads the NOC_RT_* variables."""
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "LANG": "C.UTF-8",
        "NOC_RT_DATABASE": str(db_path),
        "NOC_RT_LOG_LEVEL": os.environ.get("NOC_RT_LOG_LEVEL", "warning"),
    }
    if base_url:
        env["NOC_RT_WEB_BASE_URL"] = base_url
    if bcrypt_cost is not None:
        env["NOC_RT_BCRYPT_COST"] = str(bcrypt_cost)
    return env


def _run_rt_tool(
    argv: Sequence[str], *, workdir: Path, db_path: Path, bcrypt_cost: int | None, what: str
) -> str:
    """Run one of RT's command-line tools (or a seed script) as RT's user; its stdout."""
    try:
        done = subprocess.run(
            list(argv),
            cwd=workdir,
            env=_rt_env(workdir, db_path, bcrypt_cost=bcrypt_cost),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            **_run_as(),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise RtError(f"{what} failed to run ({' '.join(argv)}): {exc}") from exc
    output = done.stdout + done.stderr
    # rt-setup-database logs a bad initialdata entry as an error and carries on.
    errors = [line for line in output.splitlines() if _RT_ERROR.search(line)]
    if done.returncode != 0 or errors:
        raise RtError(
            f"{what} failed (exit {done.returncode}): {' '.join(argv)}\n"
            f"--- its output ---\n{_tail(output)}"
        )
    return done.stdout


# --- the template database -------------------------------------------------------------------


def template_dir() -> Path:
    """Where template databases are kept between runs (``NOC_RT_TEMPLATE_DIR`` overrides)."""
    configured = os.environ.get("NOC_RT_TEMPLATE_DIR")
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "noc-console-rt"


def _template_key(bcrypt_cost: int | None) -> str:
    digest = hashlib.sha256()
    for path in (RT_VERSION_FILE, *DROP_INS, INITIALDATA, TEST_INITIALDATA, ADD_QUEUES, MAKE_TOKEN):
        digest.update(path.read_bytes())
    digest.update(repr((bcrypt_cost, SPARE_QUEUES, OTHER_DISPATCHERS)).encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Template:
    """An initialised RT database to copy, and the auth tokens already in it."""

    db_path: Path
    tokens: dict[str, tuple[int, str]]  # user -> (AuthTokens row id, token)


def ensure_template(bcrypt_cost: int | None = TEST_BCRYPT_COST) -> Template:
    """The template database for this RT version and seed, built now if missing."""
    cache = template_dir()
    cache.mkdir(parents=True, exist_ok=True)
    key = _template_key(bcrypt_cost)
    db_path = cache / f"rt-{key}.db"
    tokens_path = cache / f"rt-{key}.tokens.json"
    with (cache / ".lock").open("a") as lock:
        # Two runs starting at once build it once.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (db_path.exists() and tokens_path.exists()):
            _build_template(db_path, tokens_path, bcrypt_cost)
    raw = json.loads(tokens_path.read_text())
    return Template(db_path, {user: (int(row), token) for user, (row, token) in raw.items()})


def _build_template(db_path: Path, tokens_path: Path, bcrypt_cost: int | None) -> None:
    workdir = _private_dir("build-", db_path.parent)
    try:
        db = workdir / "rt.db"
        run = functools.partial(_run_rt_tool, workdir=workdir, db_path=db, bcrypt_cost=bcrypt_cost)
        run(
            [str(RT_SETUP_DATABASE), "--action", "init", "--skip-create"],
            what="creating RT's schema and core data (rt-setup-database --action init)",
        )
        for datafile in (INITIALDATA, TEST_INITIALDATA):
            run(
                [str(RT_SETUP_DATABASE), "--action", "insert", "--datafile", str(datafile)],
                what=f"loading {datafile.name} (rt-setup-database --action insert)",
            )
        if SPARE_QUEUES:
            run(
                ["perl", str(ADD_QUEUES), *SPARE_QUEUES],
                what="setting up the spare test queues",
            )
        users = ["root", CONSOLE_USER, OPERATOR, WATCHER, *OTHER_DISPATCHERS]
        out = run(["perl", str(MAKE_TOKEN), *users], what="making auth tokens")
        tokens = _parse_tokens(out)
        staged = db_path.with_suffix(".db.part")
        shutil.copyfile(db, staged)
        os.replace(staged, db_path)
        staged_tokens = tokens_path.with_suffix(".part")
        staged_tokens.write_text(json.dumps({u: list(t) for u, t in tokens.items()}))
        os.replace(staged_tokens, tokens_path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _parse_tokens(output: str) -> dict[str, tuple[int, str]]:
    tokens: dict[str, tuple[int, str]] = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit():
            tokens[parts[0]] = (int(parts[1]), parts[2])
    if not tokens:
        raise RtError(f"the token script printed no tokens:\n{_tail(output)}")
    return tokens


# --- a running server ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds the socket listening on loopback ``port`` (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            for row in list(rows)[1:]:
                cols = row.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{cols[9]}]")
    if not inodes:
        return False
    fd_dir = Path(f"/proc/{pid}/fd")
    with contextlib.suppress(OSError):
        for fd in fd_dir.iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) in inodes:
                    return True
    return False


_RUNNING: set[RtServer] = set()


@atexit.register
def _stop_leftovers() -> None:
    # A run interrupted past its fixtures' finalisers must not leave RT behind.
    for server in list(_RUNNING):
        server.stop()


class RtServer:
    """One ``rt-server`` process group over a private copy of the template database."""

    def __init__(
        self, *, bcrypt_cost: int | None = TEST_BCRYPT_COST, workers: int = 4, keep: bool = False
    ) -> None:
        self.bcrypt_cost = bcrypt_cost
        self.workers = workers
        self.keep = keep or os.environ.get("NOC_RT_KEEP") == "1"
        self.workdir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.tokens: dict[str, tuple[int, str]] = {}
        self.startup_s = 0.0
        self._next_spare = 0
        self._revoked: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        assert self.workdir is not None, "the RT server is not started"
        return self.workdir / "rt.db"

    @property
    def log_path(self) -> Path:
        assert self.workdir is not None, "the RT server is not started"
        return self.workdir / "rt-server.log"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return _tail(self.log_path.read_text(errors="replace"), lines)
        except OSError:
            return "(no log)"

    def start(self) -> RtServer:
        reason = rt_unavailable_reason()
        if reason:
            raise RtUnavailable(reason)
        started = time.monotonic()
        template = ensure_template(self.bcrypt_cost)
        self.tokens = dict(template.tokens)
        self.workdir = _private_dir("noc-rt-")
        shutil.copyfile(template.db_path, self.db_path)
        _give_to_rt(self.db_path)
        for attempt in range(3):
            self.port = _free_port()
            try:
                self._launch()
                break
            except RtError:
                # Another process took the port between our probe and RT's bind.
                if attempt == 2 or "couldn't start up a web server" not in self.log_tail():
                    self.stop()
                    raise
        self.startup_s = time.monotonic() - started
        return self

    def _launch(self) -> None:
        assert self.workdir is not None
        env = _rt_env(self.workdir, self.db_path, base_url=self.url, bcrypt_cost=self.bcrypt_cost)
        argv = [
            str(RT_SERVER),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--max-workers",
            str(self.workers),
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                argv,
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,  # its workers share it, so one signal stops them all
                **_run_as(),
            )
        _RUNNING.add(self)
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        probe = f"{self.url}/REST/2.0/queue/{QUEUE}"
        headers = {"Authorization": f"token {self.tokens['root'][1]}"}
        last_error = ""
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                self._stop_process()
                raise RtError(
                    f"rt-server exited with code {code} before answering on {self.url}.\n"
                    f"--- the end of rt-server's log ---\n{self.log_tail()}"
                )
            if not _listens(self.process.pid, self.port):
                # Not bound yet, or another process holds the port and RT is about to exit:
                # either way, anything answering there now is not this server.
                time.sleep(0.1)
                continue
            try:
                reply = requests.get(probe, headers=headers, timeout=5)
            except requests.RequestException as exc:
                last_error = str(exc)
                time.sleep(0.1)
                continue
            if reply.status_code == 200:
                return
            self._stop_process()
            raise RtError(
                f"rt-server on {self.url} answered GET {probe} with HTTP "
                f"{reply.status_code}: {reply.text[:500]}\n"
                f"--- the end of rt-server's log ---\n{self.log_tail()}"
            )
        self._stop_process()
        raise RtError(
            f"rt-server did not answer on {self.url} within {STARTUP_TIMEOUT_S:.0f} s "
            f"(last error: {last_error}).\n--- the end of rt-server's log ---\n{self.log_tail()}"
        )

    def _stop_process(self) -> None:
        process, self.process = self.process, None
        _RUNNING.discard(self)
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
        # Workers that outlived their master.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def stop(self) -> None:
        """Stop the server's whole process group and delete its folder (unless kept)."""
        self._stop_process()
        if self.workdir is not None and not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> RtServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run_rt_tool(self, argv: Sequence[str], what: str) -> str:
        """Run an RT command-line tool or seed script against this server's database."""
        assert self.workdir is not None, "the RT server is not started"
        return _run_rt_tool(
            argv,
            workdir=self.workdir,
            db_path=self.db_path,
            bcrypt_cost=self.bcrypt_cost,
            what=what,
        )

    def connect(self) -> sqlite3.Connection:
        """A connection to the server's database (RT holds its own; wait for its locks)."""
        return sqlite3.connect(self.db_path, timeout=60)

    def revoke_token(self, token: str) -> None:
        """Delete ``token``'s row, remembering it for ``restore_tokens``."""
        rows = [row for row, known in self.tokens.values() if known == token]
        if not rows:
            raise KeyError("only tokens of this server's template or make_token can be revoked")
        with contextlib.closing(self.connect()) as db, db:
            saved = sql_rows(db, "SELECT * FROM AuthTokens WHERE id = ?", rows[:1])
            db.execute("DELETE FROM AuthTokens WHERE id = ?", rows[:1])
        self._revoked.extend(saved)

    def restore_tokens(self) -> None:
        """Bring back every token revoked since the last call."""
        saved, self._revoked = self._revoked, []
        with contextlib.closing(self.connect()) as db, db:
            sql_insert(db, "AuthTokens", saved)

    def take_spare_queue(self, lifecycle: str | None = None) -> str:
        """A queue set up like NOC that no test has used yet on this server (on RT's
        ``lifecycle``, e.g. ``LIFECYCLE``, as an admin sets it under Admin > Queues)."""
        if self._next_spare < len(SPARE_QUEUES):
            name = SPARE_QUEUES[self._next_spare]
        else:
            name = f"NOC-T{self._next_spare + 1:02d}"
            self.run_rt_tool(["perl", str(ADD_QUEUES), name], what=f"adding queue {name}")
        self._next_spare += 1
        if lifecycle is not None:
            reply = requests.put(
                f"{self.url}/REST/2.0/queue/{name}",
                json={"Lifecycle": lifecycle},
                headers={"Authorization": f"token {self.tokens['root'][1]}"},
                timeout=60,
            )
            shown = requests.get(
                f"{self.url}/REST/2.0/queue/{name}",
                headers={"Authorization": f"token {self.tokens['root'][1]}"},
                timeout=60,
            )
            if reply.status_code != 200 or shown.json().get("Lifecycle") != lifecycle:
                raise RtError(f"RT did not put queue {name} on lifecycle {lifecycle}: {reply.text}")
        return name

    def instance(self, queue: str = QUEUE, user: str = CONSOLE_USER) -> RtInstance:
        """The handle tests use: this server seen through ``queue`` and ``user``'s token."""
        return RtInstance(
            url=self.url,
            queue=queue,
            token=self.tokens[user][1],
            db_path=self.db_path,
            server=self,
        )


# --- what tests hold -------------------------------------------------------------------------


@dataclass
class RtInstance:
    """A running RT as a test sees it: where it is, its queue, and the console's token."""

    url: str  # "http://127.0.0.1:<port>"; REST2 is at f"{url}/REST/2.0/"
    queue: str
    token: str  # an auth token of user "noc-console", a dispatcher on the queue
    db_path: Path
    server: RtServer = field(repr=False)
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    @property
    def rest_url(self) -> str:
        return f"{self.url}/REST/2.0/"

    @property
    def root_token(self) -> str:
        return self.server.tokens["root"][1]

    def with_queue(self, queue: str) -> RtInstance:
        """The same server seen through another queue."""
        return dataclasses.replace(self, queue=queue, session=requests.Session())

    def as_user(self, user: str = OPERATOR) -> RtInstance:
        """The same server and queue seen through ``user``'s token (``as_root=False`` calls
        and the connectors tests make with ``token`` then act as that user)."""
        return dataclasses.replace(
            self, token=self.server.tokens[user][1], session=requests.Session()
        )

    def api(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        as_root: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """A direct REST2 call, as someone working in RT directly (root) or as the console."""
        token = self.root_token if as_root else self.token
        sent = {"Authorization": f"token {token}", **(headers or {})}
        return self.session.request(
            method,
            self.rest_url + path.lstrip("/"),
            json=json,
            params=dict(params) if params is not None else None,
            headers=sent,
            timeout=60,
        )

    def create_ticket(self, subject: str, **fields: object) -> int:
        """Create a ticket in this queue directly in RT (as root); its id.

        ``fields`` are REST2 ticket fields: Status, Owner, Requestor,
        CustomFields={"Impact": "high", ...}, Content, Queue (to override), ...
        """
        body: dict[str, object] = {"Queue": self.queue, "Subject": subject, **fields}
        reply = self.api("POST", "ticket", json=body)
        if reply.status_code != 201:
            raise RtError(
                f"RT refused to create ticket {subject!r}: HTTP {reply.status_code} "
                f"{reply.text[:500]}"
            )
        return int(reply.json()["id"])

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        """A ticket as REST2 shows it to root."""
        reply = self.api("GET", f"ticket/{ticket_id}")
        reply.raise_for_status()
        result: dict[str, Any] = reply.json()
        return result

    def make_token(self, user: str = CONSOLE_USER) -> str:
        """A new auth token for ``user`` (about 1.5 s: RT has no API for it, so Perl runs)."""
        out = self.server.run_rt_tool(
            ["perl", str(MAKE_TOKEN), user], what=f"making an auth token for {user}"
        )
        row_id, token = _parse_tokens(out)[user]
        self.server.tokens.setdefault(f"{user}#{row_id}", (row_id, token))
        return token

    def revoke_token(self, token: str) -> None:
        """Revoke a token as an RT admin does under Settings > Auth Tokens (deletes its row).

        The ``rt`` fixture puts revoked tokens of the session's server back after the test.
        """
        self.server.revoke_token(token)

    def bulk_seed(self, count: int, *, seed: int = 0) -> list[int]:
        """``count`` tickets in this queue with their custom fields set, written straight into
        RT's tables (thousands per second); their ids.

        For the bench only: the rows are those RT writes for a ticket created through
        its API (cloned from one made that way), but no scrips run.
        """
        from tests.helpers.rtseed import bulk_seed

        return bulk_seed(self, count, seed=seed)

    def seed_history(self, count: int) -> list[int]:
        """``count`` tickets in this queue, each with a real ticket's whole history
        (requestor and autoreply, custom fields, a comment, a reply, a status change),
        cloned in RT's tables from one worked through RT's API; their ids.
        See ``tests.helpers.rtseed.seed_history``."""
        from tests.helpers.rtseed import seed_history

        return seed_history(self, count)


# --- SQL helpers -----------------------------------------------------------------------------


def sql_rows(db: sqlite3.Connection, sql: str, args: Sequence[object]) -> list[dict[str, Any]]:
    cursor = db.execute(sql, tuple(args))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def next_id(db: sqlite3.Connection, table: str) -> int:
    return int(db.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}").fetchone()[0])


def sql_insert(db: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    names = list(rows[0])
    db.executemany(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
        [tuple(row[name] for name in names) for row in rows],
    )
