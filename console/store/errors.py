"""Errors the local cache raises, worded for the operator who will read them."""

from __future__ import annotations

from pathlib import Path


class CacheError(Exception):
    """The cache could not do what was asked.

    The message says what went wrong and, where the user can do something about
    it, what to do. A failed write has changed nothing (every write is one
    SQLite transaction).
    """


class CacheTooNew(CacheError):
    """The cache file was written by a newer NOC Console than this one.

    Opening it would risk damaging data this version does not understand, so it
    is left untouched.
    """

    def __init__(self, path: Path, found: int, supported: int) -> None:
        self.path = path
        self.found = found
        self.supported = supported
        super().__init__(
            f"the cache {path} was written by a newer NOC Console (cache format {found}; "
            f"this version understands up to {supported}). Upgrade NOC Console, or move "
            f"the file aside (or start with --data-dir pointing at another folder) to use "
            f"a fresh cache with this version; edits not yet sent are kept in that file."
        )
