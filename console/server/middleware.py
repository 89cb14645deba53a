"""ASGI middleware: the request-size limit and the one-line-per-request log."""

from __future__ import annotations

import json
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("console.server.access")
error_log = logging.getLogger("console.server")


class BodyLimitMiddleware:
    """Refuse request bodies over ``limit`` bytes with a 413, before anything parses them.

    The body is read ahead (it is at most ``limit`` bytes) so a chunked upload
    without a Content-Length is stopped too, and then replayed to the app.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.limit:
                    await self._too_large(send)
                    return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away; nothing to answer.
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        megabytes = self.limit / (1024 * 1024)
        body = json.dumps(
            {
                "error": {
                    "code": "body_too_large",
                    "message": f"the request body is larger than {megabytes:g} MiB; "
                    "send less (e.g. split a long description into timeline notes)",
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class UnexpectedErrorMiddleware:
    """Answer a failure nobody handled with a JSON 500 and log it with its traceback.

    Catching it here, inside Starlette's own error middleware, means the
    exception never reaches the server, which would otherwise drop the
    connection instead of letting the client read the 500.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            error_log.exception("unexpected error in %s %s", scope.get("method"), scope.get("path"))
            if started:
                return  # part of a response went out; the client sees it cut short
            body = json.dumps(
                {
                    "error": {
                        "code": "internal_error",
                        "message": "the server failed unexpectedly; its log has the details",
                    }
                }
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})


class AccessLogMiddleware:
    """Log one line per request at info level: client, method, path, status, time.

    Logged when the response starts, so a long-lived SSE stream is logged once,
    when it opens. The Authorization header is never logged.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        logged = False

        async def send_and_log(message: Message) -> None:
            nonlocal logged
            if message["type"] == "http.response.start" and not logged:
                logged = True
                self._log(scope, int(message["status"]), started)
            await send(message)

        try:
            await self.app(scope, receive, send_and_log)
        finally:
            if not logged:
                # The app failed before answering; the server sends a 500.
                self._log(scope, 500, started)

    @staticmethod
    def _log(scope: Scope, status: int, started: float) -> None:
        client = scope.get("client")
        peer = f"{client[0]}:{client[1]}" if client else "-"
        path = scope.get("path", "")
        query = scope.get("query_string", b"")
        if query:
            path += "?" + query.decode("latin-1")
        elapsed_ms = (time.perf_counter() - started) * 1000
        access_log.info(
            '%s "%s %s" %d %.1fms', peer, scope.get("method", "-"), path, status, elapsed_ms
        )
