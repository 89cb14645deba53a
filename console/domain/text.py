"""How the console writes spans of time and moments: one formatter for every screen.

A span is written in one of three forms (:data:`DurationForm`): ``long`` for
the queue, the detail pane and the alerts ("3 h 05 min"), ``short`` for the
wall, read from across the room ("3 h 05"), and ``terse`` for escalation
paths and waits ("1 h 30 min", "2 d", "45 s"). Each is rounded down or up to
the minute (:data:`Rounding`): an SLA clock rounds down, so it never shows
more time left than there is; a countdown rounds up, so it never says
"in 0 min" for something not yet due. Moments are written on the viewer's
clock (:func:`clock_text`), a person's own clock (:func:`local_time_text`),
and ages as "7 min ago" (:func:`age_text`).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DurationForm = Literal["long", "short", "terse"]
"""``long``: ``45 min``, ``3 h 05 min``, ``2 d 4 h``; ``short``: ``45 min``, ``3 h 05``,
``2 d 4 h``; ``terse``: ``45 s``, ``6 min``, ``1 h 30 min``, ``1 h``, ``2 d 3 h``, ``2 d``."""

Rounding = Literal["down", "up"]
"""To the whole second, then the whole minute: ``down`` (floor) or ``up`` (ceiling)."""


def duration_text(
    span: timedelta, *, form: DurationForm = "long", rounding: Rounding = "down"
) -> str:
    """``span`` as the console writes it (see :data:`DurationForm` and :data:`Rounding`).

    The ``long`` and ``short`` forms show a negative span as ``0 min``; the
    ``terse`` form writes it with a leading ``-`` and shows seconds below one minute.
    """
    total = span.total_seconds()
    seconds = math.ceil(total) if rounding == "up" else math.floor(total)
    if seconds < 0:
        if form == "terse":
            return "-" + duration_text(-span, form=form, rounding=rounding)
        seconds = 0
    if form == "terse" and seconds < 60:
        return f"{seconds} s"
    minutes = math.ceil(seconds / 60) if rounding == "up" else seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        if form == "long":
            return f"{hours} h {minutes:02d} min"
        if form == "short":
            return f"{hours} h {minutes:02d}"
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    if form == "terse" and not hours:
        return f"{days} d"
    return f"{days} d {hours} h"


def age_text(seconds: float) -> str:
    """An age in seconds: ``just now``, ``42 s ago``, ``7 min ago``, ``2 h 05 min ago``."""
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{int(seconds)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    hours = int(seconds // 3600)
    return f"{hours} h {int(seconds % 3600 // 60):02d} min ago"


def clock_text(
    moment: datetime,
    zone: tzinfo | None = None,
    *,
    seconds: bool = False,
    day: bool = False,
    date: bool = False,
    show_zone: bool = False,
) -> str:
    """``moment`` on a clock: ``14:05``, with ``seconds`` ``14:05:09``, with ``day``
    ``Mon 14:05``, with ``date`` ``Mon 07 Dec 14:05``, with ``show_zone`` ``14:05 CET``.

    ``zone`` is the clock's time zone; None is the viewer's, as the operating system says.
    """
    local = moment.astimezone(zone)
    pattern = "%H:%M:%S" if seconds else "%H:%M"
    if date:
        pattern = "%a %d %b " + pattern
    elif day:
        pattern = "%a " + pattern
    if show_zone:
        pattern += " %Z"
    return local.strftime(pattern)


def local_time_text(zone_name: str | None, at: datetime) -> str:
    """``Thu 03:12 · Kolkata``: what the clock says where a person is (is it night there?).

    Empty without a zone; the zone's name alone when it is not a known IANA zone.
    """
    if not zone_name:
        return ""
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        return zone_name
    city = zone_name.rsplit("/", 1)[-1].replace("_", " ")
    return f"{clock_text(at, zone, day=True)} · {city}"
