"""The operator's settings: ``settings.toml`` in the config folder.

A missing file means the defaults. Every key is checked: an unknown key, a
wrong type or a value outside its allowed set raises :class:`SettingsError`
naming the file, the key and what is allowed, so a typo is reported instead of
silently ignored. Example::

    theme = "dark"                  # light | dark | wall
    poll_interval_seconds = 15      # how often to ask the backends for changes
    backends = ["https://noc.example.com"]
    operator = "lfernandez"         # you: a contact id or name ("mine", "take", note author)

    [sla.calendar]                  # business hours for business-day SLA targets
    time_zone = "Europe/Madrid"
    weekdays = ["mon", "tue", "wed", "thu", "fri"]
    day_start = "08:00"
    day_end = "18:00"
    holidays = ["2026-12-25", "2027-01-01"]

    [alerts]                        # desktop notifications and sounds (console.domain.alerts)
    sound = true                    # false: notifications only, never a sound
    new_incident = ["SEV-1", "SEV-2"]
    muted = []                      # severities that notify without a sound
    [alerts.repeat_seconds]         # re-alarm until acknowledged; 0 = once
    SEV-1 = 60
    SEV-2 = 300

    [major]                         # major incidents (docs/major-incidents.md)
    share_threshold = 25            # suggest declaring above this % of users affected

    [wall]                          # noc-console --wall
    rotate_seconds = 15             # how long each panel stays on the wall
    services = ["payments-api"]     # key services for "on call now" (default: critical ones)
    metrics = false                 # true: a rotating page of this week's SLA and the backlog

    [major]                         # major incident command (docs/major-incidents.md)
    extra_roles = ["Scribe"]        # beside Incident Commander, Technical and Communications Lead
    [major.cadence_minutes]         # internal (and customer) updates every … minutes
    SEV-1 = 15
    SEV-2 = 30
    [major.templates.SEV-1]         # Jinja2 (sandboxed); fields: title service severity impact
    internal = "[{{ severity }}] {{ service }}: {{ status }}. Next update {{ next_update }}."
                                    # … started status doing next_update ("default" for all)

    [rt]                            # a Request Tracker backend (rt+https://…; docs/rt.md)
    queue = "NOC"                   # the queue to work (--queue overrides it)
    poll_interval_seconds = 10      # RT has no push: how often to ask it for changes
    directory = "https://noc.example.com"  # escalation matrix, on-call: our server or a file
    [rt.custom_fields]              # which RT custom field holds which incident field
    impact = "Impact"
    [rt.statuses]                   # RT status = console state (custom lifecycles)
    "waiting on vendor" = "on_hold"

A connector's table (``[rt]``) is kept raw here and checked by its connector
(:mod:`console.connectors.rt.settings`) when that backend is opened, with the
same kind of error naming the file and the key.

The console writes back only what the operator changed: the ``theme`` line when
one is picked in the View menu, and the keys changed in the Settings dialog
(:func:`save_settings`, through tomlkit, which keeps every comment, blank line
and key order of the file). What would not load is never written.
"""

from __future__ import annotations

import contextlib
import enum
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from console.config import paths
from console.domain.alert_rules import AlertRules
from console.domain.calendar import BusinessCalendar
from console.domain.errors import InvalidValue

FILE_NAME = "settings.toml"
MIN_POLL_SECONDS = 1
MAX_POLL_SECONDS = 3600

# The connectors' tables, kept raw here: each connector parses its own
# (console.connectors.registry knows which table is whose).
CONNECTOR_TABLES = ("rt",)
_TOP_KEYS = (
    "theme",
    "poll_interval_seconds",
    "backends",
    "sla",
    "alerts",
    "wall",
    "major",
    "operator",
    *CONNECTOR_TABLES,
)
_SLA_KEYS = ("calendar",)


class Theme(enum.Enum):
    """The console's look: ``wall`` is big, high-contrast text for the NOC wall display."""

    LIGHT = "light"
    DARK = "dark"
    WALL = "wall"

    @property
    def label(self) -> str:
        return {"light": "Light", "dark": "Dark", "wall": "Wall display"}[self.value]


