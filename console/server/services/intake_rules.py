"""Alert intake's settings: how an alert becomes an incident.

Read from a TOML file (``noc-console serve --intake-config intake.toml``, see
docs/intake.md); without one, the defaults below apply. The mapping is
checked twice: :func:`load_intake_config` refuses a malformed file, a bad
template or a bad matcher; :func:`check_against_directory` (at start-up, once
the database is open) refuses a rule that names a service or a team the
directory does not know.

Templates are rendered by Jinja2's ``SandboxedEnvironment``: they see
``labels``, ``annotations``, ``status`` and ``integration`` and nothing of the
server; label values are data, never template source.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

IMPACTS = ("high", "medium", "low")
GROUPINGS = ("alert", "group")

DEFAULT_TITLE = (
    "{{ annotations.summary or labels.alertname or 'Monitoring alert' }}"
    "{% if labels.instance and not annotations.summary %} on {{ labels.instance }}{% endif %}"
)
DEFAULT_DESCRIPTION = (
    "{{ annotations.description or '' }}"
    "{% if annotations.runbook_url %}\nRunbook: {{ annotations.runbook_url }}{% endif %}"
)
DEFAULT_SEVERITY_MAP: dict[str, tuple[str, str]] = {
    "critical": ("high", "high"),
    "page": ("high", "high"),
    "error": ("high", "medium"),
    "major": ("high", "medium"),
    "warning": ("medium", "medium"),
    "minor": ("medium", "low"),
    "info": ("low", "low"),
}


class IntakeConfigError(ValueError):
    """The intake settings cannot be used; the message names the place and the fix."""


@dataclass(frozen=True)
class Matcher:
    """``label = value`` (exact) or ``label =~ regex`` (the whole value, like Alertmanager)."""

    label: str
    value: str
    regex: re.Pattern[str] | None = None
    negate: bool = False

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.label, "")
        hit = self.regex.fullmatch(actual) is not None if self.regex else actual == self.value
        return hit != self.negate


@dataclass(frozen=True)
class Rule:
    """Alerts whose labels match every matcher get these fields (None: the default's)."""

    name: str
    matchers: tuple[Matcher, ...]
    service: str | None = None
    impact: str | None = None
    urgency: str | None = None
    category: str | None = None
    subcategory: str | None = None
    team: str | None = None
    title: str | None = None
    description: str | None = None

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)


@dataclass(frozen=True)
class Silence:
    """A maintenance window: matching alerts are recorded but open nothing."""

    name: str
    matchers: tuple[Matcher, ...]
    starts: datetime | None = None
    ends: datetime | None = None

    def active(self, labels: Mapping[str, str], now: datetime) -> bool:
        if self.starts is not None and now < self.starts:
            return False
        if self.ends is not None and now >= self.ends:
            return False
        return all(m.matches(labels) for m in self.matchers)


