"""One error shape for every failure: ``{"error": {"code": "...", "message": "..."}}``.

Validation errors name the field path and what is wrong with it; domain errors
keep the domain's own wording (it already says what is allowed); nothing a
client sends can produce a 5xx.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from console.domain.errors import DomainError, InvalidValue
from console.domain.lifecycle import IllegalTransition
from console.wire import ErrorBody
from console.wire.errors import problems

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error a route raises on purpose: status, stable code, and a clear message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The JSON response for an error."""
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def describe_validation(errors: Sequence[Any]) -> tuple[str, str]:
    """A (code, message) for a list of pydantic errors: ``where: what``; several joined."""
    parts: list[str] = []
    code = "invalid_request"
    # "body" is implied for body fields; query/header/path names say where.
    for problem in problems(errors[:10], skip="body"):
        if problem.kind == "json_invalid":
            code = "malformed_json"
            position = problem.loc[1] if len(problem.loc) > 1 else "?"
            parts.append(
                f"the body is not valid JSON ({problem.context.get('error', 'decode error')} "
                f"at character {position})"
            )
            continue
        message = problem.message
        if problem.kind == "extra_forbidden":
            message = "is not a field of this request; check the spelling"
        elif problem.kind == "missing":
            message = "is required"
        parts.append(f"{problem.where or 'body'}: {message}")
    if len(errors) > 10:
        parts.append(f"and {len(errors) - 10} more problems")
    return code, "; ".join(parts) or "the request is invalid"


def _code_for_status(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    code, message = describe_validation(exc.errors())
    return error_response(400 if code == "malformed_json" else 422, code, message)


def allowed_methods(request: Request) -> str:
    """Every method the API documents at this path, for ``Allow`` on a 405.

    Starlette names only the methods of the first route matching the path,
    and GET and PATCH of one path are separate routes; the OpenAPI document
    knows them all.
    """
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(
        request.app.state, "noc_allow_table", None
    )
    if table is None:
        table = []
        for template, operations in request.app.openapi()["paths"].items():
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            table.append((re.compile(pattern), {method.upper() for method in operations}))
        request.app.state.noc_allow_table = table
    methods: set[str] = set()
    for compiled, documented in table:
        if compiled.fullmatch(request.url.path):
            methods |= documented
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        allow = allowed_methods(request)
        if allow:
            exc.headers = {**(exc.headers or {}), "Allow": allow}
    messages = {
        404: "no such endpoint; see /openapi.json for the API",
        405: "this endpoint does not accept that method; see /openapi.json",
    }
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code in messages and detail in (None, HTTPStatus(exc.status_code).phrase):
        detail = messages[exc.status_code]
    return error_response(
        exc.status_code,
        _code_for_status(exc.status_code),
        detail or HTTPStatus(exc.status_code).phrase,
        exc.headers,
    )


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, IllegalTransition):
        return error_response(409, "illegal_transition", str(exc))
    if isinstance(exc, InvalidValue):
        return error_response(422, "invalid_value", str(exc))
    return error_response(409, "conflict", str(exc))


async def _database_busy(_request: Request, exc: Exception) -> JSONResponse:
    # Not the client's fault and worth a retry: the database is locked or gone.
    log.warning("database unavailable: %s", exc)
    return error_response(
        503,
        "database_unavailable",
        "the server cannot reach its database right now; retry in a few seconds",
        {"Retry-After": "2"},
    )


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the one shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(OperationalError, _database_busy)
    app.add_exception_handler(PoolTimeoutError, _database_busy)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error statuses a route can return."""
    descriptions = {
        304: "not modified (the ETag in If-None-Match is current)",
        400: "malformed request (e.g. the body is not JSON)",
        401: "no token, or an unknown or revoked one",
        403: "the token's role is too low for this",
        404: "no such item",
        409: "conflicts with the current state (an illegal state change, an item still in "
        "use, an Idempotency-Key reused for a different request)",
        412: "If-Match names an old version: re-read and retry",
        413: "the body is larger than 1 MiB",
        422: "a field is missing, of the wrong type, or out of range",
        428: "If-Match is required",
        503: "the database is unreachable or busy: retry shortly",
    }
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"description": descriptions[status]}
        if status != 304:
            entry["model"] = ErrorBody
        out[status] = entry
    return out
