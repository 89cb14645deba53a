"""Real ``noc-console`` processes for the tests: ``serve`` on a free port, ``token``."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

import httpx

_LISTENING = re.compile(r"listening on (https?://\S+)")


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``python -m console ARGS`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy(),
        check=False,
    )


def create_token(db: str, role: str, name: str) -> str:
    """A new token from ``noc-console token create`` (the secret is stdout's only line)."""
    result = run_cli("token", "create", "--role", role, "--name", name, "--db", db)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


class ServeProcess:
    """``noc-console serve --port 0`` as a child process; ``url`` once it listens.

    Leaving the ``with`` block stops it (SIGTERM, then SIGKILL), also when the
    test failed. stderr (the request log) goes to ``log_path``.
    """

    def __init__(self, db: str, log_path: Path, *extra: str) -> None:
        self.log_path = log_path
        self._log = log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "console", "serve", "--port", "0", "--db", db, *extra],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=os.environ.copy(),
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = ""

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)

    def wait_listening(self, timeout: float = 30) -> str:
        """Block until the server prints its URL; return it."""
        try:
            while True:
                line = self._lines.get(timeout=timeout)
                match = _LISTENING.search(line)
                if match:
                    self.url = match.group(1)
                    return self.url
        except queue.Empty:
            raise TimeoutError(
                f"serve did not start within {timeout} s; log:\n{self.log_text()}"
            ) from None

    def log_text(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Send ``sig`` and wait for the exit code (SIGKILL if it does not exit in time)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()
        return int(self.proc.returncode)

    def __enter__(self) -> ServeProcess:
        try:
            self.wait_listening()
        except BaseException:
            self.stop(signal.SIGKILL)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
