"""The ``[rt]`` table of settings.toml, parsed by the RT connector itself (:class:`RtSettings`).

:mod:`console.config.settings` keeps the table raw; :func:`rt_settings` checks
every key and raises :class:`~console.config.settings.SettingsError` naming the
file, the key and what is allowed, as the rest of the settings do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from console.config.settings import (
    FILE_NAME,
    MAX_POLL_SECONDS,
    MIN_POLL_SECONDS,
    Settings,
    SettingsError,
)
from console.connectors.rt.fields import CustomFieldNames
from console.connectors.rt.statuses import StatusMap

TABLE = "rt"
KEYS = (
    "queue",
    "poll_interval_seconds",
    "overlap_seconds",
    "directory",
    "commander_group",
    "custom_fields",
    "statuses",
    "set_status",
)


@dataclass(frozen=True)
class RtSettings:
    """``[rt]``: a Request Tracker backend (``rt+https://…``; docs/rt.md).

    ``directory`` is where what RT does not hold (the escalation matrix,
    on-call rotations, services, teams, contacts) comes from: the URL of our
    own server, or the path of a JSON file; None: nowhere (the matrix is
    empty). ``overlap`` is how far each poll looks back before the last
    change it saw (RT's clock has whole seconds).
    """

    queue: str | None = None
    poll_interval: timedelta = timedelta(seconds=10)
    overlap: timedelta = timedelta(seconds=10)
    directory: str | None = None
    commander_group: str | None = "NOC Commanders"
    custom_fields: CustomFieldNames = field(default_factory=CustomFieldNames)
    statuses: StatusMap = field(default_factory=StatusMap)


def rt_settings(settings: Settings) -> RtSettings:
    """The ``[rt]`` table of ``settings``, checked (SettingsError names the file and key)."""
    return parse_rt_settings(settings.table(TABLE), settings.path or Path(FILE_NAME))


def parse_rt_settings(value: object, path: Path) -> RtSettings:
    """Validate a raw ``[rt]`` table (``path`` is only used in messages)."""
    if not isinstance(value, Mapping):
        raise SettingsError(path, TABLE, f"{value!r} is not a table", ["an [rt] table"])
    for key in value:
        if key not in KEYS:
            raise SettingsError(path, f"rt.{key}", "unknown key", [f"rt.{k}" for k in KEYS])

    def text(key: str, allowed: str) -> str | None:
        if key not in value:
            return None
        item = value[key]
        if not isinstance(item, str):
            raise SettingsError(path, f"rt.{key}", f"{item!r} is not allowed", [allowed])
        return item.strip() or None

    def seconds(key: str, default: timedelta, low: float, high: float) -> timedelta:
        if key not in value:
            return default
        item = value[key]
        if isinstance(item, bool) or not isinstance(item, int | float) or not low <= item <= high:
            raise SettingsError(
                path, f"rt.{key}", f"{item!r} is not allowed", [f"seconds from {low:g} to {high:g}"]
            )
        return timedelta(seconds=item)

    def table(key: str) -> dict[str, object]:
        item = value.get(key, {})
        if not isinstance(item, dict):
            raise SettingsError(
                path, f"rt.{key}", f"{item!r} is not a table", [f"an [rt.{key}] table"]
            )
        return item

    try:
        fields = CustomFieldNames.from_mapping(table("custom_fields"), where="rt.custom_fields")
        statuses = StatusMap.from_settings(table("statuses"), table("set_status"), where="rt")
    except ValueError as exc:
        key, _, problem = str(exc).partition(": ")
        raise SettingsError(path, key, problem) from exc
    commander = RtSettings.commander_group
    if "commander_group" in value:
        commander = text("commander_group", 'an RT group\'s name, e.g. "NOC Commanders"')
    return RtSettings(
        queue=text("queue", 'an RT queue\'s name, e.g. "NOC"'),
        poll_interval=seconds(
            "poll_interval_seconds", RtSettings.poll_interval, MIN_POLL_SECONDS, MAX_POLL_SECONDS
        ),
        overlap=seconds("overlap_seconds", RtSettings.overlap, 0, 600),
        directory=text(
            "directory", "our server's URL (\"https://noc.example.com\") or a JSON file's path"
        ),
        commander_group=commander,
        custom_fields=fields,
        statuses=statuses,
    )
