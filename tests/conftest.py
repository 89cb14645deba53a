"""Test-wide set-up: offscreen Qt, private data/config folders, an in-memory keyring,
and the fixtures of ``tests/helpers/`` registered once.

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

# The helpers assert too; rewrite them like the tests (before the first one is imported).
pytest.register_assert_rewrite("tests.helpers")

from tests.helpers.env import MemoryKeyring  # noqa: E402

# Every fixture of tests/helpers/, registered once for the whole tree.
pytest_plugins = [
    "tests.helpers.e2e",
    "tests.helpers.metrics",
    "tests.helpers.processes",
    "tests.helpers.qt",
    "tests.helpers.rt",
    "tests.helpers.servers",
    "tests.helpers.store",
    "tests.helpers.sync",
    "tests.helpers.wall_metrics",
    "tests.helpers.webhooks",
]


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
