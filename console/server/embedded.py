"""Run the API inside another process: the desktop app's embedded server, and tests.

``EmbeddedServer(settings).start()`` serves on 127.0.0.1 (port 0 picks a free
port; ``.port`` and ``.url`` tell which) from a background thread, and
``stop()`` shuts it down cleanly, ending open SSE streams first.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from console.server.core import auth
from console.server.core.auth import Role
from console.server.core.protocol import protocol_class
from console.server.core.settings import Settings
from console.server.main import context_of, create_app

log = logging.getLogger(__name__)


class NocUvicornServer(uvicorn.Server):
    """uvicorn's server, ending the SSE streams before waiting for connections to close.

    Without this, shutdown would wait for every open event stream until the
    graceful-shutdown timeout, since a stream never finishes by itself.
    """

    def __init__(
        self, config: uvicorn.Config, on_shutdown: Callable[[], None], *, announce: bool = False
    ) -> None:
        super().__init__(config)
        self._on_shutdown = on_shutdown
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self._announce and self.started:
            # On stdout, so a supervisor (or a test) started with --port 0
            # learns the real port.
            scheme = "https" if self.config.ssl_certfile else "http"
            print(
                f"noc-console serve: listening on {scheme}://{self.config.host}:"
                f"{self.bound_port()}",
                flush=True,
            )

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_shutdown()
        await super().shutdown(sockets)

    def bound_port(self) -> int:
        """The port the server listens on (the real one when started with port 0)."""
        for server in getattr(self, "servers", []):
            for sock in server.sockets or ():
                return int(sock.getsockname()[1])
        raise RuntimeError("the server is not listening")


def uvicorn_config(app: FastAPI, settings: Settings, *, log_level: str = "info") -> uvicorn.Config:
    """The uvicorn configuration for our app: our access log, TLS when configured."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        log_config=None,  # the process's logging configuration applies
        log_level=log_level,
        access_log=False,  # AccessLogMiddleware writes one line per request
        lifespan="on",
        # h11 with a deadline for the request headers (protocol.py); the
        # body's deadline and the limits are the request guard's (guard.py).
        http=protocol_class(settings.header_timeout_s),
        h11_max_incomplete_event_size=16 * 1024,
        timeout_graceful_shutdown=5,
        server_header=False,
    )


def desktop_settings(db_url: str | None = None) -> Settings:
    """Settings for the desktop app's built-in server: loopback, a free port.

    The database defaults to ``server.db`` in the user's data folder.
    """
    settings = Settings(host="127.0.0.1", port=0)
    return settings.with_overrides(db_url=db_url) if db_url else settings


class EmbeddedServer:
    """The API served from a background thread of the current process.

    For the desktop app: ``server = EmbeddedServer(desktop_settings()).start()``,
    ``token = server.issue_token("desktop", Role.ADMIN)``, talk HTTP to
    ``server.url``, and ``server.stop()`` at exit.
    """

    def __init__(self, settings: Settings, *, log_level: str = "warning") -> None:
        self.settings = settings
        self.app = create_app(settings)
        self._context = context_of(self.app)
        self._server = NocUvicornServer(
            uvicorn_config(self.app, settings, log_level=log_level),
            on_shutdown=self._context.broadcaster.close,
        )
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    def start(self, timeout: float = 20.0) -> EmbeddedServer:
        """Start serving; returns once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the embedded server is already started")
        self._thread = threading.Thread(
            target=self._server.run, name="noc-embedded-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(
                    f"the embedded server failed to start on {self.settings.host}:"
                    f"{self.settings.port}; see the log for why"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the embedded server did not start within {timeout:g} s")
            time.sleep(0.01)
        self._port = self._server.bound_port()
        return self

    @property
    def port(self) -> int:
        """The port it listens on (known once started)."""
        if self._port is None:
            raise RuntimeError("the embedded server is not started")
        return self._port

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:43117``."""
        scheme = "https" if self.settings.uses_tls else "http"
        return f"{scheme}://{self.settings.host}:{self.port}"

    def issue_token(self, name: str, role: Role = Role.ADMIN) -> str:
        """Create an API token on this server's database and return its secret."""
        with self._context.db.write_session() as session:
            secret, _row = auth.create_token(
                session=session, name=name, role=role, now=datetime.now(UTC)
            )
            session.commit()
        return secret

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread (SSE streams are ended first)."""
        self._server.should_exit = True
        if self._thread is None:
            # Never started: the app's shutdown will not run, so close the
            # database here.
            self._context.db.dispose()
            return
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("the embedded server did not stop within %g s", timeout)

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