@dataclass(frozen=True)
class WallSettings:
    """``[wall]``: the wall display (``noc-console --wall``)."""

    rotate_seconds: int = 15
    # Key services for the "on call now" panel, in this order; empty: the critical ones.
    services: tuple[str, ...] = ()
    # A metrics page in the rotation: SLA compliance this week per severity, backlog by age.
    metrics: bool = False


@dataclass(frozen=True)
class MajorSettings:
    """``[major]``: major incident command (docs/major-incidents.md).

        ``cadence_minutes`` maps a severity number to the minutes between internal
        (and customer) updates; ``extra_roles`` are the site's roles beside the
        three standard ones; ``templates`` maps ``"SEV-1"`` … ``"SEV-4"`` or
        ``"default"`` to audience → Jinja2 template text; ``share_threshold`` is the
    share of users affected (%) above which triage suggests declaring. The templates are checked
        here for shape only; :func:`console.services.major.check_templates` refuses
        an unknown field or a loop (the Settings dialog runs it before saving).
    """

    cadence_minutes: Mapping[int, int] = field(default_factory=lambda: {1: 15, 2: 30})
    extra_roles: tuple[str, ...] = ()
    templates: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Suggest declaring a major incident above this share of users affected (%).
    share_threshold: int = 25


class SettingsError(ValueError):
    """``settings.toml`` cannot be read or holds a value the console does not accept."""

    def __init__(self, path: Path, key: str | None, problem: str, allowed: Sequence[str] = ()):
        self.path = path
        self.key = key
        self.allowed = tuple(allowed)
        message = f"settings file {path}"
        if key:
            message += f", key '{key}'"
        message += f": {problem}"
        if self.allowed:
            message += "; allowed: " + ", ".join(self.allowed)
        super().__init__(message)


@dataclass(frozen=True)
class Settings:
    """The validated settings; the defaults are what a missing file means."""

    theme: Theme = Theme.LIGHT
    poll_interval: timedelta = timedelta(seconds=15)
    backends: tuple[str, ...] = ()
    sla_calendar: BusinessCalendar | None = None  # None: the SLA policy's own default
    path: Path | None = None  # the file these came from, for messages
    operator: str | None = None  # who "mine" means: a contact id or name
    alerts: AlertRules = field(default_factory=AlertRules)
    wall: WallSettings = field(default_factory=WallSettings)
    major: MajorSettings = field(default_factory=MajorSettings)
    # The connectors' own tables ([rt] …), raw: each connector parses its own
    # (console.connectors.registry knows which table is whose).
    tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def table(self, name: str) -> Mapping[str, Any]:
        """A connector's table as the file has it (empty when the file has none)."""
        return self.tables.get(name, {})


def settings_path(config_dir: str | Path | None = None) -> Path:
    """Where ``settings.toml`` lives: ``--config-dir``, the environment, or the platform default."""
    return paths.config_dir(config_dir) / FILE_NAME


