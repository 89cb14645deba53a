"""The app factory: ``create_app(settings)`` builds the ticket API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from console import __version__
from console.domain.clock import utc_now
from console.server.core import errors
from console.server.core.db import UPDATE_CADENCE_KEY, Database
from console.server.core.egress import EgressPolicy
from console.server.core.guard import RequestGuard
from console.server.core.middleware import (
    AccessLogMiddleware,
    BodyLimitMiddleware,
    UnexpectedErrorMiddleware,
)
from console.server.core.settings import Settings
from console.server.deps import ServerContext, reject_unknown_query
from console.server.jobs import escalation_timer as escalation
from console.server.jobs.events import PgListener
from console.server.jobs.webhooks import WebhookSender
from console.server.routes import changes, events, health, incidents, me, reference, timeline
from console.server.routes import escalation as escalation_routes
from console.server.routes import intake as intake_routes
from console.server.routes import majors as major_routes
from console.server.routes import metrics as metrics_routes
from console.server.routes import pirs as pir_routes
from console.server.routes import problems as problem_routes
from console.server.routes import status_page as status_routes
from console.server.routes import webhooks as webhook_routes
from console.server.routes.common import ETAG_PATTERN
from console.server.services.intake_rules import check_against_directory

log = logging.getLogger(__name__)

DESCRIPTION = """\
The reference backend of NOC Console: incidents under ITIL 4 lifecycle rules,
their timelines, the reference data behind the escalation matrix, and a change
feed (`/v1/changes`, woken by the SSE stream `/v1/events`) that clients sync
from.

Every request but `/v1/health` needs `Authorization: Bearer <token>`; roles are
viewer < dispatcher < commander < admin. Every error is
`{"error": {"code": "...", "message": "..."}}`.
"""


async def _poll_latest(context: ServerContext) -> None:
    """Re-read the newest seq now and then, as a safety net for missed wake-ups."""
    while True:
        await asyncio.sleep(context.settings.feed_poll_s)
        try:
            seq = await anyio.to_thread.run_sync(context.latest_seq)
        except Exception as exc:  # the database may be briefly away; try again later
            log.warning("cannot read the newest change: %s", exc)
            continue
        context.broadcaster.publish(seq)


async def _run_escalation_timer(context: ServerContext) -> None:
    """Every ``escalation_tick_s``: engage the tiers and tell the managers that are due."""
    while True:
        await asyncio.sleep(context.settings.escalation_tick_s)
        try:
            await anyio.to_thread.run_sync(escalation.tick, context)
        except Exception:  # the database may be briefly away; the next tick catches up
            log.exception("escalation timer run failed")


async def _run_intake_publisher(context: ServerContext) -> None:
    """Put alert repeats that intake coalesced on the change feed once they are due."""
    period = context.settings.intake.repeat_publish_s
    while True:
        await asyncio.sleep(period)
        try:
            await anyio.to_thread.run_sync(intake_publish_pending, context)
        except Exception:  # the database may be briefly away; the next run catches up
            log.exception("alert intake: publishing repeats failed")


def intake_publish_pending(context: ServerContext) -> int:
    """One run of the repeat publisher (blocking); returns how many incidents it updated."""
    from console.server.core.auth import Principal, Role
    from console.server.routes.common import write_scope
    from console.server.services import intake as intake_service

    with context.db.read_session() as session:
        if not intake_service.has_pending(session=session):
            return 0  # the usual case: no write lock taken every few seconds for nothing
    principal = Principal(token_id="", name="alert-intake", role=Role.INTAKE)
    total, more = 0, True
    while more:
        # A short transaction each (intake_service.PUBLISH_CHUNK incidents): the writer
        # is free in between for the requests waiting on it.
        with context.db.write_session() as session:
            done, more = intake_service.publish_pending(
                session=session,
                scope=write_scope(context, principal),
                config=context.settings.intake,
            )
            session.commit()
        total += done
        time.sleep(0)  # let a writer waiting for the lock take it first
    return total


async def _run_webhook_sender(sender: WebhookSender, poll_s: float) -> None:
    """Every ``webhook_poll_s``: send the webhook deliveries that are due."""
    while True:
        try:
            # Send until nothing more is due, so a burst does not wait a poll per batch.
            while await anyio.to_thread.run_sync(sender.send_due):
                pass
        except Exception:
            log.exception("webhook sender run failed")
        await asyncio.sleep(poll_s)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``{"anyOf": [X, {"type": "null"}], ...}`` → X with the outer keys kept."""
    options = schema.get("anyOf")
    if not options:
        return schema
    kept = [option for option in options if option.get("type") != "null"]
    if len(kept) != 1:
        return schema
    outer = {key: value for key, value in schema.items() if key != "anyOf"}
    return {**kept[0], **outer}


_WRITES = ("post", "put", "patch", "delete")
_UNAUTHENTICATED = ("/v1/health",)


