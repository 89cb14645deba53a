"""The v1 wire's escalation bodies: swarming (engage), and outgoing webhooks (admin only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from console.wire.incidents import TimelineEntry
from console.wire.types import Name, Reason, WireIn, WireOut

# --------------------------------------------------------------------------
# Escalation: swarming, and outgoing webhooks (admin only)
# --------------------------------------------------------------------------


class EngageRequest(WireIn):
    """``POST /v1/incidents/{id}/engage``: swarming, several tiers at once.

    Each tier gets an escalation entry on the timeline (naming who is on call
    now), and the escalation timer then counts it as engaged.
    """

    tiers: list[int] = Field(
        min_length=1, max_length=9, description="tier levels to engage, e.g. [2, 3]"
    )
    reason: Reason

    @model_validator(mode="after")
    def _distinct(self) -> EngageRequest:
        if len(set(self.tiers)) != len(self.tiers):
            raise ValueError("tiers: name each tier once")
        return self


class EngageResult(WireOut):
    """What ``POST /v1/incidents/{id}/engage`` wrote: one escalation entry per tier."""

    items: list[TimelineEntry]


WebhookEventWire = Literal[
    "escalation", "status_update.published", "pir.due", "action_item.overdue"
]
"""Events a webhook can subscribe to: ``escalation`` (every tier engaged or manager told)."""

WebhookStatusWire = Literal["pending", "sending", "delivered", "failed"]


def _check_webhook_url(value: str) -> str:
    """An absolute http(s) URL with a host: anything else cannot be POSTed to."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ValueError(
            "give an absolute http:// or https:// URL, e.g. https://pager.example/hook"
        )
    return value


WebhookUrl = Annotated[
    str,
    StringConstraints(min_length=8, max_length=2000, pattern=r"^https?://[^\s]+$"),
    AfterValidator(_check_webhook_url),
]


class WebhookIn(WireIn):
    """``POST /v1/webhooks`` and ``PUT /v1/webhooks/{id}``: where to send which events.

    Every POST carries ``X-NOC-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256
    of "<t>.<raw body>" keyed with secret>``, so the receiver can tell it came
    from this server, and recently. ``url`` must be ``https://`` to a public
    address unless the server's operator allow-listed it.
    """

    name: Name
    url: WebhookUrl
    secret: Annotated[
        str,
        StringConstraints(min_length=16, max_length=200, pattern=r"^[\x21-\x7e]+$"),
    ] = Field(description="the shared signing secret (16+ printable characters); never returned")
    events: list[WebhookEventWire] = Field(min_length=1, max_length=10)
    active: bool = True


class Webhook(WireOut):
    """A webhook as the API shows it: the secret is replaced by a hint."""

    id: str
    name: str
    url: str
    secret_hint: str = Field(description="the last characters of the secret, e.g. '…a9f2'")
    events: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime


class WebhookPage(WireOut):
    """``GET /v1/webhooks``: every webhook, by name."""

    items: list[Webhook]


class WebhookDelivery(WireOut):
    """One event sent (or being sent) to one webhook, with its attempts.

    ``status`` ``failed`` means every attempt failed: ``last_error`` and
    ``last_status_code`` say what the receiver (or the network) answered.
    """

    id: str
    webhook_id: str
    event: str
    status: WebhookStatusWire
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


class WebhookDeliveryPage(WireOut):
    """``GET /v1/webhooks/{id}/deliveries``: newest first."""

    items: list[WebhookDelivery]
