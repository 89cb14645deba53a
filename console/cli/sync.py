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
import ipaddress
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from console.config import paths
from console.config.credentials import CredentialError, resolve_token, store_token
from console.config.settings import Settings, SettingsError, load_settings, settings_path
from console.connectors.base import AuthFailed, Backend, BackendError, is_rt_url
from console.connectors.noc import NocBackend, normalise_url
from console.domain.textsafe import terminal_safe
from console.store import Cache, CacheError
from console.sync.engine import SyncEngine
from console.sync.status import Conflict, NullListener, Rejection, SyncState, SyncStatus, SyncUpdate

if TYPE_CHECKING:
    from console.connectors.rt.directory import DirectorySource

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


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """``--token-env``, ``--ca-bundle`` and ``--queue``, shared with the GUI's command line."""
    parser.add_argument(
        "--token-env",
        metavar="VAR",
        help="read the API token from the environment variable VAR instead of the OS keyring "
        "(for kiosks without a keyring)",
    )
    parser.add_argument(
        "--ca-bundle",
        metavar="PEM",
        type=Path,
        help="trust the CA certificates in this PEM file for the backend's TLS certificate "
        "(a private CA); verification is always on",
    )
    parser.add_argument(
        "--queue",
        metavar="NAME",
        help="with a Request Tracker backend (rt+https://…): the RT queue to work "
        "(default: queue under [rt] in settings.toml)",
    )
    parser.add_argument(
        "--insecure-http",
        action="store_true",
        help="allow a plain http:// backend on another machine: the API token then crosses "
        "the network unencrypted (only on a trusted network; the console shows a warning)",
    )


def _is_loopback_host(host: str) -> bool:
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def plain_http_host(url: str) -> str | None:
    """The host of a plain-HTTP URL that leaves this machine (``rt+http://`` too), else None."""
    inner = url[3:] if url.lower().startswith("rt+") else url
    parts = urlsplit(inner)
    if parts.scheme.lower() != "http" or not parts.hostname:
        return None
    return None if _is_loopback_host(parts.hostname) else parts.hostname


def check_transport(url: str, *, insecure_http: bool) -> str | None:
    """Refuse a plain ``http://`` backend off this machine (ValueError saying what to do).

    Loopback (the embedded server, a tunnel) is fine. With ``insecure_http``
    the URL is accepted and the warning to keep showing is returned.
    """
    host = plain_http_host(url)
    if host is None:
        return None
    if not insecure_http:
        raise ValueError(
            f"refusing to send the API token in clear text to {url}: anyone on the network "
            f"between here and {host} could read it and act as you. Use https:// (the server "
            "needs --tls-cert and --tls-key, or a TLS proxy in front), or pass --insecure-http "
            "if this network is trusted"
        )
    return (
        f"Insecure connection: the API token and all incident data go to {url} unencrypted "
        "(--insecure-http). Use https:// as soon as the server offers it."
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


def backend_address(text: str) -> str:
    """A backend URL as the console keeps it (ValueError when it is not one)."""
    if not is_rt_url(text):
        return normalise_url(text)
    from console.connectors.rt import normalise_rt_url  # loaded only for RT

    return normalise_rt_url(text)


def open_backend(
    url: str,
    token: str | None,
    settings: Settings,
    *,
    queue: str | None = None,
    ca_bundle: Path | None = None,
    known_reference: Callable[[str], list[str]] | None = None,
    known_incidents: Callable[[], Iterable[str]] | None = None,
    insecure_http: bool = False,
) -> Backend:
    """The connector for ``url``: Request Tracker for ``rt+…``, else our server.

    ValueError (with what to do) for a setting the operator must fix: a plain
    ``http://`` backend off this machine without ``insecure_http``, a missing
    CA bundle, no RT queue, an unusable directory source. ``known_reference``
    lists the cached reference ids of a kind (so a directory file can delete
    what left it while the console was closed); ``known_incidents`` the cached
    incident ids (so a ticket moved where the RT account cannot see it leaves the
    cache).
    """
    check_transport(url, insecure_http=insecure_http)
    if not is_rt_url(url):
        return NocBackend(url, token, ca_bundle=ca_bundle)
    # The RT connector (and its ~4 MB of imports) is loaded only when used.
    from console.connectors.rt import RtBackend
    from console.connectors.rt.mapping import RtMapping

    rt = settings.rt
    name = queue or rt.queue
    if not name:
        raise ValueError(
            "which Request Tracker queue? Pass --queue NAME, or set queue under [rt] in "
            f"{settings.path or 'settings.toml'}"
        )
    directory: DirectorySource | None = None
    if rt.directory:
        directory = _directory(rt.directory, ca_bundle, known_reference, insecure_http)
    mapping = RtMapping(queue=name, fields=rt.custom_fields, statuses=rt.statuses)
    try:
        return RtBackend(
            url,
            token,
            mapping=mapping,
            ca_bundle=ca_bundle,
            overlap=rt.overlap.total_seconds(),
            directory=directory,
            commander_group=rt.commander_group,
            known_incidents=known_incidents,
        )
    except ValueError:
        if directory is not None:
            directory.close()
        raise


def _directory(
    where: str,
    ca_bundle: Path | None,
    known: Callable[[str], list[str]] | None,
    insecure_http: bool = False,
) -> DirectorySource:
    """``rt.directory``: our server (by URL, its token from the keyring) or a JSON file."""
    from console.connectors.rt.directory import DirectoryFile, DirectoryServer

    if where.startswith(("http://", "https://")):
        url = normalise_url(where)
        check_transport(url, insecure_http=insecure_http)
        try:
            found = resolve_token(url)
        except CredentialError as exc:
            raise ValueError(f"the directory server {url}: {exc}") from exc
        if found is None:
            raise ValueError(
                f"no API token is stored for the directory server {url} (rt.directory); run "
                f"`noc-console sync --once --backend {url}` once in a terminal to enter a "
                "viewer token (it is kept in the OS keyring)"
            )
        return DirectoryServer(NocBackend(url, found.secret, ca_bundle=ca_bundle))
    return DirectoryFile(Path(where), known)


def poll_interval_for(url: str, settings: Settings) -> float:
    """How often to ask the backend for changes when it cannot push (RT has its own setting)."""
    interval = settings.rt.poll_interval if is_rt_url(url) else settings.poll_interval
    return interval.total_seconds()


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
    where = (
        "an RT auth token: in RT, Logged in as → Settings → Auth Tokens"
        if is_rt_url(url)
        else "from `noc-console token create`"
    )
    secret = ask(f"API token for {url} ({where}): ").strip()
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
        if is_rt_url(url):  # RT needs its [rt] settings
            return _fail(str(exc), EXIT_USAGE)
        settings = Settings()  # our server needs none of them
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
