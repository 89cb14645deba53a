"""The server's settings, in one typed place.

``noc-console serve`` fills them from its command line; the desktop app builds
them for the embedded server; tests build them with short timers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from console.config import paths
from console.domain.major import DEFAULT_CADENCE_MIN
from console.server.services.intake_rules import IntakeConfig

MIB = 1024 * 1024

# Page-size bounds: large enough for a fast catch-up, small enough that one
# request cannot tie up the server. Fixed (not settings) because they are part
# of the documented contract in /openapi.json.
INCIDENTS_PAGE_MAX = 500
CHANGES_PAGE_MAX = 1000


def default_db_url() -> str:
    """The SQLite file in the user's data folder (``server.db``)."""
    return sqlite_url(paths.data_dir() / "server.db")


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path.expanduser().resolve()}"


def normalise_db_url(text: str) -> str:
    """Accept what an operator types for ``--db`` and return a SQLAlchemy URL.

    ``postgresql://…`` and ``postgres://…`` select the psycopg 3 driver; a plain
    path means a SQLite file.
    """
    text = text.strip()
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text[len(prefix) :]
    if text.startswith(("postgresql+psycopg://", "sqlite://")):
        return text
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise ValueError(
            f"unsupported database URL scheme {scheme!r}; use postgresql://… or a SQLite file path"
        )
    return sqlite_url(Path(text))


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to run.

    ``sse_heartbeat_s`` and ``feed_poll_s`` are short in tests and left alone in
    production (the contract asks for a heartbeat at least every 15 s).
    """

    db_url: str = field(default_factory=default_db_url)
    host: str = "127.0.0.1"
    port: int = 8080
    tls_cert: Path | None = None
    tls_key: Path | None = None
    insecure_http: bool = False
    # Largest request body accepted; bigger ones get 413 before they are parsed.
    max_body_bytes: int = MIB
    # SSE: a comment this often keeps proxies and clients from timing out (the
    # contract promises one at least every 15 s; 10 leaves room for jitter).
    sse_heartbeat_s: float = 10.0
    # How often the server re-reads the newest seq as a safety net for missed
    # wake-ups (another process writing a shared SQLite file, a dropped LISTEN).
    feed_poll_s: float = 1.0
    # SQLAlchemy connection-pool size (PostgreSQL); SQLite uses one per thread.
    pool_size: int = 10
    # The escalation timer: how often it looks for unacknowledged incidents
    # whose next tier (or manager) is due; 0 switches it off.
    escalation_tick_s: float = 30.0
    # Post-incident reviews: scheduled and due this long after resolution, and
    # whether SEV-3 incidents need one too (SEV-1, SEV-2 and majors always do).
    pir_scheduled_after_h: float = 48.0
    pir_due_after_h: float = 72.0
    pir_sev3_required: bool = False
    # Major incidents: minutes between internal (and customer) status updates per
    # severity number (``serve --update-cadence``); a severity left out owes none.
    # Every incident row's ``next_update_due`` and ``/major`` countdown follow it.
    update_cadence_min: Mapping[int, int] = field(default_factory=lambda: dict(DEFAULT_CADENCE_MIN))
    # How long a stored Idempotency-Key (and its response) is kept: long enough
    # for a console offline for days to resend its queue and get the first
    # answers back. The escalation timer's tick purges older keys (at most
    # once an hour, so nothing is purged while the timer is off); 0 keeps
    # them forever.
    idempotency_retention_s: float = 7 * 24 * 3600.0
    # Outgoing webhooks: how often the sender looks for deliveries that are due,
    # the first retry's delay (doubled per attempt), how many attempts before a
    # delivery is marked failed, and how long one POST may take.
    webhook_poll_s: float = 1.0
    webhook_retry_base_s: float = 5.0
    webhook_max_attempts: int = 6
    webhook_timeout_s: float = 10.0
    # Destinations webhooks may reach beyond public https:// (console/server/core/egress.py):
    # networks ("10.20.0.0/16", "127.0.0.1") or host names ("chat.noc.lan").
    webhook_allow: tuple[str, ...] = ()
    # Incidents must name a service the directory knows (422 listing them) while
    # the directory has services; True accepts any name (the site routes by hand).
    free_text_services: bool = False
    # Limits before and around authentication (console/server/core/guard.py). Rates
    # are requests per second with a burst; 0 switches a limit off.
    # Generous: a console needs a few per second; an offline one catching up
    # sends its queue in a burst.
    rate_per_token: float = 300.0
    rate_burst_per_token: int = 1500
    # An ``intake`` token (an Alertmanager, a monitor) carries a whole monitoring
    # system's notifications, and Alertmanager drops a notification answered
    # with a 4xx, so its limit sits above what the server can take: a storm is
    # slowed by the server, not refused by the limiter (docs/intake.md).
    rate_per_intake_token: float = 2000.0
    rate_burst_per_intake_token: int = 20000
    rate_per_address: float = 600.0
    rate_burst_per_address: int = 3000
    # Failed authentications an address may make per second (burst: 10x).
    bad_token_rate_per_address: float = 10.0
    # Open event streams one token may hold; the oldest is closed for a new one.
    max_streams_per_token: int = 8
    # How often open streams re-check that their token is still live.
    stream_recheck_s: float = 0.5
    # A request's headers must arrive within this, its body within body_timeout_s.
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    # Alert intake (POST /v1/intake/...): the mapping rules, silences and
    # noise control, from ``serve --intake-config`` (docs/intake.md).
    intake: IntakeConfig = field(default_factory=IntakeConfig)

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests, the embedded server)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def uses_tls(self) -> bool:
        return self.tls_cert is not None and self.tls_key is not None

    def bind_problem(self) -> str | None:
        """Why binding ``host`` would be unsafe, or None when it is fine.

        A server reachable from the network without TLS would send bearer tokens
        in clear text, so that needs an explicit ``--insecure-http``.
        """
        if (self.tls_cert is None) != (self.tls_key is None):
            return "give both --tls-cert and --tls-key, or neither"
        if is_loopback(self.host) or self.uses_tls or self.insecure_http:
            return None
        return (
            f"refusing to serve plain HTTP on {self.host}, which other machines can reach: "
            "API tokens would cross the network unencrypted. Pass --tls-cert and --tls-key, "
            "or --insecure-http if the network is trusted (e.g. behind a TLS proxy)."
        )
