"""The cache and the server's database are private to the user on POSIX: 0700 folders, 0600 files.

Real files in tmp_path; the umask is set to the common 022 so the test does
not depend on the one it inherited.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.config import paths
from console.server.core.db import Database
from console.server.core.settings import sqlite_url
from console.store import Cache

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


@pytest.fixture(autouse=True)
def common_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_desktop_cache_is_private(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "data"
    cache = Cache.open(folder / "cache.db")
    try:
        cache.set_meta("probe", "written")  # makes SQLite create the -wal and -shm
        files = [folder / "cache.db", folder / "cache.db-wal", folder / "cache.db-shm"]
        assert all(f.exists() for f in files), list(folder.iterdir())
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert _mode(folder) == 0o700
        assert _mode(folder.parent) == 0o700
    finally:
        cache.close()


def test_the_server_database_is_private(tmp_path: Path) -> None:
    folder = tmp_path / "srv"
    db = Database(sqlite_url(folder / "server.db"))
    try:
        with db.write_session() as session:
            session.commit()
        files = [folder / "server.db", folder / "server.db-wal", folder / "server.db-shm"]
        assert all(f.exists() for f in files), list(folder.iterdir())
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert _mode(folder) == 0o700
    finally:
        db.dispose()


def test_existing_files_and_the_data_folder_are_tightened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    monkeypatch.setenv("NOC_CONSOLE_DATA_DIR", str(data))
    old = data / "server.db"
    Database(sqlite_url(old)).dispose()
    os.chmod(old, 0o644)
    os.chmod(data, 0o755)
    Database(sqlite_url(old)).dispose()
    assert _mode(old) == 0o600
    assert _mode(data) == 0o700


def test_a_folder_the_operator_named_is_left_as_it_is(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    paths.private_folder(shared)
    assert _mode(shared) == 0o755
    Database(sqlite_url(shared / "server.db")).dispose()
    assert _mode(shared / "server.db") == 0o600