@dataclass(frozen=True)
class IntakeConfig:
    """Everything alert intake decides by; the defaults work with no file at all."""

    # "alert": one incident per alert fingerprint; "group": one per Alertmanager group.
    grouping: Literal["alert", "group"] = "alert"
    # Resolve the incident when its alert resolves, unless a person acted on it.
    auto_resolve: bool = True
    # Labels whose value names the service (its id or name), tried in order.
    service_labels: tuple[str, ...] = ("service", "job")
    default_service: str | None = None
    default_impact: str = "medium"
    default_urgency: str = "medium"
    default_category: str | None = None
    severity_label: str = "severity"
    severity_map: Mapping[str, tuple[str, str]] = field(
        default_factory=lambda: dict(DEFAULT_SEVERITY_MAP)
    )
    category_label: str | None = "category"
    title: str = DEFAULT_TITLE
    description: str = DEFAULT_DESCRIPTION
    rules: tuple[Rule, ...] = ()
    silences: tuple[Silence, ...] = ()
    # Flapping: more than ``flap_threshold`` fire/resolve changes within
    # ``flap_window_s`` fold into one incident marked flapping.
    flap_threshold: int = 3
    flap_window_s: float = 30 * 60.0
    # Repeats of an open alert reach the change feed at most this often per
    # incident (the count is kept exactly; a timer publishes the rest).
    repeat_publish_s: float = 5.0
    # Most alerts one notification may carry (Alertmanager's max_alerts).
    max_alerts: int = 1000

    def rule_for(self, labels: Mapping[str, str]) -> Rule | None:
        """The first rule whose matchers all hold, or None."""
        for rule in self.rules:
            if rule.matches(labels):
                return rule
        return None

    def silenced_by(self, labels: Mapping[str, str], now: datetime) -> Silence | None:
        for silence in self.silences:
            if silence.active(labels, now):
                return silence
        return None

    def impact_urgency(self, labels: Mapping[str, str], rule: Rule | None) -> tuple[str, str]:
        """The rule's impact/urgency, else the severity label's mapping, else the default."""
        impact, urgency = self.default_impact, self.default_urgency
        mapped = self.severity_map.get(labels.get(self.severity_label, "").strip().lower())
        if mapped is not None:
            impact, urgency = mapped
        if rule is not None:
            impact = rule.impact or impact
            urgency = rule.urgency or urgency
        return impact, urgency


# -- templates --------------------------------------------------------------


def _environment() -> Any:
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)


_compiled: dict[str, Any] = {}


def compile_template(source: str, where: str) -> Any:
    """The compiled template (cached); :class:`IntakeConfigError` naming ``where`` if bad."""
    template = _compiled.get(source)
    if template is None:
        from jinja2 import TemplateError

        try:
            template = _environment().from_string(source)
        except TemplateError as exc:
            raise IntakeConfigError(f"{where}: the template does not parse: {exc}") from None
        _compiled[source] = template
    return template


def render(source: str, context: Mapping[str, Any]) -> str:
    """Render a checked template; a failure at render time raises ``ValueError``."""
    from jinja2 import TemplateError
    from jinja2.sandbox import SecurityError

    try:
        return str(compile_template(source, "template").render(**context))
    except (TemplateError, SecurityError, TypeError, ValueError, ArithmeticError) as exc:
        raise ValueError(str(exc)) from exc


# -- the file -----------------------------------------------------------------


def _matchers(raw: object, where: str) -> tuple[Matcher, ...]:
    if not isinstance(raw, Mapping) or not raw:
        raise IntakeConfigError(
            f'{where}: match must be a table of label matchers, e.g. match = {{ team = "db" }}'
        )
    out: list[Matcher] = []
    for label, value in raw.items():
        if not isinstance(value, str):
            raise IntakeConfigError(f"{where}: match.{label} must be a string")
        negate = value.startswith("!")
        text = value[1:] if negate else value
        if text.startswith("~"):
            try:
                pattern = re.compile(text[1:])
            except re.error as exc:
                raise IntakeConfigError(
                    f"{where}: match.{label}: {text[1:]!r} is not a regular expression ({exc})"
                ) from None
            out.append(Matcher(str(label), text, pattern, negate))
        else:
            out.append(Matcher(str(label), text, None, negate))
    return tuple(out)


def _choice(value: object, allowed: tuple[str, ...], where: str) -> str:
    if not isinstance(value, str) or value.strip().lower() not in allowed:
        raise IntakeConfigError(f"{where}: {value!r} is not one of {', '.join(allowed)}")
    return value.strip().lower()


