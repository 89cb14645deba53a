"""The operator's alert rules: what alarms, how often it alarms again, what is muted.

The ``[alerts]`` table of settings.toml, read into :class:`AlertRules` with
every key checked; :mod:`console.domain.alerts` applies them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from console.domain.errors import InvalidValue
from console.domain.severity import Severity

ALL_SEVERITIES: frozenset[Severity] = frozenset(Severity)
_SEVERITY_CODES = [s.code for s in Severity]

MIN_REPEAT_SECONDS = 10
"""Re-alarming more often than this would drown the floor in noise."""
MAX_REPEAT_SECONDS = 24 * 3600

_KEYS = (
    "enabled",
    "sound",
    "notify",
    "new_incident",
    "sla_warning",
    "sla_breach",
    "muted",
    "repeat_seconds",
)


def _default_repeats() -> dict[Severity, timedelta]:
    return {Severity.SEV1: timedelta(seconds=60), Severity.SEV2: timedelta(minutes=5)}


@dataclass(frozen=True)
class AlertRules:
    """What alarms, how often it alarms again, and what is muted (see :mod:`console.domain.alerts`).

    ``repeat_every`` maps a severity to its re-alarm interval; a severity not
    in it alarms once per condition.
    """

    enabled: bool = True
    sound: bool = True
    notify: bool = True
    new_incident: frozenset[Severity] = frozenset({Severity.SEV1, Severity.SEV2})
    sla_warning: frozenset[Severity] = ALL_SEVERITIES
    sla_breach: frozenset[Severity] = ALL_SEVERITIES
    repeat_every: Mapping[Severity, timedelta] = field(default_factory=_default_repeats)
    muted: frozenset[Severity] = frozenset()

    def __post_init__(self) -> None:
        for name in ("new_incident", "sla_warning", "sla_breach", "muted"):
            object.__setattr__(self, name, frozenset(Severity.of(s) for s in getattr(self, name)))
        repeats: dict[Severity, timedelta] = {}
        for severity, every in self.repeat_every.items():
            if not isinstance(every, timedelta) or every < timedelta(seconds=MIN_REPEAT_SECONDS):
                raise InvalidValue(
                    f"repeat_every {Severity.of(severity).code}",
                    every,
                    f"a duration of at least {MIN_REPEAT_SECONDS} s",
                )
            repeats[Severity.of(severity)] = every
        # A private copy: a caller's dict changed later must not change the rules.
        object.__setattr__(self, "repeat_every", repeats)

    def __hash__(self) -> int:
        # ``repeat_every`` is a dict; hash its contents so rules can sit in a frozen Settings.
        return hash(
            (
                self.enabled,
                self.sound,
                self.notify,
                self.new_incident,
                self.sla_warning,
                self.sla_breach,
                tuple(sorted(self.repeat_every.items())),
                self.muted,
            )
        )

    def repeat_interval(self, severity: Severity) -> timedelta | None:
        """How often an unacknowledged alarm of ``severity`` sounds again (None: once)."""
        return self.repeat_every.get(severity)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object], where: str = "alerts") -> AlertRules:
        """Build from the ``[alerts]`` table; every error names the key and the allowed values.

        An unknown key raises ``InvalidValue(f"{where}.{key}", key, known_keys)``
        (the same convention as the SLA calendar, so the settings loader can
        say "unknown key").
        """
        if not isinstance(raw, Mapping):
            raise InvalidValue(where, raw, "a table with " + ", ".join(_KEYS))
        unknown = sorted(str(k) for k in raw if k not in _KEYS)
        if unknown:
            raise InvalidValue(f"{where}.{unknown[0]}", unknown[0], _KEYS)
        defaults = cls()

        def flag(name: str, default: bool) -> bool:
            return _flag(raw.get(name, default), f"{where}.{name}")

        def severities(name: str, default: frozenset[Severity]) -> frozenset[Severity]:
            return _severities(raw[name], f"{where}.{name}") if name in raw else default

        repeats = dict(defaults.repeat_every)
        if "repeat_seconds" in raw:
            repeats = _repeats(raw["repeat_seconds"], f"{where}.repeat_seconds")
        return cls(
            enabled=flag("enabled", defaults.enabled),
            sound=flag("sound", defaults.sound),
            notify=flag("notify", defaults.notify),
            new_incident=severities("new_incident", defaults.new_incident),
            sla_warning=severities("sla_warning", defaults.sla_warning),
            sla_breach=severities("sla_breach", defaults.sla_breach),
            repeat_every=repeats,
            muted=severities("muted", defaults.muted),
        )


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue(name, value, ["true", "false"])
    return value


def _severities(value: object, name: str) -> frozenset[Severity]:
    if not isinstance(value, list | tuple | frozenset | set):
        raise InvalidValue(name, value, 'a list of severities such as ["SEV-1", "SEV-2"]')
    result: set[Severity] = set()
    for item in value:
        try:
            result.add(Severity.of(item))
        except InvalidValue:
            raise InvalidValue(name, item, _SEVERITY_CODES) from None
    return frozenset(result)


def _repeats(value: object, name: str) -> dict[Severity, timedelta]:
    if not isinstance(value, Mapping):
        raise InvalidValue(name, value, "a table of severity = seconds, e.g. SEV-1 = 60")
    repeats: dict[Severity, timedelta] = {}
    for key, seconds in value.items():
        try:
            severity = Severity.of(key)
        except InvalidValue:
            # Same shape as an unknown key, so the message says "unknown key".
            raise InvalidValue(f"{name}.{key}", key, _SEVERITY_CODES) from None
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int)
            or not (seconds == 0 or MIN_REPEAT_SECONDS <= seconds <= MAX_REPEAT_SECONDS)
        ):
            raise InvalidValue(
                f"{name}.{severity.code}",
                seconds,
                f"0 (alarm once) or a whole number of seconds from {MIN_REPEAT_SECONDS} "
                f"to {MAX_REPEAT_SECONDS}",
            )
        if seconds:
            repeats[severity] = timedelta(seconds=seconds)
    return repeats
