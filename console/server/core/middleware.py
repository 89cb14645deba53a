"""ASGI middleware: the request-size limit and the one-line-per-request log.

Whatever a client sends is written to the log escaped (:func:`log_safe`): a
``%0a`` in a path cannot forge a second log line, and ESC, CR, NUL or bidi
controls cannot rewrite what a terminal shows. Token-shaped things in URLs
(``?access_token=…``, ``noc_…`` secrets) are redacted (:func:`redact_url`).
"""

from __future__ import annotations

import json
import logging
import re
import time
import unicodedata

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("console.server.access")
error_log = logging.getLogger("console.server")

# Query parameters whose value is a credential, whatever else they are called.
_SECRET_PARAMS = re.compile(
    r"(?i)^(access_token|token|api[_-]?key|apikey|key|secret|password|passwd|auth|"
    r"authorization|bearer|sig|signature|session)$"
)
# Our own token format anywhere (a path segment, a value under another name).
_NOC_TOKEN = re.compile(r"noc_[A-Za-z0-9_-]{16,}")
REDACTED = "[redacted]"


def log_safe(text: str, limit: int = 2000) -> str:
    """``text`` with every control character escaped (``\n`` → ``\x0a``), cut to ``limit``.

    Escaped: C0 and C1 controls (newline, CR, ESC, NUL …), DEL, Unicode
    format characters (bidi overrides, zero-width) and line/paragraph
    separators. A backslash is doubled, so an escape in the log is never
    ambiguous with one the client typed.
    """
    out: list[str] = []
    for char in text[:limit]:
        if char == "\\":
            out.append("\\\\")
        elif unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    if len(text) > limit:
        out.append("…")
    return "".join(out)


def redact_url(path: str, query: str) -> str:
    """``path?query`` with credential-like parameters and token-shaped strings redacted."""
    if query:
        parts = []
        for pair in query.split("&"):
            name, equals, _value = pair.partition("=")
            parts.append(f"{name}={REDACTED}" if equals and _SECRET_PARAMS.match(name) else pair)
        path = f"{path}?{'&'.join(parts)}"
    return _NOC_TOKEN.sub(f"noc_{REDACTED}", path)


class SafeFormatter(logging.Formatter):
    """A formatter escaping control characters in every record's message (not the traceback)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = log_safe(record.message, limit=20_000)
        return super().formatMessage(record)


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
            error_log.exception(
                "unexpected error in %s %s",
                log_safe(str(scope.get("method"))),
                log_safe(str(scope.get("path"))),
            )
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
    when it opens. The Authorization header is never logged; every field is
    escaped and URLs are redacted (see the module docstring). A client that
    goes away before an answer (mid-upload, typically) is logged as
    ``abandoned``, not as an error the server never sent.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        logged = False
        disconnected = False

        async def watching_receive() -> Message:
            nonlocal disconnected
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
            return message

        async def send_and_log(message: Message) -> None:
            nonlocal logged
            if message["type"] == "http.response.start" and not logged:
                logged = True
                self._log(scope, str(int(message["status"])), started)
            await send(message)

        failed = True
        try:
            await self.app(scope, watching_receive, send_and_log)
            failed = False
        finally:
            if not logged:
                if disconnected or not failed:
                    # The client went away before an answer (mid-upload, say).
                    self._log(scope, "abandoned", started)
                else:
                    # The app failed before answering; the server sends a 500.
                    self._log(scope, "500", started)

    @staticmethod
    def _log(scope: Scope, status: str, started: float) -> None:
        client = scope.get("client")
        peer = f"{client[0]}:{client[1]}" if client else "-"
        raw = scope.get("raw_path")
        path = raw.decode("latin-1") if isinstance(raw, bytes) else str(scope.get("path", ""))
        query = scope.get("query_string", b"").decode("latin-1")
        elapsed_ms = (time.perf_counter() - started) * 1000
        access_log.info(
            '%s "%s %s" %s %.1fms',
            log_safe(peer),
            log_safe(str(scope.get("method", "-"))),
            log_safe(redact_url(path, query)),
            status,
            elapsed_ms,
        )
