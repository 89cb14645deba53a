"""Outgoing webhooks: queue an event in the writer's transaction, POST it signed, retry.

A site wires paging, SMS or chat to the console by subscribing a URL to
events (``escalation``). The flow:

1. **Enqueue** (:func:`enqueue`): the write that produced the event (an
   escalation entry) adds one delivery row per subscribed webhook in the same
   transaction, so a rolled-back write pages nobody and a committed one is
   never forgotten, even if the server stops right after.
2. **Send** (:class:`WebhookSender`): a background loop claims due deliveries
   in a short write transaction (marking them ``sending`` with a lease, so a
   second ``serve`` process does not send them too), POSTs each one outside
   any transaction, then records the outcome. Each attempt is signed with
   the time it is sent: ``X-NOC-Signature: t=<unix seconds>,v1=<hex
   HMAC-SHA256 of "<t>.<raw body>", keyed with the webhook's secret>``, so a
   receiver that refuses old timestamps cannot be fed a captured delivery
   again later (docs/server.md shows the check).
3. **Retry**: a failure (network error, non-2xx) is retried after
   ``webhook_retry_base_s``, doubling each time, up to
   ``webhook_max_attempts``; then the delivery is ``failed`` and stays visible
   to admins (``GET /v1/webhooks/{id}/deliveries``) with its last error: the
   status code and a short reason, never the receiver's answer (which could
   carry what the receiver knows, not what the admin should).

Every destination passes the egress policy (``egress.py``): at registration,
and at each send after resolving the host name, connecting to the address
that was checked.

Delivery is at least once: a server killed between the POST and recording it
sends again after the lease expires, so receivers de-duplicate on
``X-NOC-Delivery``. Delivery times use the real clock, not the incident clock
tests may fix, because retries are about real network time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from console import __version__
from console.domain.clock import utc_now
from console.server.core.db import Database
from console.server.core.egress import Destination, EgressPolicy, EgressRefused
from console.server.core.errors import ApiError
from console.server.core.settings import Settings
from console.server.core.tables import WebhookDeliveryRow, WebhookRow
from console.wire import Webhook, WebhookDelivery, WebhookIn

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-NOC-Signature"
# How many due deliveries one pass claims; the rest wait for the next pass.
_BATCH = 20
# Longest wait between two attempts, however many there were.
_MAX_BACKOFF = timedelta(hours=1)
# Extra time a claimed delivery stays reserved beyond the POST timeout.
_LEASE_SLACK = timedelta(seconds=30)


# A receiver should refuse signatures older (or newer) than this.
SIGNATURE_TOLERANCE_S = 300


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-NOC-Signature`` value: ``t=<timestamp>,v1=<hex HMAC of "<t>.<body>">``."""
    signed = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(
    secret: str,
    body: bytes,
    header: str,
    *,
    now: float | None = None,
    tolerance_s: int = SIGNATURE_TOLERANCE_S,
) -> bool:
    """A receiver's check of ``X-NOC-Signature`` (the one docs/server.md shows)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp).split(",v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


def short_error(error: str | None) -> str | None:
    """What a delivery shows of its last failure: status and reason, no receiver text.

    Also trims errors recorded by older versions, which kept the start of the
    receiver's answer after ``HTTP nnn:``.
    """
    if error is None or not error.startswith("HTTP "):
        return error
    head = error.split(":", 1)[0]
    code = head.removeprefix("HTTP ").strip()
    return http_reason(int(code)) if code.isdigit() else head


def http_reason(status: int) -> str:
    """``HTTP 503 Service Unavailable``: the standard phrase, not the receiver's."""
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def secret_hint(secret: str) -> str:
    """Enough of a secret to tell two apart, never enough to sign with."""
    return "…" + secret[-4:] if len(secret) >= 16 else "…"


# -- admin CRUD -----------------------------------------------------------


