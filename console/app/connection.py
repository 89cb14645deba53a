"""The backend the desktop console syncs with, and the engine that syncs it.

:func:`connect_backend` picks the backend (``--backend URL``, else the first
of ``backends`` in ``settings.toml``, else the embedded reference server over
SQLite in the data folder) and builds its :class:`~console.sync.engine.SyncEngine`;
the :class:`Connection` it returns holds both, and how the token was found.
What the operator sees of the sync is :mod:`console.app.sync_wiring`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from console.config.credentials import (
    KeyringUnavailable,
    TokenMissing,
    resolve_token,
)
from console.config.settings import MajorSettings, Settings
from console.connectors.base import Backend
from console.connectors.http import check_transport
from console.connectors.registry import (
    backend_address,
    open_backend,
    poll_interval_for,
    start_embedded,
)
from console.store import Cache
from console.sync.engine import SyncEngine

if TYPE_CHECKING:
    from console.connectors.embedded import EmbeddedBackend


class StartupError(Exception):
    """Something the operator must fix before the console can start; the message says what."""


@dataclass
class Connection:
    """The chosen backend, its sync engine, and how its token was found.

    ``token_origin`` is ``embedded``, ``keyring``, ``env:VAR`` or None (no
    token yet: ask). ``remember`` says whether a token the operator types is
    kept in the OS keyring; ``problem`` is why the keyring cannot be used.
    """

    url: str
    backend: Backend
    engine: SyncEngine
    token_origin: str | None
    remember: bool
    problem: str | None = None
    embedded: EmbeddedBackend | None = None
    after_edit: Callable[[], None] | None = None
    # Set when --insecure-http let a plain http:// backend through: the banner's text.
    insecure: str | None = None

    def edit_queued(self) -> None:
        """An edit was queued (``LocalEdits.on_queued``): send it now, and tell the window."""
        self.engine.wake()
        if self.after_edit is not None:
            self.after_edit()

    def apply_major(self, major: MajorSettings) -> None:
        """Saved ``[major]`` settings: the built-in server's update cadence follows them.

        A remote server keeps its own (``serve --update-cadence``).
        """
        if self.embedded is not None:
            self.embedded.set_update_cadence(major.cadence_minutes)

    def close(self) -> None:
        """Close the connector and stop the embedded server (after the sync has stopped)."""
        self.backend.close()
        if self.embedded is not None:
            self.embedded.stop()


def connect_backend(
    args: argparse.Namespace, settings: Settings, cache: Cache, data_folder: Path
) -> Connection:
    """Pick the backend (``--backend``, settings, else embedded) and build its engine.

    Raises :class:`StartupError` for what the operator must fix first: a
    malformed URL, a missing CA bundle, an empty ``--token-env`` variable, an
    embedded server that cannot start. An unusable keyring is not fatal: the
    console asks for a token for this session and says how to fix the keyring.
    """
    poll = settings.poll_interval.total_seconds()
    chosen = args.backend or (settings.backends[0] if settings.backends else None)
    if chosen is None:
        # Only the embedded default pays for the server's imports.
        try:
            embedded = start_embedded(data_folder, settings.major.cadence_minutes)
        except Exception as exc:  # any failure here must end in a message, not a traceback
            raise StartupError(
                f"the built-in server could not start ({exc}); start with --backend URL to "
                "use a remote backend, or --demo to look around"
            ) from exc
        return Connection(
            url=embedded.backend.url,
            backend=embedded.backend,
            engine=SyncEngine(cache, embedded.backend, poll_interval=poll),
            token_origin="embedded",
            remember=False,
            embedded=embedded,
        )
    insecure_http = bool(getattr(args, "insecure_http", False))
    try:
        url = backend_address(chosen)
        # Before the keyring is read: the token must not go out in clear text.
        insecure = check_transport(url, insecure_http=insecure_http)
    except ValueError as exc:
        raise StartupError(str(exc)) from exc
    token_env: str | None = args.token_env
    token: str | None = None
    origin: str | None = None
    problem: str | None = None
    try:
        found = resolve_token(url, token_env=token_env)
    except TokenMissing as exc:
        raise StartupError(str(exc)) from exc
    except KeyringUnavailable as exc:
        problem = str(exc)
    else:
        if found is not None:
            token, origin = found.secret, found.origin
    try:
        backend = open_backend(
            url,
            token,
            settings,
            queue=getattr(args, "queue", None),
            ca_bundle=args.ca_bundle,
            known_reference=cache.reference_ids,
            known_incidents=cache.incident_ids,
            insecure_http=insecure_http,
        )
    except ValueError as exc:
        raise StartupError(str(exc)) from exc
    return Connection(
        url=url,
        backend=backend,
        engine=SyncEngine(cache, backend, poll_interval=poll_interval_for(url, settings)),
        token_origin=origin,
        remember=token_env is None and problem is None,
        problem=problem,
        insecure=insecure,
    )
