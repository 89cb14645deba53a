"""The demo files' records: reading a file, each record's checked fields, and the one error.

:class:`DemoDataError` names the file, the record, the field and the allowed
values; :class:`_Record` reads one record's fields, each checked as it is read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from console.domain.errors import InvalidValue

_T = TypeVar("_T")


class DemoDataError(ValueError):
    """A demo file is unreadable or a record in it breaks the rules.

    The message names the file, the record (index and id), the field and what
    is allowed, e.g. ``demo data incidents.json[17] (id demo-4118), field
    'impact': 'hihg' is not allowed; allowed: high, medium, low``.
    """

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        index: int | None = None,
        record_id: str | None = None,
        field: str | None = None,
        allowed: Sequence[str] = (),
    ) -> None:
        self.file = file
        self.index = index
        self.record_id = record_id
        self.field = field
        self.allowed = tuple(allowed)
        where = f"demo data {file}"
        if index is not None:
            # As a JSON path: the record's position in the file's list, from 0.
            where += f"[{index}]"
            if record_id:
                where += f" (id {record_id})"
        if field:
            where += f", field '{field}'"
        message = f"{where}: {problem}"
        if self.allowed:
            message += "; allowed: " + ", ".join(self.allowed)
        super().__init__(message)


class _Record:
    """One JSON object from a demo file, with readers that fail with a precise message."""

    def __init__(
        self,
        file: str,
        index: int,
        raw: object,
        fields: Iterable[str],
        required: Iterable[str],
    ) -> None:
        self.file = file
        self.index = index
        self.fields = tuple(fields)
        if not isinstance(raw, dict):
            raise DemoDataError(
                file, f"expected an object, found {type(raw).__name__}", index=index
            )
        self.raw: dict[str, Any] = raw
        record_id = raw.get("id")
        self.id = record_id if isinstance(record_id, str) else None
        for key in raw:
            if key not in self.fields:
                # The usual typo: a misspelt field name silently dropped would
                # leave the demo subtly wrong, so name it and the real ones.
                raise self.error(key, "unknown field", self.fields)
        for key in required:
            if key not in raw or raw[key] is None:
                raise self.error(key, "missing", [_FIELD_HINTS.get(key, "a value")])

    def error(self, name: str, problem: str, allowed: Sequence[str] = ()) -> DemoDataError:
        return DemoDataError(
            self.file, problem, index=self.index, record_id=self.id, field=name, allowed=allowed
        )

    def fail(self, name: str, problem: str, allowed: Sequence[str] = ()) -> NoReturn:
        raise self.error(name, problem, allowed)

    def has(self, name: str) -> bool:
        return self.raw.get(name) is not None

    def text(self, name: str, *, required: bool = True) -> str:
        value = self.raw.get(name)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.error(name, f"{value!r} is not text", ["non-empty text"])
        return value.strip()

    def choice(self, name: str, allowed: Sequence[str]) -> str:
        value = self.raw.get(name)
        if value not in allowed:
            raise self.error(name, f"{value!r} is not allowed", allowed)
        return str(value)

    def parsed(self, name: str, parse: Callable[[object], _T]) -> _T:
        """Parse with a domain ``of()``; its InvalidValue already knows the allowed values."""
        try:
            return parse(self.raw.get(name))
        except InvalidValue as exc:
            raise self.error(name, f"{exc.value!r} is not allowed", exc.allowed) from exc

    def ref(self, name: str, known: Sequence[str], *, required: bool = True) -> str | None:
        value = self.raw.get(name)
        if value is None and not required:
            return None
        if value not in known:
            raise self.error(name, f"{value!r} is not a known id", known)
        return str(value)

    def minutes(self, name: str, *, required: bool = True) -> int | None:
        value = self.raw.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.error(name, f"{value!r} is not a number of minutes", ["a whole number ≥ 0"])
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.raw.get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, f"{value!r} is not allowed", ["true", "false"])
        return value

    def items(self, name: str) -> list[Any]:
        value = self.raw.get(name, [])
        if not isinstance(value, list):
            raise self.error(name, f"{type(value).__name__} is not a list", ["a list"])
        return value


_FIELD_HINTS = {
    "id": "a unique id",
    "name": "a name",
    "title": "a short description of what is broken",
    "opened_minutes_ago": "minutes since the incident was opened",
    "minutes_ago": "minutes before now",
}


def _records(folder: Path, file: str) -> list[_Raw]:
    path = folder / file
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DemoDataError(file, f"the file is missing from {folder}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DemoDataError(file, f"cannot read {path}: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DemoDataError(
            file, f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    if not isinstance(data, list):
        raise DemoDataError(file, "expected a list of records at the top level")
    return [_Raw(file, index, raw) for index, raw in enumerate(data)]


@dataclass(frozen=True)
class _Raw:
    """One not yet checked record and where it came from."""

    file: str
    index: int
    raw: object

    def read(self, fields: Iterable[str], required: Iterable[str]) -> _Record:
        return _Record(self.file, self.index, self.raw, fields, required)


def _unique_ids(file: str, records: Sequence[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, int] = {}
    for index, record in enumerate(records):
        record_id = record["id"]
        if record_id in seen:
            raise DemoDataError(
                file,
                f"{record_id!r} is already used by [{seen[record_id]}]",
                index=index,
                record_id=record_id,
                field="id",
                allowed=["an id no other record in this file has"],
            )
        seen[record_id] = index
    return list(seen)
