"""Small settings kept with the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.store import Cache, CacheError


def test_meta_values_persist_and_can_be_replaced(cache: Cache, cache_path: Path) -> None:
    assert cache.meta("board.sort") is None
    cache.set_meta("board.sort", "severity")
    cache.set_meta("board.sort", "sla")
    cache.close()
    with Cache.open(cache_path) as reopened:
        assert reopened.meta("board.sort") == "sla"


def test_meta_values_must_be_text(cache: Cache) -> None:
    with pytest.raises(CacheError, match="text"):
        cache.set_meta("count", 3)  # type: ignore[arg-type]


def test_a_closed_cache_says_so(cache: Cache) -> None:
    cache.close()
    cache.close()  # closing twice is harmless
    with pytest.raises(CacheError, match="closed"):
        cache.incidents()
    with pytest.raises(CacheError, match="closed"):
        cache.set_meta("k", "v")
