"""Where an RT console takes what RT does not hold: the directory.

Services, teams, contacts, on-call rotations and escalation policies (the
escalation matrix) come from a :class:`DirectorySource` (``rt.directory`` in
settings.toml): our own server (:class:`DirectoryServer`) or a JSON file
(:class:`DirectoryFile`). The RT connector delivers their changes with the
last page of each poll; docs/rt.md describes both for the operator.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Protocol

from console.connectors.base import Backend

# Our server's largest change page (console.server.core.settings.CHANGES_PAGE_MAX).
SERVER_PAGE = 1000

REFERENCE_KINDS = (
    "services",
    "teams",
    "contacts",
    "policies",
    "shifts",
    "categories",
    "known_errors",
)


class DirectoryError(Exception):
    """The directory source cannot be read; the message says what to fix."""


ReferenceChanges = tuple[dict[str, tuple[Mapping[str, object], ...]], dict[str, tuple[str, ...]]]


class DirectorySource(Protocol):
    """Where the escalation matrix, on-call and the other reference data come from."""

    @property
    def description(self) -> str:
        """For the operator: ``https://noc.example.com`` or ``file /etc/…/directory.json``."""
        ...

    def changes(self) -> ReferenceChanges:
        """What changed since the last call: (items by kind, deleted ids by kind)."""
        ...

    def close(self) -> None: ...


class DirectoryFile:
    """Reference data from a JSON file: ``{"services": [...], "contacts": [...], ...}``.

    Each kind is a list of items as our API's ``GET /v1/<kind>`` gives them (a
    ``{"items": [...]}`` page is accepted too). The file is read again when it
    changes; items that left it are deleted from the cache (on the first read
    ``known`` says what the cache holds, so items removed while the console was
    closed go too).
    """

    def __init__(self, path: str | Path, known: Callable[[str], Iterable[str]] | None = None):
        self.path = Path(path).expanduser()
        self._known = known
        self._stamp: tuple[int, int] | None = None
        self._ids: dict[str, set[str]] | None = None

    @property
    def description(self) -> str:
        return f"file {self.path}"

    def changes(self) -> ReferenceChanges:
        try:
            info = self.path.stat()
        except OSError as exc:
            raise DirectoryError(
                f"the directory file {self.path} cannot be read ({exc.strerror or exc}); "
                "fix rt.directory in settings.toml"
            ) from exc
        stamp = (info.st_mtime_ns, info.st_size)
        if stamp == self._stamp:
            return {}, {}
        items = read_directory_file(self.path)
        previous = self._ids
        if previous is None:
            previous = {}
            if self._known is not None:
                for kind in REFERENCE_KINDS:
                    with contextlib.suppress(Exception):  # the cache may not know a kind
                        previous[kind] = {str(i) for i in self._known(kind)}
        now_ids = {kind: {str(item["id"]) for item in entries} for kind, entries in items.items()}
        deleted = {
            kind: tuple(sorted(ids - now_ids.get(kind, set())))
            for kind, ids in previous.items()
            if ids - now_ids.get(kind, set())
        }
        self._stamp = stamp
        self._ids = now_ids
        return {kind: tuple(entries) for kind, entries in items.items()}, deleted

    def close(self) -> None:
        pass


def read_directory_file(path: Path) -> dict[str, list[Mapping[str, object]]]:
    """The file's items by kind; :class:`DirectoryError` names the first problem."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DirectoryError(f"the directory file {path} cannot be read ({exc})") from exc
    except ValueError as exc:
        raise DirectoryError(f"the directory file {path} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise DirectoryError(
            f"the directory file {path} must hold an object with the kinds "
            f"{', '.join(REFERENCE_KINDS)}"
        )
    out: dict[str, list[Mapping[str, object]]] = {}
    for kind, value in data.items():
        if kind not in REFERENCE_KINDS:
            raise DirectoryError(
                f"the directory file {path}: {kind!r} is not a kind of reference data; "
                f"allowed: {', '.join(REFERENCE_KINDS)}"
            )
        entries = value.get("items") if isinstance(value, dict) else value
        if not isinstance(entries, list):
            raise DirectoryError(f"the directory file {path}: {kind} must be a list of objects")
        for position, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                raise DirectoryError(
                    f'the directory file {path}: {kind}[{position}] needs an "id" (text)'
                )
        out[kind] = entries
    return out


class DirectoryServer:
    """Reference data from our own server's change feed (only the reference kinds are kept).

    ``backend`` is a connector for our server (the registry opens it), read
    through the :class:`~console.connectors.base.Backend` protocol alone.

    The feed is read from the start once per session (for a directory server
    that is small: only its reference data), then incrementally; deletions
    come from the feed's tombstones.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._cursor = 0

    @property
    def description(self) -> str:
        return self.backend.url

    def changes(self) -> ReferenceChanges:
        latest: dict[str, dict[str, Mapping[str, object] | None]] = {}
        cursor = self._cursor
        while True:
            batch = self.backend.changes(cursor, SERVER_PAGE)
            for kind, items in batch.reference.items():
                for item in items:
                    latest.setdefault(kind, {})[str(item.get("id"))] = item
            for kind, ids in batch.deleted_reference.items():
                for item_id in ids:
                    latest.setdefault(kind, {})[item_id] = None
            cursor = batch.cursor
            if not batch.more:
                break
        self._cursor = cursor
        upserts = {
            kind: tuple(i for i in entries.values() if i is not None)
            for kind, entries in latest.items()
        }
        deleted = {
            kind: tuple(k for k, i in entries.items() if i is None)
            for kind, entries in latest.items()
        }
        return (
            {k: v for k, v in upserts.items() if v},
            {k: v for k, v in deleted.items() if v},
        )

    def close(self) -> None:
        self.backend.close()
