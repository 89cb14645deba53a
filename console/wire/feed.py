"""The v1 wire's change feed: entries, pages, the wake-up, and decoding an entry's data."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from console.wire.incidents import Incident, TimelineEntry
from console.wire.reference import (
    Category,
    Contact,
    EscalationPolicy,
    KnownError,
    OnCallRotation,
    Service,
    Team,
)
from console.wire.types import ChangeKindWire, ChangeOpWire, WireOut

# --------------------------------------------------------------------------
# Change feed
# --------------------------------------------------------------------------


class ChangeEntry(WireOut):
    """One committed change: the entity's full state after it, or a tombstone.

    ``data`` is the body of the entity's own GET (an :class:`Incident`, a
    :class:`TimelineEntry`, a :class:`Service` …) for ``op: upsert`` and null for
    ``op: delete``. :func:`parse_change_data` turns it into the right model.
    """

    seq: int = Field(ge=1)
    kind: ChangeKindWire
    id: str
    op: ChangeOpWire
    data: dict[str, Any] | None = None


class ChangesPage(WireOut):
    """``GET /v1/changes``: changes after the cursor, oldest first.

    Ask again with ``after=cursor`` while ``more`` is true; the feed never skips a
    committed change and never repeats one.
    """

    changes: list[ChangeEntry]
    cursor: int = Field(ge=0, description="pass as `after` next time")
    more: bool


class ChangeWake(WireOut):
    """The ``data`` of an SSE ``change`` event: the newest seq on the server."""

    seq: int = Field(ge=0)


CHANGE_MODELS: dict[str, type[WireOut]] = {
    "incident": Incident,
    "timeline": TimelineEntry,
    "team": Team,
    "service": Service,
    "contact": Contact,
    "category": Category,
    "policy": EscalationPolicy,
    "shift": OnCallRotation,
    "known_error": KnownError,
}


def parse_change_data(entry: ChangeEntry) -> WireOut | None:
    """The change's entity as its wire model (None for a tombstone)."""
    if entry.op == "delete" or entry.data is None:
        return None
    if entry.kind in ("pir", "problem"):
        # Reviews and problems live in console.wire.pir, which builds on this module.
        from console.wire import pir as wire_pir

        model = wire_pir.Pir if entry.kind == "pir" else wire_pir.Problem
        return model.model_validate(entry.data)
    return CHANGE_MODELS[entry.kind].model_validate(entry.data)
