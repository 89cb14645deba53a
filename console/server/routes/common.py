"""Helpers the routes share: JSON responses, ETags and If-Match, the write scope, and
:func:`run_write`, which every write route goes through (Idempotency-Key included)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from console.server.core.auth import Principal
from console.server.core.errors import ApiError
from console.server.core.writer import WriterStopped
from console.server.deps import IdempotencyKey, ServerContext, WriteCaller
from console.server.services import idempotency
from console.server.services.incidents import WriteScope
from console.wire import etag, parse_etag

# The patterns are documented, not enforced by FastAPI, so a malformed value
# gets our own 400 with a clear message rather than a generic validation error.
ETAG_PATTERN = r'^\s*(W/)?"?[0-9]{1,18}"?\s*$'
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=64,
        description='the ETag of the version you edited, e.g. "3" (from GET); required',
        json_schema_extra={"pattern": ETAG_PATTERN},
    ),
]
IfMatchOptional = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=64,
        description='optional: the ETag of the version you edited ("3"), or * for "must exist"',
        json_schema_extra={"pattern": r'^\s*((W/)?"?[0-9]{1,18}"?|\*)\s*$'},
    ),
]
IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        max_length=200,
        description='answer 304 if still this ETag (or one of a list, or *), e.g. "3"; '
        "anything else is 400",
        json_schema_extra={
            "pattern": r'^\s*(\*|(W/)?"?[0-9]{1,18}"?(\s*,\s*(W/)?"?[0-9]{1,18}"?)*)\s*$'
        },
    ),
]


def json_response(
    content: BaseModel | dict[str, Any] | str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A JSON response from a wire model, a dict, or ready-made JSON text."""
    if isinstance(content, BaseModel):
        body = content.model_dump_json()
    elif isinstance(content, dict):
        body = json.dumps(content, separators=(",", ":"))
    else:
        body = content
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


def version_headers(version: int, **extra: str) -> dict[str, str]:
    """``ETag: "<version>"`` plus any other headers."""
    return {"ETag": etag(version), **extra}


def parse_if_match(value: str | None, *, required: bool, allow_any: bool = False) -> int | None:
    """The version named by If-Match (-1 for ``*`` where allowed), None when absent.

    Absent and required → 428; unreadable → 400; the caller compares the
    version and answers 412 when it is stale.
    """
    if value is None:
        if required:
            raise ApiError(
                428,
                "if_match_required",
                'send If-Match: "<version>" with the ETag of your last read, so an edit '
                "made meanwhile by someone else is not overwritten",
            )
        return None
    if value.strip() == "*" and allow_any:
        return -1
    version = parse_etag(value)
    if version is None:
        raise ApiError(
            400,
            "invalid_if_match",
            f'If-Match {value[:40]!r} is not an ETag; send the version in quotes, e.g. "3"',
        )
    return version


_LISTED_ETAG = re.compile(r'^\s*(?:W/)?(?:"([0-9]{1,18})"|([0-9]{1,18}))\s*$')


def _listed_etag(text: str) -> int | None:
    match = _LISTED_ETAG.match(text)
    return None if match is None else int(match.group(1) or match.group(2))


def if_none_match_hits(value: str | None, version: int) -> bool:
    """Whether ``If-None-Match`` names ``version`` (a list of ETags or ``*``); 400 if malformed."""
    if value is None:
        return False
    if value.strip() == "*":
        return True
    versions = [_listed_etag(part) for part in value.split(",")]
    if any(v is None for v in versions):
        raise ApiError(
            400,
            "invalid_if_none_match",
            f"If-None-Match {value[:40]!r} is not an ETag (or a list of them); send the "
            'ETag of your last read, e.g. "3"',
        )
    return version in versions


def write_scope(context: ServerContext, principal: Principal) -> WriteScope:
    """The scope of a write: who, now, and the SLA rules."""
    return WriteScope(
        principal=principal,
        now=context.clock(),
        sla=context.sla,
        notify_channel=context.notify_channel,
        free_text_services=context.settings.free_text_services,
    )


def replayed(
    *, session: Session, principal: Principal, key: str | None, request_hash: str
) -> Response | None:
    """The first response to this ``Idempotency-Key``, or None to go ahead with the write."""
    if key is None:
        return None
    stored = idempotency.replay(
        session=session, client=principal.name, key=key, request_hash=request_hash
    )
    if stored is None:
        return None
    return json_response(
        stored.response, stored.status_code, {**stored.headers, "Idempotent-Replayed": "true"}
    )


WriteResult = tuple[int, str, dict[str, str]]
"""What a write callback returns: status, the JSON body, the headers."""


@dataclass(frozen=True)
class WriteRequest:
    """What names a write for its ``Idempotency-Key``: the key sent (if any), method and path."""

    key: str | None
    method: str
    path: str

    def fingerprint(self, body: BaseModel | None) -> str:
        """The request's hash with its parsed ``body`` (:func:`idempotency.fingerprint`)."""
        return idempotency.fingerprint(self.method, self.path, body)


async def write_request(request: Request, idempotency_key: IdempotencyKey = None) -> WriteRequest:
    """The write's :class:`WriteRequest`, with the ``Idempotency-Key`` header checked."""
    return WriteRequest(key=idempotency_key, method=request.method, path=request.url.path)


Idempotent = Annotated[WriteRequest, Depends(write_request)]
"""A write route's ``Idempotency-Key`` with its method and path, for :func:`run_write`."""


async def run_write(
    context: ServerContext,
    caller: WriteCaller,
    request: WriteRequest,
    *,
    body: BaseModel | None,
    write: Callable[[Session, WriteScope], WriteResult],
) -> Response:
    """Run ``write`` in the group writer's next batch and answer once it is committed.

    Inside the write transaction, in this order: the token is re-read (401 if
    revoked since, 403 if below the route's role), the ``Idempotency-Key`` is
    looked up (the first answer is returned as it was, if the method, path and
    parsed ``body`` are the same), ``write`` runs, and its answer is remembered
    under the key, in the same transaction as the write.
    """
    key = request.key
    request_hash = request.fingerprint(body)

    def work(session: Session) -> Response:
        principal = caller.confirm(session)
        replay = replayed(session=session, principal=principal, key=key, request_hash=request_hash)
        if replay is not None:
            return replay
        scope = write_scope(context, principal)
        status, text, headers = write(session, scope)
        if key is not None:
            idempotency.remember(
                session=session,
                client=principal.name,
                key=key,
                request_hash=request_hash,
                status_code=status,
                response=text,
                headers=headers,
                now=scope.now,
            )
        return json_response(text, status, headers)

    try:
        hint = None if key is None else (caller.principal.name, key)
        return await context.writer.run(work, hint=hint)
    except WriterStopped:
        raise ApiError(
            503, "shutting_down", "the server is shutting down; retry in a moment"
        ) from None
