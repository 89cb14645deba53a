"""A pydantic validation error told to a person: where, and what is wrong — one rule.

Every reader of wire documents (the server's request bodies, the directory's
stored reference documents, the matrix CSV import, the demo data files) says
what is wrong the same way: :func:`problems` turns the error into
:class:`Problem` s, each naming the field by its path and saying what is wrong
without pydantic's ``Value error,`` prefix; :func:`first_problem` is the one
sentence a notice has room for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

PathStyle = Literal["dotted", "json"]
"""``dotted``: ``levels.0.after`` (the API's and the directory's); ``json``:
``levels[0].after`` (a data file's, as an editor's JSON path shows it)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong: ``where`` (the field's path; empty for a rule across fields) and
    ``message``; ``kind`` is pydantic's error type (``missing``, ``extra_forbidden`` …),
    ``loc`` its raw location and ``context`` its details."""

    where: str
    message: str
    kind: str = ""
    loc: tuple[str | int, ...] = ()
    context: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def field_path(loc: Sequence[str | int], style: PathStyle = "dotted") -> str:
    """A pydantic location as a path: ``a.0.b`` (``dotted``) or ``a[0].b`` (``json``)."""
    if style == "dotted":
        return ".".join(str(part) for part in loc)
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def problems(
    error: ValidationError | Sequence[Mapping[str, Any]],
    *,
    style: PathStyle = "dotted",
    skip: str | None = None,
) -> list[Problem]:
    """Each problem of ``error`` (a :class:`ValidationError` or its ``errors()`` list).

    ``skip`` drops a leading location part every path shares (the server's ``body``).
    """
    details = error.errors() if isinstance(error, ValidationError) else error
    out: list[Problem] = []
    for detail in details:
        loc = tuple(detail.get("loc", ()))
        shown = loc[1:] if skip is not None and loc and loc[0] == skip else loc
        message = str(detail.get("msg", "is invalid")).removeprefix("Value error, ")
        out.append(
            Problem(
                where=field_path(shown, style),
                message=message,
                kind=str(detail.get("type", "")),
                loc=loc,
                context=detail.get("ctx") or {},
            )
        )
    return out


def first_problem(error: ValidationError, *, style: PathStyle = "dotted") -> str:
    """The first problem and how many more: ``levels.0.after: … (and 2 more problems)``.

    The first is enough to find and fix the record; the count says it is not the last.
    """
    found = problems(error, style=style)
    return str(found[0]) + more_text(len(found) - 1)


def more_text(more: int) -> str:
    """`` (and 2 more problems)``; empty when there are none."""
    return f" (and {more} more problems)" if more > 0 else ""