def webhook_wire(row: WebhookRow) -> Webhook:
    """The webhook as the API shows it (the secret replaced by a hint)."""
    return Webhook(
        id=row.id,
        name=row.name,
        url=row.url,
        secret_hint=secret_hint(row.secret),
        events=list(row.events or []),
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def delivery_wire(row: WebhookDeliveryRow) -> WebhookDelivery:
    """A delivery with its attempts, as admins see it."""
    return WebhookDelivery.model_validate(
        {
            "id": row.id,
            "webhook_id": row.webhook_id,
            "event": row.event,
            "status": row.status,
            "attempts": row.attempts,
            "created_at": row.created_at,
            "next_attempt_at": row.next_attempt_at if row.status == "pending" else None,
            "last_attempt_at": row.last_attempt_at,
            "last_status_code": row.last_status_code,
            "last_error": short_error(row.last_error),
            "delivered_at": row.delivered_at,
            "payload": json.loads(row.payload),
        }
    )


def find_webhook(*, session: Session, webhook_id: str) -> WebhookRow:
    """The webhook with this id; 404 naming where to look otherwise."""
    row = session.get(WebhookRow, webhook_id)
    if row is None:
        raise ApiError(
            404, "not_found", f"no webhook {webhook_id[:80]!r}; GET /v1/webhooks lists them"
        )
    return row


def list_webhooks(*, session: Session) -> list[WebhookRow]:
    """Every webhook, by name."""
    return list(session.scalars(select(WebhookRow).order_by(WebhookRow.name, WebhookRow.id)))


def check_destination(url: str, policy: EgressPolicy) -> None:
    """422 for a URL the egress policy refuses (at registration, before any DNS)."""
    try:
        policy.check_url(url)
    except EgressRefused as exc:
        raise ApiError(422, "destination_refused", f"url: {exc}") from None


def create_webhook(
    *, session: Session, body: WebhookIn, now: datetime, policy: EgressPolicy
) -> WebhookRow:
    """Add a webhook (the caller commits); 422 for a destination the policy refuses."""
    check_destination(body.url, policy)
    row = WebhookRow(
        id=str(uuid.uuid4()),
        name=body.name,
        url=body.url,
        secret=body.secret,
        events=list(body.events),
        active=body.active,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def replace_webhook(
    *, session: Session, row: WebhookRow, body: WebhookIn, now: datetime, policy: EgressPolicy
) -> None:
    """Replace a webhook's settings; deliveries already queued keep their body."""
    check_destination(body.url, policy)
    row.name = body.name
    row.url = body.url
    row.secret = body.secret
    row.events = list(body.events)
    row.active = body.active
    row.updated_at = now
    session.flush()


def delete_webhook(*, session: Session, row: WebhookRow) -> None:
    """Remove a webhook and its delivery history."""
    for delivery in session.scalars(
        select(WebhookDeliveryRow).where(WebhookDeliveryRow.webhook_id == row.id)
    ):
        session.delete(delivery)
    session.delete(row)
    session.flush()


def list_deliveries(
    *, session: Session, webhook_id: str, status: str | None, limit: int
) -> list[WebhookDeliveryRow]:
    """A webhook's deliveries, newest first, optionally of one status."""
    query = select(WebhookDeliveryRow).where(WebhookDeliveryRow.webhook_id == webhook_id)
    if status is not None:
        query = query.where(WebhookDeliveryRow.status == status)
    query = query.order_by(WebhookDeliveryRow.created_at.desc(), WebhookDeliveryRow.id)
    return list(session.scalars(query.limit(limit)))


# -- enqueue (inside the writer's transaction) ----------------------------


class Subscribers:
    """The active webhooks of each event, read once per write (a timer run enqueues many)."""

    def __init__(self, session: Session) -> None:
        self._by_event: dict[str, list[str]] = {}
        for row in session.scalars(select(WebhookRow).where(WebhookRow.active.is_(True))):
            for event in row.events or ():
                self._by_event.setdefault(str(event), []).append(row.id)

    def of(self, event: str) -> list[str]:
        """Ids of the active webhooks subscribed to ``event``."""
        return self._by_event.get(event, [])


def enqueue(
    *,
    session: Session,
    event: str,
    payload: dict[str, Any],
    subscribers: Subscribers | None = None,
    now: datetime | None = None,
) -> int:
    """Queue ``payload`` for every active webhook subscribed to ``event``; how many.

    Call inside the write transaction that produced the event. The body is
    fixed now, so every retry sends (and signs) the same bytes.
    """
    hooks = (subscribers or Subscribers(session)).of(event)
    if not hooks:
        return 0
    at = now or utc_now()
    for webhook_id in hooks:
        delivery_id = str(uuid.uuid4())
        body = {"event": event, "delivery_id": delivery_id, "sent_by": "noc-console", **payload}
        session.add(
            WebhookDeliveryRow(
                id=delivery_id,
                webhook_id=webhook_id,
                event=event,
                payload=json.dumps(body, separators=(",", ":"), default=str),
                status="pending",
                attempts=0,
                created_at=at,
                next_attempt_at=at,
            )
        )
    session.flush()
    return len(hooks)


# -- sending --------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    id: str
    url: str
    secret: str
    event: str
    payload: str
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """What one POST came to: delivered, or the error to record."""

    delivered: bool
    status_code: int | None = None
    error: str | None = None


class WebhookSender:
    """Sends due deliveries: claim, POST signed, record; see the module docstring.

    :meth:`send_due` is blocking (run it on a worker thread); the app's
    lifespan calls it every ``webhook_poll_s``.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utc_now,
        client: httpx.Client | None = None,
        policy: EgressPolicy | None = None,
    ) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self.policy = policy or EgressPolicy(settings.webhook_allow)
        self._client = client or httpx.Client(
            timeout=settings.webhook_timeout_s,
            follow_redirects=False,  # a redirect could carry the signed body elsewhere
            # No HTTP(S)_PROXY from the environment: the policy checks the
            # address the server itself connects to.
            trust_env=False,
            headers={"User-Agent": f"noc-console/{__version__} webhook"},
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def send_due(self) -> int:
        """Send every delivery that is due now (one batch); how many were attempted."""
        claimed = self._claim()
        for delivery in claimed:
            self._record(delivery, self._post(delivery))
        return len(claimed)

    def backoff(self, attempts: int) -> timedelta:
        """The wait after ``attempts`` failed attempts: base × 2^(attempts-1), capped."""
        seconds = self._settings.webhook_retry_base_s * 2 ** max(0, attempts - 1)
        return min(timedelta(seconds=seconds), _MAX_BACKOFF)

    def _claim(self) -> list[_Claimed]:
        now = self._clock()
        lease = timedelta(seconds=self._settings.webhook_timeout_s) + _LEASE_SLACK
        # A cheap read first: most polls find nothing, and must not take the write lock.
        with self._db.read_session() as session:
            due = session.scalar(
                select(WebhookDeliveryRow.id)
                .where(
                    WebhookDeliveryRow.status.in_(("pending", "sending")),
                    WebhookDeliveryRow.next_attempt_at <= now,
                )
                .limit(1)
            )
        if due is None:
            return []
        with self._db.write_session() as session:
            rows = session.execute(
                select(WebhookDeliveryRow, WebhookRow)
                .join(WebhookRow, WebhookRow.id == WebhookDeliveryRow.webhook_id)
                .where(
                    # "sending" past its lease: a process died mid-POST; send again.
                    WebhookDeliveryRow.status.in_(("pending", "sending")),
                    WebhookDeliveryRow.next_attempt_at <= now,
                    WebhookRow.active.is_(True),
                )
                .order_by(WebhookDeliveryRow.next_attempt_at, WebhookDeliveryRow.id)
                .limit(_BATCH)
            ).all()
            claimed: list[_Claimed] = []
            for delivery, hook in rows:
                delivery.status = "sending"
                delivery.attempts += 1
                delivery.last_attempt_at = now
                delivery.next_attempt_at = now + lease
                claimed.append(
                    _Claimed(
                        delivery.id,
                        hook.url,
                        hook.secret,
                        delivery.event,
                        delivery.payload,
                        delivery.attempts,
                    )
                )
            session.commit()
        return claimed

    def _post(self, delivery: _Claimed) -> Outcome:
        try:
            target = self.policy.destination(delivery.url)
        except EgressRefused as exc:
            return Outcome(False, None, f"refused by the egress policy: {exc}"[:500])
        body = delivery.payload.encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(delivery.secret, body, int(time.time())),
            "X-NOC-Event": delivery.event,
            "X-NOC-Delivery": delivery.id,
        }
        url, extensions = _pinned(delivery.url, target)
        headers["Host"] = _host_header(target)
        try:
            response = self._client.post(url, content=body, headers=headers, extensions=extensions)
        except httpx.HTTPError as exc:
            return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:300])
        if 200 <= response.status_code < 300:
            return Outcome(True, response.status_code)
        # Only the status: the answer's text is the receiver's, not ours to keep.
        return Outcome(False, response.status_code, http_reason(response.status_code))

    def _record(self, delivery: _Claimed, outcome: Outcome) -> None:
        now = self._clock()
        with self._db.write_session() as session:
            row = session.get(WebhookDeliveryRow, delivery.id)
            if row is None:  # the webhook was deleted meanwhile
                return
            row.last_status_code = outcome.status_code
            if outcome.delivered:
                row.status = "delivered"
                row.delivered_at = now
                row.last_error = None
            elif row.attempts >= self._settings.webhook_max_attempts:
                row.status = "failed"
                row.last_error = outcome.error
                log.warning(
                    "webhook delivery %s failed after %d attempts: %s",
                    row.id,
                    row.attempts,
                    outcome.error,
                )
            else:
                row.status = "pending"
                row.last_error = outcome.error
                row.next_attempt_at = now + self.backoff(row.attempts)
            session.commit()


def _host_header(target: Destination) -> str:
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"


def _pinned(url: str, target: Destination) -> tuple[str, dict[str, Any]]:
    """``url`` sent to the checked address; TLS still verifies the certificate of the name."""
    parts = urlsplit(url)
    address = f"[{target.address}]" if ":" in target.address else target.address
    pinned = urlunsplit((parts.scheme, f"{address}:{target.port}", parts.path, parts.query, ""))
    extensions: dict[str, Any] = {}
    if target.scheme == "https":
        extensions["sni_hostname"] = target.host
    return pinned, extensions
