"""Test-wide set-up: offscreen Qt, private data/config folders, an in-memory keyring.

Nothing a test does may touch the real user's settings, cache or keyring.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything imports Qt or reads the environment.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="noc-console-tests-"))
os.environ["NOC_CONSOLE_DATA_DIR"] = str(_SESSION_HOME / "data")
os.environ["NOC_CONSOLE_CONFIG_DIR"] = str(_SESSION_HOME / "config")
os.environ.setdefault("XDG_RUNTIME_DIR", str(_SESSION_HOME / "runtime"))
(_SESSION_HOME / "runtime").mkdir(mode=0o700, exist_ok=True)

import keyring  # noqa: E402
from keyring.backend import KeyringBackend  # noqa: E402


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in memory, so tests never read or write the user's.

    This stands in for the OS keyring (Secret Service, Keychain, Credential
    Manager), which cannot run on a headless test machine.
    """

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Every test gets a fresh, empty in-memory keyring."""
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data folder for this test (the cache and embedded database go here)."""
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("NOC_CONSOLE_DATA_DIR", str(folder))
    return folder


def require_or_skip(available: bool, reason: str, env_var: str) -> None:
    """Skip when a real service is missing, unless ``env_var`` makes it mandatory (as in CI)."""
    if available:
        return
    if os.environ.get(env_var) == "1":
        pytest.fail(f"{reason} (and {env_var}=1 makes this test mandatory)")
    pytest.skip(reason)