def load_settings(path: Path) -> Settings:
    """Read and validate ``path``; a missing file gives the defaults."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings(path=path)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(path, None, f"not valid TOML ({exc})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(path, None, f"cannot be read ({exc})") from exc
    return parse_settings(raw, path)


def parse_settings(raw: Mapping[str, Any], path: Path) -> Settings:
    """Validate an already parsed settings table (``path`` is only used in messages)."""
    _no_unknown_keys(raw, _TOP_KEYS, "", path)
    theme = Settings.theme
    if "theme" in raw:
        value = raw["theme"]
        allowed = [t.value for t in Theme]
        if value not in allowed:
            raise SettingsError(path, "theme", f"{value!r} is not allowed", allowed)
        theme = Theme(value)
    poll = Settings.poll_interval
    if "poll_interval_seconds" in raw:
        value = raw["poll_interval_seconds"]
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not MIN_POLL_SECONDS <= value <= MAX_POLL_SECONDS:
            raise SettingsError(
                path,
                "poll_interval_seconds",
                f"{value!r} is not allowed",
                [f"a number of seconds from {MIN_POLL_SECONDS} to {MAX_POLL_SECONDS}"],
            )
        poll = timedelta(seconds=value)
    backends = _backends(raw.get("backends", []), path)
    calendar = None
    if "sla" in raw:
        sla = raw["sla"]
        if not isinstance(sla, dict):
            raise SettingsError(path, "sla", f"{sla!r} is not a table", ["a [sla] table"])
        _no_unknown_keys(sla, _SLA_KEYS, "sla.", path)
        if "calendar" in sla:
            try:
                calendar = BusinessCalendar.from_mapping(sla["calendar"], where="sla.calendar")
            except InvalidValue as exc:
                # The calendar already names the field (sla.calendar.day_end)
                # and the allowed values; only the file is added here.
                unknown_key = exc.field.endswith(f".{exc.value}")
                problem = "unknown key" if unknown_key else f"{exc.value!r} is not allowed"
                raise SettingsError(path, exc.field, problem, exc.allowed) from exc
    return Settings(
        theme=theme,
        poll_interval=poll,
        backends=backends,
        sla_calendar=calendar,
        path=path,
        operator=_operator(raw.get("operator"), path),
        alerts=_alerts(raw.get("alerts", {}), path),
        wall=_wall(raw.get("wall", {}), path),
        major=_major(raw.get("major", {}), path),
        tables={name: _table(raw[name], name, path) for name in CONNECTOR_TABLES if name in raw},
    )


def save_theme(path: Path, theme: Theme) -> None:
    """Remember the chosen theme, changing only the ``theme`` line of the file.

    A full rewrite would drop the operator's comments and layout, so the line
    is replaced in place (or added before the first table) and everything else is kept.
    """
    line = f'theme = "{theme.value}"'
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(line + "\n", encoding="utf-8")
        return
    lines = text.splitlines()
    insert_at = len(lines)
    for number, current in enumerate(lines):
        if re.match(r"^\s*theme\s*=", current):
            lines[number] = line
            break
        if current.lstrip().startswith("["):
            # Past the top-level keys and no theme yet: add it just before the
            # first table, where TOML still reads it as a top-level key.
            insert_at = number
            break
    if line not in lines:
        lines.insert(insert_at, line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def save_settings(path: Path, updates: Mapping[str, object]) -> Settings:
    """Write ``updates`` into ``path`` keeping its comments and layout; the new settings.

    ``updates`` maps dotted keys (``"operator"``, ``"alerts.sound"``,
    ``"alerts.repeat_seconds.SEV-1"``, ``"wall.services"``) to values; None
    removes the key (back to the default). The result is validated exactly
    as :func:`load_settings` would, and nothing is written when it would not
    load: :class:`SettingsError` says which key and what is allowed. The file
    is replaced atomically (a crash leaves the old or the new file, never half).
    """
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(path, None, f"cannot be read ({exc})") from exc
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise SettingsError(path, None, f"not valid TOML ({exc})") from exc
    for dotted, value in updates.items():
        *tables, key = _split_key(dotted)
        here: Any = document
        for name in tables:
            if name not in here:
                if value is None:
                    break
                here[name] = tomlkit.table()
            here = here[name]
        else:
            if value is None:
                if key in here:
                    del here[key]
            else:
                here[key] = list(value) if isinstance(value, tuple) else value
    settings = parse_settings(document.unwrap(), path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".saving")
    try:
        temporary.write_text(tomlkit.dumps(document), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return settings


def _split_key(dotted: str) -> list[str]:
    """``alerts.repeat_seconds.SEV-1`` → its table path and key (no quoting needed here)."""
    return [part for part in dotted.split(".") if part]


def _no_unknown_keys(raw: Mapping[str, Any], known: Sequence[str], prefix: str, path: Path) -> None:
    for key in raw:
        if key not in known:
            raise SettingsError(path, prefix + key, "unknown key", [prefix + k for k in known])


def _operator(value: object, path: Path) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        allowed = ['your contact id or name, e.g. "lfernandez"']
        raise SettingsError(path, "operator", f"{value!r} is not allowed", allowed)
    return value.strip()


_BACKEND_SCHEMES = ("http", "https", "rt+http", "rt+https")


def _backends(value: object, path: Path) -> tuple[str, ...]:
    allowed = ['a list of backend URLs such as ["https://noc.example.com"]']
    if not isinstance(value, list):
        raise SettingsError(path, "backends", f"{value!r} is not a list", allowed)
    urls: list[str] = []
    for position, item in enumerate(value):
        parts = urlsplit(item) if isinstance(item, str) else None
        if parts is None or parts.scheme not in _BACKEND_SCHEMES or not parts.netloc:
            raise SettingsError(
                path,
                f"backends[{position}]",
                f"{item!r} is not a URL",
                ["http://… or https://…", "rt+https://… (Request Tracker)"],
            )
        urls.append(item.rstrip("/"))
    return tuple(urls)


MIN_WALL_ROTATE_SECONDS = 5
MAX_WALL_ROTATE_SECONDS = 600
_WALL_KEYS = ("rotate_seconds", "services", "metrics")


def _alerts(value: object, path: Path) -> AlertRules:
    if not isinstance(value, dict):
        raise SettingsError(path, "alerts", f"{value!r} is not a table", ["an [alerts] table"])
    try:
        return AlertRules.from_mapping(value, where="alerts")
    except InvalidValue as exc:
        # The rules name the key (alerts.repeat_seconds.SEV-1) and the allowed
        # values; only the file is added here.
        unknown_key = exc.field.endswith(f".{exc.value}")
        problem = "unknown key" if unknown_key else f"{exc.value!r} is not allowed"
        raise SettingsError(path, exc.field, problem, exc.allowed) from exc


def _major_share(share: object, path: Path) -> int:
    """``[major] share_threshold``: a whole percent from 0 to 100 (default 25)."""
    if isinstance(share, bool) or not isinstance(share, int) or not 0 <= share <= 100:
        raise SettingsError(
            path,
            "major.share_threshold",
            f"{share!r} is not allowed",
            ["a whole percent from 0 to 100, e.g. 25"],
        )
    return share


def _wall(value: object, path: Path) -> WallSettings:
    if not isinstance(value, dict):
        raise SettingsError(path, "wall", f"{value!r} is not a table", ["a [wall] table"])
    _no_unknown_keys(value, _WALL_KEYS, "wall.", path)
    rotate = value.get("rotate_seconds", WallSettings.rotate_seconds)
    if (
        isinstance(rotate, bool)
        or not isinstance(rotate, int)
        or not MIN_WALL_ROTATE_SECONDS <= rotate <= MAX_WALL_ROTATE_SECONDS
    ):
        raise SettingsError(
            path,
            "wall.rotate_seconds",
            f"{rotate!r} is not allowed",
            [f"whole seconds from {MIN_WALL_ROTATE_SECONDS} to {MAX_WALL_ROTATE_SECONDS}"],
        )
    services = value.get("services", [])
    if not isinstance(services, list) or not all(
        isinstance(s, str) and s.strip() for s in services
    ):
        raise SettingsError(
            path,
            "wall.services",
            f"{services!r} is not allowed",
            ['a list of service ids such as ["payments-api", "checkout"]'],
        )
    metrics = value.get("metrics", WallSettings.metrics)
    if not isinstance(metrics, bool):
        raise SettingsError(
            path,
            "wall.metrics",
            f"{metrics!r} is not allowed",
            ["true (show the metrics page on the wall) or false"],
        )
    return WallSettings(
        rotate_seconds=rotate, services=tuple(s.strip() for s in services), metrics=metrics
    )


_MAJOR_KEYS = ("cadence_minutes", "extra_roles", "templates", "share_threshold")
MAX_CADENCE_MINUTES = 240
MAX_TEMPLATE_CHARS = 5000
_SEVERITY_KEYS = ("SEV-1", "SEV-2", "SEV-3", "SEV-4")


def _major(value: object, path: Path) -> MajorSettings:
    from console.domain.major import AUDIENCES, STANDARD_ROLES, cadence_with, role_problem

    if not isinstance(value, dict):
        raise SettingsError(path, "major", f"{value!r} is not a table", ["a [major] table"])
    _no_unknown_keys(value, _MAJOR_KEYS, "major.", path)
    cadence_raw = value.get("cadence_minutes", {})
    if not isinstance(cadence_raw, dict):
        raise SettingsError(
            path, "major.cadence_minutes", f"{cadence_raw!r} is not a table",
            ["a [major.cadence_minutes] table such as SEV-1 = 15"],
        )  # fmt: skip
    _no_unknown_keys(cadence_raw, _SEVERITY_KEYS, "major.cadence_minutes.", path)
    changes: dict[int, int] = {}
    for key, minutes in cadence_raw.items():
        if isinstance(minutes, bool) or not isinstance(minutes, int):
            minutes_ok = False
        else:
            minutes_ok = 0 <= minutes <= MAX_CADENCE_MINUTES
        if not minutes_ok:
            raise SettingsError(
                path,
                f"major.cadence_minutes.{key}",
                f"{minutes!r} is not allowed",
                [f"whole minutes from 1 to {MAX_CADENCE_MINUTES}, or 0 for no regular updates"],
            )
        changes[int(key.removeprefix("SEV-"))] = minutes
    cadence = cadence_with(changes)  # a severity left out keeps its default
    roles = value.get("extra_roles", [])
    if not isinstance(roles, list):
        raise SettingsError(
            path, "major.extra_roles", f"{roles!r} is not a list", ['a list such as ["Scribe"]']
        )
    extra: list[str] = []
    for position, role in enumerate(roles):
        problem = role_problem(role) if isinstance(role, str) else "text"
        if problem is not None:
            raise SettingsError(
                path, f"major.extra_roles[{position}]", f"{role!r} is not allowed", [problem]
            )
        name = role.strip()
        if name in STANDARD_ROLES or name in extra:
            raise SettingsError(
                path,
                f"major.extra_roles[{position}]",
                f"{name!r} is listed twice (or is a standard role)",
                ["a role other than " + ", ".join(STANDARD_ROLES)],
            )
        extra.append(name)
    templates_raw = value.get("templates", {})
    if not isinstance(templates_raw, dict):
        raise SettingsError(
            path, "major.templates", f"{templates_raw!r} is not a table",
            ["[major.templates.SEV-1] tables with internal / executive / customer"],
        )  # fmt: skip
    _no_unknown_keys(templates_raw, (*_SEVERITY_KEYS, "default"), "major.templates.", path)
    templates: dict[str, dict[str, str]] = {}
    for severity, by_audience in templates_raw.items():
        where = f"major.templates.{severity}"
        if not isinstance(by_audience, dict):
            raise SettingsError(
                path, where, f"{by_audience!r} is not a table", [f"a [{where}] table"]
            )
        _no_unknown_keys(by_audience, AUDIENCES, where + ".", path)
        for audience, source in by_audience.items():
            if not isinstance(source, str) or not source.strip():
                raise SettingsError(
                    path, f"{where}.{audience}", f"{source!r} is not allowed", ["template text"]
                )
            if len(source) > MAX_TEMPLATE_CHARS:
                raise SettingsError(
                    path,
                    f"{where}.{audience}",
                    f"{len(source)} characters is too long",
                    [f"at most {MAX_TEMPLATE_CHARS} characters"],
                )
        templates[severity] = dict(by_audience)
    share = _major_share(value.get("share_threshold", MajorSettings.share_threshold), path)
    return MajorSettings(
        cadence_minutes=cadence,
        extra_roles=tuple(extra),
        templates=templates,
        share_threshold=share,
    )


def _table(value: object, name: str, path: Path) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise SettingsError(path, name, f"{value!r} is not a table", [f"an [{name}] table"])
    return value
