"""The console's one clock: aware UTC now.

Everything that stamps or compares times asks here, so a time is never naive
and there is one place to read when a test or a tool needs to know where
"now" comes from. Local times are only ever made for display
(:mod:`console.domain.text`).
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)
