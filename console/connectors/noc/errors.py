"""Reading our server's failures: its JSON error body, and a short reason for a transport error."""

from __future__ import annotations

import json

import requests


def error_of(response: requests.Response) -> tuple[str, str]:
    """The server's ``{"error": {"code", "message"}}``, or a readable stand-in."""
    try:
        body = json.loads(response.content)
        error = body["error"]
        return str(error.get("code", "")), str(error["message"])
    except (ValueError, KeyError, TypeError, AttributeError):
        text = response.text.strip().replace("\n", " ")[:200]
        return "", text or f"HTTP {response.status_code} {response.reason}"


PLAIN_HTTP_SIGNS = ("WRONG_VERSION_NUMBER", "wrong version number", "record layer failure")


def speaks_plain_http(exc: BaseException) -> bool:
    """An HTTPS hello answered by a plain-HTTP server (OpenSSL's tell-tale reasons)."""
    text = transport_reason(exc)
    return any(sign in text for sign in PLAIN_HTTP_SIGNS)


def transport_reason(exc: BaseException) -> str:
    """A short reason for a transport error (requests nests the useful part deeply)."""
    inner: BaseException | None = exc
    seen = 0
    while inner is not None and seen < 6:
        args = getattr(inner, "args", ())
        nested = next((a for a in args if isinstance(a, BaseException)), None)
        reason = getattr(inner, "reason", None)
        if isinstance(reason, BaseException):
            nested = reason
        if nested is None:
            break
        inner, seen = nested, seen + 1
    text = str(inner or exc)
    if "Connection refused" in text or isinstance(inner, ConnectionRefusedError):
        return "connection refused: the server is not running or not listening there"
    if "certificate verify failed" in text:
        return "certificate verify failed: " + text.split("certificate verify failed:", 1)[-1][:120]
    return text[:200]
