"""``noc-console sync``: sync the local cache with a backend, without a window.

``--once`` sends the queued edits, catches up with the change feed and exits
(progress on stderr); without it the sync stays live until Ctrl-C, which suits
a headless cache for ``noc-console export``.

Exit codes: 0 synced; 1 the backend or the cache failed (the message says
why; what was applied is kept); 2 a usage or configuration problem; 3 the
backend refused the token.
"""

from __future__ import annotations

import argparse
import getpass
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TextIO

from console.cli.options import add_connection_arguments
from console.config import paths
from console.config.credentials import CredentialError, resolve_token, store_token
from console.config.settings import Settings, SettingsError, load_settings, settings_path
from console.connectors.base import AuthFailed, BackendError
from console.connectors.http import check_transport
from console.connectors.registry import (
    backend_address,
    needs_settings,
    open_backend,
    poll_interval_for,
    token_hint,
)
from console.domain.textsafe import terminal_safe
from console.store import Cache, CacheError
from console.sync.engine import SyncEngine
from console.sync.status import Conflict, NullListener, Rejection, SyncState, SyncStatus, SyncUpdate

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_AUTH = 3

CACHE_FILE = "cache.db"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``noc-console sync``."""
    parser.add_argument(
        "--backend",
        metavar="URL",
        help="the backend to sync with: our server's URL, or rt+https://… for Request Tracker "
        "(default: the first of `backends` in settings.toml)",
    )
    parser.add_argument(
        "--once", action="store_true", help="catch up once and exit (progress on stderr)"
    )
    add_connection_arguments(parser)
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder of the local cache (default: the user data folder)",
    )
    parser.add_argument(
        "--config-dir",
        metavar="DIR",
        help="folder of settings.toml (default: the user config folder)",
    )


class _Progress(NullListener):
    """Reports to stderr: status lines, and progress (rewritten in place on a terminal)."""

    def __init__(
        self,
        stream: TextIO,
        *,
        interval: float = 0.5,
        notices: Callable[[], list[str]] | None = None,
    ) -> None:
        self._notices = notices
        self._stream = stream
        self._tty = stream.isatty()
        self._interval = interval
        self._last = 0.0
        self._open_line = False

    def _line(self, text: str) -> None:
        if self._open_line:
            self._stream.write("\n")
            self._open_line = False
        # Server and RT texts (titles, refusals) may carry escape sequences.
        self._stream.write(f"noc-console sync: {terminal_safe(text)}\n")
        self._stream.flush()

    def status_changed(self, status: SyncStatus) -> None:
        self.say_notices()
        if status.state in (SyncState.SYNCING, SyncState.STOPPED):
            return
        self._line(status.text())

    def say_notices(self) -> None:
        """What the connector wants the operator to know (a missing RT custom field …)."""
        if self._notices is not None:
            for notice in self._notices():
                self._line(notice)

    def progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        final = total and done >= total
        if not final and now - self._last < self._interval:
            return
        self._last = now
        text = SyncStatus(SyncState.SYNCING, "", done=done, total=total).text()
        if self._tty:
            self._stream.write(f"\rnoc-console sync: {text}")
            self._open_line = True
            self._stream.flush()
        else:
            self._line(text)

    def conflict(self, conflict: Conflict) -> None:
        self._line(f"conflict — {conflict.message}")

    def rejected(self, rejection: Rejection) -> None:
        self._line(rejection.text)

    def changed(self, update: SyncUpdate) -> None:
        pass

    def finish(self) -> None:
        self.say_notices()
        if self._open_line:
            self._stream.write("\n")
            self._open_line = False
            self._stream.flush()


def _fail(message: str, code: int) -> int:
    print(f"noc-console sync: {message}", file=sys.stderr)
    return code


def backend_url(args: argparse.Namespace) -> str:
    """``--backend``, or the first backend in settings; ValueError/SettingsError when none."""
    if args.backend:
        return backend_address(args.backend)
    settings = load_settings(settings_path(args.config_dir))
    if settings.backends:
        return backend_address(settings.backends[0])
    raise ValueError(
        "no backend given; pass --backend URL or list it under `backends` in "
        f"{settings_path(args.config_dir)}"
    )


def token_for(url: str, token_env: str | None, *, ask: Callable[[str], str] | None = None) -> str:
    """The token for ``url``: ``--token-env``, the keyring, or (on a terminal) asked and stored."""
    token = resolve_token(url, token_env=token_env)
    if token is not None:
        return token.secret
    if ask is None:
        if not sys.stdin.isatty():
            raise CredentialError(
                f"no API token is stored for {url}; run this command in a terminal to enter "
                "one (it is kept in the OS keyring), or pass --token-env VAR"
            )
        ask = getpass.getpass
    secret = ask(f"API token for {url} ({token_hint(url)}): ").strip()
    store_token(url, secret)
    return secret


def run(args: argparse.Namespace) -> int:
    """Sync as asked; see the module docstring for exit codes."""
    try:
        url = backend_url(args)
        # Before the token is asked for or read: it must not go out in clear text.
        warning = check_transport(url, insecure_http=getattr(args, "insecure_http", False))
    except (ValueError, SettingsError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    if warning is not None:
        print(f"noc-console sync: warning: {warning}", file=sys.stderr)
    try:
        token = token_for(url, args.token_env)
    except CredentialError as exc:
        return _fail(str(exc), EXIT_USAGE)
    try:
        settings = load_settings(settings_path(args.config_dir))
    except SettingsError as exc:
        if needs_settings(url):  # the connector reads its own table (RT's [rt])
            return _fail(str(exc), EXIT_USAGE)
        settings = Settings()  # this one needs none of them
    try:
        folder = paths.ensure_writable(paths.data_dir(args.data_dir))
        cache = Cache.open(folder / CACHE_FILE)
    except (paths.DataDirUnusable, CacheError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    try:
        backend = open_backend(
            url,
            token,
            settings,
            queue=getattr(args, "queue", None),
            ca_bundle=args.ca_bundle,
            known_reference=cache.reference_ids,
            known_incidents=cache.incident_ids,
            insecure_http=getattr(args, "insecure_http", False),
        )
    except ValueError as exc:
        cache.close()
        return _fail(str(exc), EXIT_USAGE)
    for notice in cache.notices:
        print(f"noc-console sync: {notice}", file=sys.stderr)
    progress = _Progress(sys.stderr, notices=backend.take_notices)
    poll = poll_interval_for(url, settings)
    engine = SyncEngine(cache, backend, progress, poll_interval=poll)
    try:
        if args.once:
            return _once(engine, progress, url)
        return _live(engine, progress)
    finally:
        backend.close()
        cache.close()


def _once(engine: SyncEngine, progress: _Progress, url: str) -> int:
    try:
        engine.sync_once()
    except AuthFailed as exc:
        progress.finish()
        return _fail(
            f"{url} refused the API token ({exc.message}). Get a new token from an admin "
            "(`noc-console token create`) and run this command in a terminal to enter it, or "
            "pass --token-env VAR. Nothing queued was lost.",
            EXIT_AUTH,
        )
    except BackendError as exc:
        progress.finish()
        return _fail(
            f"{exc.message}. What was synced so far is kept; queued edits stay queued.",
            EXIT_FAILED,
        )
    except CacheError as exc:
        progress.finish()
        return _fail(str(exc), EXIT_FAILED)
    progress.finish()
    cache = engine.cache
    pending = len(cache.pending_outbox())
    print(
        f"noc-console sync: synced with {url} — {cache.incident_count()} incidents cached, "
        f"{pending} edit{'s' if pending != 1 else ''} waiting to be sent",
        file=sys.stderr,
    )
    return EXIT_OK


def _live(engine: SyncEngine, progress: _Progress) -> int:
    """Run until SIGINT/SIGTERM; the engine retries by itself, so this never fails."""
    stopped = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stopped.set()
        engine.stop()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    worker = threading.Thread(target=engine.run, name="noc-sync", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    finally:
        engine.stop()
        worker.join(10)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        progress.finish()
    return EXIT_OK
