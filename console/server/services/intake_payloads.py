"""Alert intake's request bodies and the notifications made of them.

``AlertmanagerPayload`` is Alertmanager's webhook (version 4) and
``IntakeEvent`` the generic event; both become :class:`Notification` values,
one per alert (or per group, or the one event), which
:mod:`console.server.services.intake` applies. Unknown fields from newer
monitors are ignored; known ones are checked (no NUL, bounded sizes), so bad
input is a 422 naming the field before anything is written.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from console.server.services.intake_rules import IntakeConfig

# -- the request bodies ---------------------------------------------------------

LABEL_VALUE_MAX = 2048
ANNOTATION_VALUE_MAX = 20_000
LABELS_MAX = 64
KEY_MAX = 200


def _clean(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it contains a lone surrogate)") from None
    return value


LabelName = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(_clean)]
LabelValue = Annotated[str, StringConstraints(max_length=LABEL_VALUE_MAX), AfterValidator(_clean)]
AnnotationValue = Annotated[
    str, StringConstraints(max_length=ANNOTATION_VALUE_MAX), AfterValidator(_clean)
]
Labels = Annotated[dict[LabelName, LabelValue], Field(max_length=LABELS_MAX)]
Annotations = Annotated[dict[LabelName, AnnotationValue], Field(max_length=LABELS_MAX)]
Url = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_clean)]


class _Lenient(BaseModel):
    """Monitors add fields over time; unknown ones are ignored, known ones are checked."""

    model_config = ConfigDict(extra="ignore")


class AlertmanagerAlert(_Lenient):
    """One alert of an Alertmanager notification."""

    status: Literal["firing", "resolved"]
    labels: Labels
    annotations: Annotations = Field(default_factory=dict)
    startsAt: datetime | None = None  # noqa: N815 (Alertmanager's spelling)
    endsAt: datetime | None = None  # noqa: N815
    generatorURL: Url = ""  # noqa: N815
    fingerprint: Annotated[str, StringConstraints(max_length=64), AfterValidator(_clean)] = ""


SUPPORTED_VERSION = "4"


class AlertmanagerPayload(_Lenient):
    """Alertmanager's webhook body (``version: "4"``)."""

    version: str = Field(description='the webhook payload version; this server reads "4"')
    groupKey: Annotated[str, StringConstraints(min_length=1, max_length=8192)] = Field(  # noqa: N815
        description="identifies the alert group (deduplicates with grouping = group)"
    )
    truncatedAlerts: int = Field(default=0, ge=0)  # noqa: N815
    status: Literal["firing", "resolved"]
    receiver: Annotated[str, StringConstraints(max_length=200), AfterValidator(_clean)] = ""
    groupLabels: Labels = Field(default_factory=dict)  # noqa: N815
    commonLabels: Labels = Field(default_factory=dict)  # noqa: N815
    commonAnnotations: Annotations = Field(default_factory=dict)  # noqa: N815
    externalURL: Url = ""  # noqa: N815
    alerts: Annotated[list[AlertmanagerAlert], Field(max_length=10_000)]

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: str) -> str:
        if value != SUPPORTED_VERSION:
            raise ValueError(
                f"webhook payload version {value[:20]!r} is not supported; this server reads "
                f'Alertmanager\'s version "{SUPPORTED_VERSION}" (Alertmanager 0.16 and later)'
            )
        return value


EventSeverity = Literal["critical", "error", "warning", "info"]


class IntakeEvent(_Lenient):
    """``POST /v1/intake/events``: one event from any monitor."""

    model_config = ConfigDict(extra="forbid")

    dedup_key: (
        Annotated[str, StringConstraints(min_length=1, max_length=255), AfterValidator(_clean)]
        | None
    ) = Field(
        default=None,
        description="what deduplicates events; required for acknowledge and resolve, "
        "made up (and returned) for a trigger without one",
    )
    action: Literal["trigger", "acknowledge", "resolve"]
    summary: (
        Annotated[str, StringConstraints(min_length=1, max_length=1024), AfterValidator(_clean)]
        | None
    ) = Field(default=None, description="the incident title (required for trigger)")
    source: (
        Annotated[str, StringConstraints(min_length=1, max_length=255), AfterValidator(_clean)]
        | None
    ) = Field(default=None, description="the monitored host or system")
    severity: EventSeverity | None = None
    service: Annotated[str, StringConstraints(max_length=120), AfterValidator(_clean)] | None = None
    details: Annotated[dict[LabelName, Any], Field(max_length=LABELS_MAX)] = Field(
        default_factory=dict, description="free-form details, shown in the description"
    )
    labels: Labels = Field(default_factory=dict, description="extra labels for the mapping rules")
    client_url: Url = Field(default="", description="a link back to the monitor")

    def problem(self) -> str | None:
        if self.action == "trigger" and self.summary is None:
            return "summary: is required to trigger (it becomes the incident title)"
        if self.action != "trigger" and self.dedup_key is None:
            return f"dedup_key: is required to {self.action} (it names the event to {self.action})"
        return None


# -- notifications ----------------------------------------------------------------

Action = Literal["trigger", "acknowledge", "resolve"]


@dataclass(frozen=True)
class Notification:
    """One alert (or alert group, or event) to apply, whichever door it came through."""

    integration: Literal["alertmanager", "events"]
    key: str
    action: Action
    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)
    generator_url: str | None = None
    monitor: str | None = None
    summary: str | None = None
    service_hint: str | None = None


def stored_key(key: str) -> str:
    """The key as stored: itself, or ``sha256:<hex>`` when it is too long for the column."""
    if len(key) <= KEY_MAX:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def _label_fingerprint(labels: Mapping[str, str]) -> str:
    text = "\x00".join(f"{k}\x01{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def from_alertmanager(payload: AlertmanagerPayload, config: IntakeConfig) -> list[Notification]:
    """The notifications in one webhook body, per alert or per group as configured."""
    monitor = payload.receiver or None
    if config.grouping == "group":
        labels = {**payload.commonLabels, **payload.groupLabels}
        generator = next((a.generatorURL for a in payload.alerts if a.generatorURL), "")
        return [
            Notification(
                integration="alertmanager",
                key=payload.groupKey,
                action="trigger" if payload.status == "firing" else "resolve",
                labels=labels,
                annotations=dict(payload.commonAnnotations),
                generator_url=generator or None,
                monitor=monitor,
            )
        ]
    return [
        Notification(
            integration="alertmanager",
            key=alert.fingerprint or _label_fingerprint(alert.labels),
            action="trigger" if alert.status == "firing" else "resolve",
            labels=dict(alert.labels),
            annotations=dict(alert.annotations),
            generator_url=alert.generatorURL or None,
            monitor=monitor,
        )
        for alert in payload.alerts
    ]


def from_event(event: IntakeEvent) -> Notification:
    """The notification of one generic event."""
    labels = dict(event.labels)
    for name, value in (
        ("source", event.source),
        ("severity", event.severity),
        ("service", event.service),
    ):
        if value:
            labels.setdefault(name, value)
    details = {
        str(k): (v if isinstance(v, str) else repr(v))[:ANNOTATION_VALUE_MAX]
        for k, v in event.details.items()
    }
    return Notification(
        integration="events",
        key=event.dedup_key or str(uuid.uuid4()),
        action=event.action,
        labels=labels,
        annotations=details,
        generator_url=event.client_url or None,
        monitor=event.source,
        summary=event.summary,
        service_hint=event.service,
    )
