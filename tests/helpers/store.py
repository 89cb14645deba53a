"""Fixtures for the cache tests: real SQLite files in the test's private folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from console.store import Cache, migrations


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "cache.sqlite3"


@pytest.fixture
def cache(cache_path: Path) -> Iterator[Cache]:
    """A fresh cache file, closed after the test."""
    opened = Cache.open(cache_path)
    yield opened
    opened.close()


def old_cache(path: Path, version: int) -> Path:
    """A cache file as a build whose newest step was ``version`` left it (empty)."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        migrations.upgrade(conn, migrations.MIGRATIONS[:version])
    engine.dispose()
    return path
