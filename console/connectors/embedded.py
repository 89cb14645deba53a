"""The embedded default: with no backend configured, sync with a server inside this process.

:func:`start_embedded` starts the reference server (``console.server``) on
127.0.0.1 with a free port and its SQLite file in the data folder, and returns
a :class:`~console.connectors.noc.NocBackend` for it, so the console syncs with
it over HTTP exactly as with a remote server (one code path).

The backend's ``key`` names the database file, not the URL: the port changes
at every start, but the cache's cursor must not. The token is made afresh at
each start under one fixed client name (so ``Idempotency-Key`` replays still
match across restarts), kept in memory only and revoked at :meth:`stop`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from console.connectors.noc import NocBackend
from console.server.core import auth
from console.server.core.db import UPDATE_CADENCE_KEY
from console.server.core.settings import Settings, sqlite_url
from console.server.embedded import EmbeddedServer
from console.server.main import context_of

DB_FILE = "server.db"
CLIENT_NAME = "noc-console-embedded"


def embedded_key(db_path: Path) -> str:
    """The cache's name for the embedded server's data."""
    return f"embedded:{db_path.expanduser().resolve()}"


@dataclass
class EmbeddedBackend:
    """A running embedded server and the connector that talks to it."""

    server: EmbeddedServer
    backend: NocBackend
    db_path: Path

    def stop(self) -> None:
        """Revoke the session's token and stop the server (idempotent)."""
        self.backend.close()
        with contextlib.suppress(Exception):  # the server is going away anyway
            _revoke(self.server)
        self.server.stop()

    def set_update_cadence(self, cadence: Mapping[int, int]) -> None:
        """Apply a new ``[major.cadence_minutes]`` to the server from the next read or write on.

        An incident's ``next_update_due`` in the change feed moves at its next change.
        """
        context_of(self.server.app).db.share_with_sessions(UPDATE_CADENCE_KEY, dict(cadence))


def _revoke(server: EmbeddedServer) -> None:
    db = context_of(server.app).db
    with db.write_session() as session:
        try:
            auth.revoke_token(session=session, name_or_id=CLIENT_NAME, now=datetime.now(UTC))
        except auth.TokenError:
            return
        session.commit()


def start_embedded(
    data_dir: Path, *, cadence: Mapping[int, int] | None = None, log_level: str = "warning"
) -> EmbeddedBackend:
    """Start the in-process server on 127.0.0.1 (free port) over ``data_dir/server.db``.

    ``cadence`` is the console's ``[major.cadence_minutes]``, so the built-in
    server's incidents owe their updates on the cadence the workspace counts down.
    """
    db_path = Path(data_dir) / DB_FILE
    settings = Settings(db_url=sqlite_url(db_path), host="127.0.0.1", port=0)
    if cadence is not None:
        settings = settings.with_overrides(update_cadence_min=dict(cadence))
    server = EmbeddedServer(settings, log_level=log_level).start()
    try:
        # A token left by a session that crashed is replaced, not piled up.
        _revoke(server)
        token = server.issue_token(CLIENT_NAME, auth.Role.ADMIN)
        backend = NocBackend(server.url, token, key=embedded_key(db_path))
    except BaseException:
        server.stop()
        raise
    return EmbeddedBackend(server, backend, db_path)
