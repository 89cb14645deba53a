"""Errors raised by the ITIL rules, worded for the operator who caused them."""

from __future__ import annotations

from collections.abc import Iterable


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
