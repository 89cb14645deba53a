"""Reference data routes: ``/v1/teams``, ``/services``, ``/contacts``, ``/categories``,
``/policies``, ``/shifts``, ``/known-errors``. Every role reads; admins write.

One route set per kind, built by :func:`_router_for`. This module does not use
``from __future__ import annotations``: FastAPI reads the body type from the
annotations of the functions built in the loop, so they must be real classes.
"""

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response
from pydantic import BaseModel

from console.server.core.errors import responses
from console.server.deps import Admin, Context, ReadSession, Viewer, WriteSession
from console.server.routes.common import (
    IfMatchOptional,
    json_response,
    parse_if_match,
    version_headers,
)
from console.server.services import reference as service
from console.server.services.reference import KINDS, ReferenceKind
from console.wire import REF_ID_PATTERN, ReferencePage

ItemId = Annotated[
    str,
    Path(
        pattern=REF_ID_PATTERN,
        max_length=64,
        description="lower-case letters, digits, '.', '_' and '-', e.g. `network-oncall`",
    ),
]


def _router_for(kind: ReferenceKind) -> APIRouter:
    router = APIRouter(prefix=f"/v1/{kind.path}", tags=["reference data"])
    model_in: type[BaseModel] = kind.model_in
    model_out = kind.model_out
    label = kind.label
    # Operation ids are identifiers in generated clients: no hyphens.
    plural = kind.path.replace("-", "_")

    @router.get(
        "",
        response_model=ReferencePage[model_out],  # type: ignore[valid-type]
        summary=f"List {kind.path}",
        responses=responses(401),
        operation_id=f"list_{plural}",
    )
    def list_items(session: ReadSession, _principal: Viewer) -> Response:
        rows = service.list_items(session=session, kind=kind)
        return json_response({"items": [service.item_json(row) for row in rows]})

    list_items.__doc__ = f"Every {label}, by id (any role)."

    @router.get(
        "/{item_id}",
        response_model=model_out,
        summary=f"Read one {label}",
        responses=responses(401, 404, 422),
        operation_id=f"get_{kind.kind}",
    )
    def get_item(item_id: ItemId, session: ReadSession, _principal: Viewer) -> Response:
        row = service.get_item(session=session, kind=kind, item_id=item_id)
        return json_response(service.item_json(row), headers=version_headers(row.version))

    get_item.__doc__ = f"One {label}; its version is the ETag."

    @router.put(
        "/{item_id}",
        response_model=model_out,
        summary=f"Create or replace a {label}",
        responses={
            **responses(400, 401, 403, 409, 412, 413, 422),
            201: {"model": model_out, "description": f"the {label} was created"},
        },
        operation_id=f"put_{kind.kind}",
    )
    def put_item(
        item_id: ItemId,
        body: model_in,  # type: ignore[valid-type]
        session: WriteSession,
        context: Context,
        _principal: Admin,
        if_match: IfMatchOptional = None,
    ) -> Response:
        expected = parse_if_match(if_match, required=False, allow_any=True)
        row, created = service.put_item(
            session=session,
            kind=kind,
            item_id=item_id,
            body=body,
            expected_version=expected,
            now=context.clock(),
            notify_channel=context.notify_channel,
        )
        data = service.item_json(row)
        session.commit()
        return json_response(data, 201 if created else 200, version_headers(row.version))

    put_item.__doc__ = (
        f"Create the {label} with this id, or replace it (admin). Ids it names must exist; "
        "If-Match (optional) guards against overwriting someone else's edit."
    )

    @router.delete(
        "/{item_id}",
        status_code=204,
        summary=f"Delete a {label}",
        responses=responses(400, 401, 403, 404, 409, 412, 422),
        operation_id=f"delete_{kind.kind}",
    )
    def delete_item(
        item_id: ItemId,
        session: WriteSession,
        context: Context,
        _principal: Admin,
        if_match: IfMatchOptional = None,
    ) -> Response:
        expected = parse_if_match(if_match, required=False, allow_any=True)
        service.delete_item(
            session=session,
            kind=kind,
            item_id=item_id,
            expected_version=expected,
            now=context.clock(),
            notify_channel=context.notify_channel,
        )
        session.commit()
        return Response(status_code=204)

    delete_item.__doc__ = (
        f"Delete the {label} (admin); refused with 409 while other items name it. "
        "The change feed carries a tombstone."
    )
    return router


routers = [_router_for(kind) for kind in KINDS.values()]
