"""Errors raised by the ITIL rules, worded for the operator who caused them."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import TypeVar


class DomainError(ValueError):
    """A value or action the incident-management rules refuse.

    The message says what was wrong and what is allowed, so callers (the API,
    the console, the demo loader) can show it to a person as it is.
    """


class InvalidValue(DomainError):
    """A field holds a value outside its allowed set or range."""

    def __init__(self, field: str, value: object, allowed: Iterable[object] | str) -> None:
        self.field = field
        self.value = value
        if isinstance(allowed, str):
            self.allowed: tuple[str, ...] = (allowed,)
            hint = allowed
        else:
            self.allowed = tuple(str(a) for a in allowed)
            hint = "one of " + ", ".join(self.allowed)
        super().__init__(f"{field}: {value!r} is not allowed; use {hint}")


_E = TypeVar("_E", bound=enum.Enum)


def _plain(text: str) -> str:
    return text.strip().lower()


def parse_enum(
    cls: type[_E], value: object, field: str, *, normalise: Callable[[str], str] = _plain
) -> _E:
    """``value`` as a member of ``cls`` (by its wire value, case and spaces forgiven).

    The one parser behind every ``.of()`` of the domain's enums; the error names
    ``field`` and the allowed wire values.
    """
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        key = normalise(value)
        for member in cls:
            if member.value == key:
                return member
    raise InvalidValue(field, value, [m.value for m in cls])
