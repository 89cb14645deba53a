"""Fixtures for the cache tests: real SQLite files in the test's private folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.store import Cache


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "cache.sqlite3"


@pytest.fixture
def cache(cache_path: Path) -> Iterator[Cache]:
    """A fresh cache file, closed after the test."""
    opened = Cache.open(cache_path)
    yield opened
    opened.close()
