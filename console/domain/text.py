"""How the console writes spans of time and moments: one formatter for every screen.

A span is written in one of five forms (:data:`DurationForm`): ``long`` for
the queue, the detail pane and the alerts ("3 h 05 min"), ``short`` for the
wall, read from across the room ("3 h 05"), ``terse`` for escalation paths,
waits and snoozes ("1 h 30 min", "2 d", "45 s"), ``full`` for a review's
record, where no minute is dropped ("1 d 1 h 00 min", "30 s"), and ``compact``
for the metrics tables' columns ("1m 35s", "2h 05m"). Each is rounded down or
up to the minute (:data:`Rounding`): an SLA clock rounds down, so it never
shows more time left than there is; a countdown rounds up, so it never says
"in 0 min" for something not yet due. Moments are written on the viewer's
clock (:func:`clock_text`), a person's own clock (:func:`local_time_text`),
and ages as "7 min ago" (:func:`age_text`); a moment in a file name is
:func:`file_stamp`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DurationForm = Literal["long", "short", "terse", "full", "compact"]
"""``long``: ``45 min``, ``3 h 05 min``, ``2 d 4 h``; ``short``: ``45 min``, ``3 h 05``,
``2 d 4 h``; ``terse``: ``45 s``, ``6 min``, ``1 h 30 min``, ``1 h``, ``2 d 3 h``, ``2 d``;
``full``: ``30 s``, ``4 min``, ``1 h 05 min``, ``1 d 1 h 00 min``; ``compact``: ``1m 35s``,
``2h 05m``, ``3d 04h``."""

_SIGNED: frozenset[DurationForm] = frozenset({"terse", "full", "compact"})
"""The forms that write a negative span with a ``-`` (the others show ``0 min``)."""

Rounding = Literal["down", "up"]
"""To the whole second, then the whole minute: ``down`` (floor) or ``up`` (ceiling)."""


def duration_text(
    span: timedelta, *, form: DurationForm = "long", rounding: Rounding = "down"
) -> str:
    """``span`` as the console writes it (see :data:`DurationForm` and :data:`Rounding`).

    The ``long`` and ``short`` forms show a negative span as ``0 min``; the
    others write it with a leading ``-``. ``terse`` and ``full`` show seconds
    below one minute, ``compact`` shows them below one hour.
    """
    total = span.total_seconds()
    seconds = math.ceil(total) if rounding == "up" else math.floor(total)
    if seconds < 0:
        if form in _SIGNED:
            return "-" + duration_text(-span, form=form, rounding=rounding)
        seconds = 0
    if form == "compact":
        if seconds < 3600:
            return f"{seconds // 60}m {seconds % 60:02d}s"
        if seconds < 86_400:
            return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
        return f"{seconds // 86_400}d {seconds % 86_400 // 3600:02d}h"
    if form in ("terse", "full") and seconds < 60:
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
        if form == "full":
            return f"{hours} h {minutes:02d} min"
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    if form == "full":
        return f"{days} d {hours} h {minutes:02d} min"
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
    year: bool = False,
    weekday: bool = True,
    show_zone: bool = False,
) -> str:
    """``moment`` on a clock: ``14:05``, with ``seconds`` ``14:05:09``, with ``day``
    ``Mon 14:05``, with ``date`` ``Mon 07 Dec 14:05`` (with ``year`` ``Mon 07 Dec 2026
    14:05``, without ``weekday`` ``07 Dec 14:05``), with ``show_zone`` ``14:05 CET``.

    ``zone`` is the clock's time zone; None is the viewer's, as the operating system says.
    """
    local = moment.astimezone(zone)
    pattern = "%H:%M:%S" if seconds else "%H:%M"
    if date:
        pattern = ("%a " if weekday else "") + ("%d %b %Y " if year else "%d %b ") + pattern
    elif day:
        pattern = "%a " + pattern
    if show_zone:
        pattern += " %Z"
    return local.strftime(pattern)


def file_stamp(moment: datetime, zone: tzinfo | None = None) -> str:
    """``20261207-1405``: ``moment`` to the minute on ``zone``'s clock (None: the
    viewer's), for a file name that sorts by time."""
    return moment.astimezone(zone).strftime("%Y%m%d-%H%M")


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