def _document_common_answers(schema: dict[str, Any]) -> None:
    """Answers every operation (or every write) can give, whatever its route declares.

    Every operation: 422 (an unknown query parameter) and 429 (the rate
    limits), 401 unless it is public. Every write: 408 (a body too slow),
    412 and 428 (the If-Match rules; a write without a version to guard has
    nothing to be stale against, but the answer is documented so clients
    handle it the same everywhere), 413 and 422.
    """
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}
    texts = {
        "401": "no token, or an unknown or revoked one",
        "408": "the request body did not arrive in time",
        "412": "If-Match names an old version: re-read and retry",
        "413": "the body is larger than the limit (1 MiB)",
        "422": "a field, header or query parameter is missing, of the wrong type, out of "
        "range, or unknown",
        "428": "If-Match is required: send the ETag of your last read",
        "429": "too many requests: wait for Retry-After seconds",
    }
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            wanted = ["422", "429"]
            if path not in _UNAUTHENTICATED:
                wanted.append("401")
            if method in _WRITES:
                wanted += ["408", "412", "413", "428"]
            answers = operation.setdefault("responses", {})
            for status in wanted:
                entry = answers.setdefault(status, {"description": texts[status]})
                entry.setdefault("content", {"application/json": {"schema": error_ref}})
            if "429" in answers:
                answers["429"].setdefault(
                    "headers",
                    {
                        "Retry-After": {
                            "description": "seconds to wait",
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    },
                )


def _document_contract(app: FastAPI) -> None:
    """Adjust the generated OpenAPI where the code is laxer than the contract on purpose.

    Optional headers and query parameters are typed ``X | None`` in the code,
    which FastAPI documents as "X or null"; HTTP has no null header or query
    value, so the document just says X.

    ``If-Match`` on PATCH is optional to FastAPI so that a missing one gets the
    contract's 428 (with a message saying what to send) instead of a generic
    422, but the contract requires it, so the document says so.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            for operations in schema["paths"].values():
                for operation in operations.values():
                    for parameter in operation.get("parameters", ()):
                        parameter["schema"] = _without_null(parameter.get("schema", {}))
            _document_common_answers(schema)
            patch = schema["paths"]["/v1/incidents/{incident_id}"]["patch"]
            for parameter in patch["parameters"]:
                if parameter["name"] == "If-Match":
                    parameter["required"] = True
                    parameter["schema"] = {"type": "string", "pattern": ETAG_PATTERN}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """Build the API for ``settings`` (opening the database, creating its tables).

    ``db`` lets a caller share an open database; ``clock`` lets tests fix time.
    """
    settings = settings or Settings()
    owns_db = db is None
    database = db if db is not None else Database(settings.db_url, pool_size=settings.pool_size)
    context = ServerContext(settings=settings, db=database, clock=clock or utc_now)
    database.share_with_sessions(UPDATE_CADENCE_KEY, dict(settings.update_cadence_min))
    try:
        # A mapping rule naming a service or team the directory lacks is refused now,
        # not at the first alert (IntakeConfigError, a ValueError, says which).
        from console.server.services.intake import load_names

        with database.read_session() as session:
            check_against_directory(settings.intake, load_names(session=session))
    except Exception:
        if owns_db:
            database.dispose()
        raise
    database.on_commit(context.broadcaster.publish)
    egress = EgressPolicy(settings.webhook_allow)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        context.broadcaster.attach(asyncio.get_running_loop())
        context.broadcaster.publish(await anyio.to_thread.run_sync(context.latest_seq))
        listener: PgListener | None = None
        if database.dialect == "postgresql":
            # Wakes this process's SSE clients for commits made by other
            # ``serve`` processes on the same database.
            listener = PgListener(
                database.libpq_conninfo(),
                database.notify_channel,
                context.broadcaster.publish,
                on_reconnect=lambda: context.broadcaster.publish(context.latest_seq()),
            )
            await anyio.to_thread.run_sync(listener.start)
        poller = asyncio.create_task(_poll_latest(context))
        background = [poller]
        if settings.escalation_tick_s > 0:
            background.append(asyncio.create_task(_run_escalation_timer(context)))
        if settings.intake.repeat_publish_s > 0:
            background.append(asyncio.create_task(_run_intake_publisher(context)))
        sender = WebhookSender(database, settings, policy=egress)
        background.append(asyncio.create_task(_run_webhook_sender(sender, settings.webhook_poll_s)))
        try:
            yield
        finally:
            context.broadcaster.close()
            await anyio.to_thread.run_sync(context.writer.stop)
            for task in background:
                await _stop(task)
            sender.close()
            if listener is not None:
                await anyio.to_thread.run_sync(listener.stop)
            if owns_db:
                database.dispose()

    app = FastAPI(
        title="NOC Console ticket API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        dependencies=[Depends(reject_unknown_query)],
    )
    app.state.context = context
    app.state.egress = egress
    _document_contract(app)
    errors.install(app)
    for router in (health.router, me.router, incidents.router, timeline.router, changes.router):
        app.include_router(router)
    app.include_router(escalation_routes.router)
    app.include_router(webhook_routes.router)
    app.include_router(intake_routes.router)
    app.include_router(metrics_routes.router)
    app.include_router(events.router)
    app.include_router(major_routes.router)
    app.include_router(status_routes.router)
    app.include_router(pir_routes.router)
    app.include_router(problem_routes.router)
    for router in reference.routers:
        app.include_router(router)
    # Added last = outermost: the access log also sees the 413s and the 500s,
    # and the guard checks the token (and the limits) before the body is read.
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(RequestGuard, settings=settings, db=database, tokens=context.tokens)
    app.add_middleware(AccessLogMiddleware)
    return app


def context_of(app: FastAPI) -> ServerContext:
    """The server context of an app made by :func:`create_app`."""
    context: ServerContext = app.state.context
    return context
