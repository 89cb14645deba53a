"""``noc-console serve``: run the reference ticket API for a NOC floor.

Loopback only unless TLS is configured or ``--insecure-http`` says the network
is trusted, since bearer tokens would otherwise cross it in clear text.
"""

from __future__ import annotations

import argparse
import logging
import re
import signal
import sys
from pathlib import Path

from console.domain.major import cadence_with
from console.server.core.settings import Settings, default_db_url, normalise_db_url
from console.server.services.intake_rules import IntakeConfig, IntakeConfigError, load_intake_config

log = logging.getLogger("console.server")

EXIT_USAGE = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``noc-console serve``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8080, help="port to bind; 0 picks a free one (default 8080)"
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="postgresql://user@host/db, or a SQLite file path "
        "(default: server.db in the data folder)",
    )
    parser.add_argument("--tls-cert", type=Path, metavar="PEM", help="TLS certificate chain")
    parser.add_argument("--tls-key", type=Path, metavar="PEM", help="TLS private key")
    parser.add_argument(
        "--insecure-http",
        action="store_true",
        help="allow plain HTTP on a non-loopback address (only on a trusted network)",
    )
    parser.add_argument(
        "--heartbeat",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="SSE heartbeat interval, at most 15 (default 10)",
    )
    parser.add_argument(
        "--idempotency-days",
        type=float,
        default=7.0,
        metavar="DAYS",
        help="how long a write's Idempotency-Key is remembered, so a console resending "
        "after an outage gets the first answer; 0 keeps keys for ever (default 7)",
    )
    parser.add_argument(
        "--webhook-allow",
        action="append",
        default=[],
        metavar="NET_OR_HOST",
        help="let webhooks reach this network (10.20.0.0/16, 127.0.0.1) or host name "
        "(chat.noc.lan), over http:// too; by default only https:// to public addresses "
        "(repeat for several)",
    )
    parser.add_argument(
        "--free-text-services",
        action="store_true",
        help="accept incidents naming a service the directory does not list (default: 422 "
        "naming the known services, so nothing goes unrouted)",
    )
    parser.add_argument(
        "--rate-per-token",
        type=float,
        default=300.0,
        metavar="PER_S",
        help="requests per second one token may make (bursts of 5x); 0 switches it off "
        "(default 300)",
    )
    parser.add_argument(
        "--rate-per-intake-token",
        type=float,
        default=2000.0,
        metavar="PER_S",
        help="requests per second one intake token (an Alertmanager) may make (bursts of 10x); "
        "0 switches it off (default 2000: above what one server takes, so a storm is never "
        "refused with a 429 that Alertmanager would drop)",
    )
    parser.add_argument(
        "--rate-per-address",
        type=float,
        default=600.0,
        metavar="PER_S",
        help="requests per second from one client address (bursts of 5x); 0 switches it off, "
        "e.g. behind a reverse proxy that limits per address itself (default 600)",
    )
    parser.add_argument(
        "--max-streams-per-token",
        type=int,
        default=8,
        metavar="N",
        help="open event streams one token may hold; a new one closes the oldest (default 8)",
    )
    parser.add_argument(
        "--intake-config",
        type=Path,
        metavar="TOML",
        help="alert intake's mapping rules, silences and noise control (docs/intake.md); "
        "a rule naming a service or team the directory lacks stops the server at start-up",
    )
    parser.add_argument(
        "--update-cadence",
        metavar="SEV-N=MIN,...",
        default="",
        help="major incidents: minutes between internal (and customer) status updates per "
        "severity, e.g. SEV-1=10,SEV-2=20; a severity left out keeps its default "
        "(SEV-1 15, SEV-2 30), 0 means none is owed",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="log level (default info: one line per request)",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from parsed options; ``ValueError`` with a clear message on bad ones."""
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port {args.port} is out of range; use 0 to 65535")
    if not 0.05 <= args.heartbeat <= 15:
        raise ValueError("--heartbeat must be between 0.05 and 15 seconds")
    if not (args.idempotency_days == 0 or 1 <= args.idempotency_days <= 365):
        raise ValueError(
            "--idempotency-days must be 0 (keep for ever) or 1 to 365: consoles may be "
            "offline for days and must still find the answer to a resent write"
        )
    for option, path in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key)):
        if path is not None and not path.is_file():
            raise ValueError(f"{option} {path}: no such file")
    intake = IntakeConfig()
    if getattr(args, "intake_config", None) is not None:
        intake = load_intake_config(args.intake_config)
    from console.server.core.egress import EgressPolicy

    allow = EgressPolicy.parse_allow(args.webhook_allow)  # ValueError naming a bad entry
    for option, rate in (
        ("--rate-per-token", args.rate_per_token),
        ("--rate-per-intake-token", args.rate_per_intake_token),
        ("--rate-per-address", args.rate_per_address),
    ):
        if rate < 0:
            raise ValueError(f"{option} must be 0 (off) or a positive number per second")
    if args.max_streams_per_token < 1:
        raise ValueError("--max-streams-per-token must be at least 1")
    return Settings(
        update_cadence_min=parse_cadence(getattr(args, "update_cadence", "")),
        intake=intake,
        webhook_allow=allow,
        free_text_services=args.free_text_services,
        rate_per_token=args.rate_per_token,
        rate_burst_per_token=int(args.rate_per_token * 5),
        rate_per_intake_token=args.rate_per_intake_token,
        rate_burst_per_intake_token=int(args.rate_per_intake_token * 10),
        rate_per_address=args.rate_per_address,
        rate_burst_per_address=int(args.rate_per_address * 5),
        max_streams_per_token=args.max_streams_per_token,
        db_url=normalise_db_url(args.db) if args.db else default_db_url(),
        host=args.host,
        port=args.port,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        insecure_http=args.insecure_http,
        sse_heartbeat_s=args.heartbeat,
        idempotency_retention_s=args.idempotency_days * 24 * 3600,
    )


def parse_cadence(text: str) -> dict[int, int]:
    """``SEV-1=10,SEV-2=20`` as {severity number: minutes} over the defaults; ValueError if bad."""
    changes: dict[int, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, minutes = item.partition("=")
        match = re.fullmatch(r"(?:SEV-?)?([1-4])", name.strip(), re.IGNORECASE)
        if not sep or match is None or not minutes.strip().isdigit():
            raise ValueError(
                f"--update-cadence: {item!r} is not SEVERITY=MINUTES; write e.g. "
                "SEV-1=15,SEV-2=30 (severities SEV-1 to SEV-4, whole minutes, 0 for none)"
            )
        number, value = int(match.group(1)), int(minutes)
        if value > 24 * 60:
            raise ValueError(
                f"--update-cadence: {item!r}: at most 1440 minutes (a day) between updates"
            )
        changes[number] = value
    return cadence_with(changes)


def configure_logging(level: str) -> None:
    """Plain one-line log records on stderr, control characters escaped."""
    from console.server.core.middleware import SafeFormatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=getattr(logging, level.upper()), handlers=[handler])


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; 2 for a refused configuration, 1 if it cannot start."""
    try:
        settings = settings_from(args)
    except ValueError as exc:
        print(f"noc-console serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    problem = settings.bind_problem()
    if problem is not None:
        print(f"noc-console serve: {problem}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(args.log_level)

    # Imported here so `--help` and refused configurations stay fast.
    from console.server.core.db import DatabaseUnavailableError
    from console.server.embedded import NocUvicornServer, uvicorn_config
    from console.server.main import context_of, create_app

    try:
        app = create_app(settings)
    except DatabaseUnavailableError as exc:
        print(f"noc-console serve: {exc}", file=sys.stderr)
        return 1
    except IntakeConfigError as exc:
        print(f"noc-console serve: --intake-config: {exc}", file=sys.stderr)
        return EXIT_USAGE
    server = NocUvicornServer(
        uvicorn_config(app, settings, log_level=args.log_level),
        on_shutdown=context_of(app).broadcaster.close,
        announce=True,
    )
    # uvicorn shuts down gracefully on SIGTERM and then re-raises the signal
    # with the handler it found; with this one the process exits with 0, as a
    # service manager expects from a clean stop.
    signal.signal(signal.SIGTERM, _stop_cleanly)
    try:
        server.run()
    except SystemExit as exc:
        if exc.code not in (0, None):
            print(
                "noc-console serve: the server could not start; see the log above", file=sys.stderr
            )
            return 1
    return 0 if server.started else 1


def _stop_cleanly(_signum: int, _frame: object) -> None:
    raise SystemExit(0)