def _optional_text(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise IntakeConfigError(f"{where}: {key} must be a non-empty string")
    return value.strip()


def _instant(value: object, where: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    raise IntakeConfigError(
        f"{where}: give a date and time with its zone, e.g. 2026-12-24T22:00:00Z"
    )


_RULE_KEYS = frozenset(
    {
        "name",
        "match",
        "service",
        "impact",
        "urgency",
        "category",
        "subcategory",
        "team",
        "title",
        "description",
    }
)
_TOP_KEYS = frozenset(
    {
        "grouping",
        "auto_resolve",
        "service_labels",
        "default_service",
        "default_impact",
        "default_urgency",
        "default_category",
        "severity_label",
        "severity_map",
        "category_label",
        "title",
        "description",
        "rules",
        "silences",
        "flap_threshold",
        "flap_window_minutes",
        "repeat_publish_seconds",
        "max_alerts",
    }
)


def _unknown_keys(table: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise IntakeConfigError(
            f"{where}: unknown setting {unknown[0]!r}; known: {', '.join(sorted(known))}"
        )


def _rule(raw: object, index: int) -> Rule:
    where = f"[[intake.rules]] #{index + 1}"
    if not isinstance(raw, Mapping):
        raise IntakeConfigError(f"{where}: must be a table")
    _unknown_keys(raw, _RULE_KEYS, where)
    name = str(raw.get("name") or f"rule {index + 1}")
    where = f"rule {name!r}"
    impact = raw.get("impact")
    urgency = raw.get("urgency")
    rule = Rule(
        name=name,
        matchers=_matchers(raw.get("match"), where),
        service=_optional_text(raw, "service", where),
        impact=None if impact is None else _choice(impact, IMPACTS, f"{where}: impact"),
        urgency=None if urgency is None else _choice(urgency, IMPACTS, f"{where}: urgency"),
        category=_optional_text(raw, "category", where),
        subcategory=_optional_text(raw, "subcategory", where),
        team=_optional_text(raw, "team", where),
        title=_optional_text(raw, "title", where),
        description=raw.get("description"),
    )
    for key in ("title", "description"):
        source = getattr(rule, key)
        if source is not None:
            if not isinstance(source, str):
                raise IntakeConfigError(f"{where}: {key} must be a template string")
            compile_template(source, f"{where}: {key}")
    return rule


def _silence(raw: object, index: int) -> Silence:
    where = f"[[intake.silences]] #{index + 1}"
    if not isinstance(raw, Mapping):
        raise IntakeConfigError(f"{where}: must be a table")
    _unknown_keys(raw, frozenset({"name", "match", "starts", "ends"}), where)
    name = str(raw.get("name") or f"silence {index + 1}")
    silence = Silence(
        name=name,
        matchers=_matchers(raw.get("match"), f"silence {name!r}"),
        starts=_instant(raw.get("starts"), f"silence {name!r}: starts"),
        ends=_instant(raw.get("ends"), f"silence {name!r}: ends"),
    )
    if silence.starts and silence.ends and silence.ends <= silence.starts:
        raise IntakeConfigError(f"silence {name!r}: ends must come after starts")
    return silence


def _number(table: Mapping[str, Any], key: str, low: float, high: float, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise IntakeConfigError(f"[intake] {key} must be a number from {low:g} to {high:g}")
    return float(value)


def config_from_table(table: Mapping[str, Any]) -> IntakeConfig:
    """An :class:`IntakeConfig` from the ``[intake]`` table of a settings file."""
    _unknown_keys(table, _TOP_KEYS, "[intake]")
    base = IntakeConfig()
    severity_map = dict(base.severity_map)
    raw_map = table.get("severity_map", {})
    if not isinstance(raw_map, Mapping):
        raise IntakeConfigError(
            '[intake] severity_map must be a table, e.g. critical = "high/high"'
        )
    for value, pair in raw_map.items():
        parts = pair.split("/") if isinstance(pair, str) else []
        if len(parts) != 2:
            raise IntakeConfigError(
                f'[intake] severity_map.{value}: write impact/urgency, e.g. "high/medium"'
            )
        severity_map[str(value).lower()] = (
            _choice(parts[0], IMPACTS, f"severity_map.{value}: impact"),
            _choice(parts[1], IMPACTS, f"severity_map.{value}: urgency"),
        )
    labels = table.get("service_labels", list(base.service_labels))
    if not isinstance(labels, list) or not all(isinstance(x, str) and x for x in labels):
        raise IntakeConfigError('[intake] service_labels must be a list of label names ["job"]')
    rules = table.get("rules", [])
    silences = table.get("silences", [])
    if not isinstance(rules, list) or not isinstance(silences, list):
        raise IntakeConfigError("[intake] rules and silences are arrays of tables ([[...]])")
    auto_resolve = table.get("auto_resolve", True)
    if not isinstance(auto_resolve, bool):
        raise IntakeConfigError("[intake] auto_resolve must be true or false")
    config = IntakeConfig(
        grouping=_choice(table.get("grouping", "alert"), GROUPINGS, "[intake] grouping"),  # type: ignore[arg-type]
        auto_resolve=auto_resolve,
        service_labels=tuple(labels),
        default_service=_optional_text(table, "default_service", "[intake]"),
        default_impact=_choice(table.get("default_impact", "medium"), IMPACTS, "default_impact"),
        default_urgency=_choice(table.get("default_urgency", "medium"), IMPACTS, "default_urgency"),
        default_category=_optional_text(table, "default_category", "[intake]"),
        severity_label=str(table.get("severity_label", base.severity_label)),
        severity_map=severity_map,
        category_label=_optional_text(table, "category_label", "[intake]") or None,
        title=str(table.get("title", base.title)),
        description=str(table.get("description", base.description)),
        rules=tuple(_rule(raw, i) for i, raw in enumerate(rules)),
        silences=tuple(_silence(raw, i) for i, raw in enumerate(silences)),
        flap_threshold=int(_number(table, "flap_threshold", 1, 1000, base.flap_threshold)),
        flap_window_s=_number(table, "flap_window_minutes", 1, 24 * 60, 30) * 60,
        repeat_publish_s=_number(table, "repeat_publish_seconds", 0, 3600, base.repeat_publish_s),
        max_alerts=int(_number(table, "max_alerts", 1, 10_000, base.max_alerts)),
    )
    compile_template(config.title, "[intake] title")
    compile_template(config.description, "[intake] description")
    return config


def load_intake_config(path: Path) -> IntakeConfig:
    """Read ``path`` (TOML with an ``[intake]`` table); :class:`IntakeConfigError` if unusable."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise IntakeConfigError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise IntakeConfigError(f"{path}: not valid TOML ({exc})") from None
    table = document.get("intake")
    if not isinstance(table, Mapping):
        raise IntakeConfigError(f"{path}: no [intake] table; see docs/intake.md for an example")
    try:
        return config_from_table(table)
    except IntakeConfigError as exc:
        raise IntakeConfigError(f"{path}: {exc}") from None


@dataclass(frozen=True)
class DirectoryNames:
    """The ids and names of the directory's services and teams, for checking and resolving."""

    services: Mapping[str, str]  # lower-cased id or name → service id
    service_teams: Mapping[str, str]  # service id → owner team id
    teams: frozenset[str]

    def service_id(self, text: str | None) -> str | None:
        return None if text is None else self.services.get(text.strip().lower())


def check_against_directory(config: IntakeConfig, names: DirectoryNames) -> None:
    """Refuse a config whose rules name a service or a team the directory does not have."""
    known = ", ".join(sorted(set(names.services.values()))) or "none yet"
    for where, service in [("default_service", config.default_service)] + [
        (f"rule {rule.name!r}", rule.service) for rule in config.rules
    ]:
        if service is not None and names.service_id(service) is None:
            raise IntakeConfigError(
                f"{where} names the service {service!r}, which is not in the directory "
                f"(known services: {known}); add it with PUT /v1/services/<id> or fix the rule"
            )
    for rule in config.rules:
        if rule.team is not None and rule.team not in names.teams:
            teams = ", ".join(sorted(names.teams)) or "none yet"
            raise IntakeConfigError(
                f"rule {rule.name!r} routes to the team {rule.team!r}, which is not in the "
                f"directory (known teams: {teams})"
            )
