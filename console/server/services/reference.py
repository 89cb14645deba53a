"""Reference data: teams, services, contacts, categories, escalation policies, rotations,
known errors.

Read by every role, written by admins. Each item is stored as its wire JSON;
a write checks the wire schema (by the route), the domain's rules (a policy's
tier order, a rotation's overrides), and that every id it names exists. A
delete is refused while other items still name the item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.domain.errors import DomainError
from console.server.core import changes
from console.server.core.errors import ApiError
from console.server.core.tables import ReferenceRow
from console.wire import (
    Category,
    CategoryIn,
    ChangeKindWire,
    Contact,
    ContactIn,
    EscalationPolicy,
    EscalationPolicyIn,
    KnownError,
    KnownErrorIn,
    OnCallRotation,
    OnCallRotationIn,
    ReferenceMeta,
    Service,
    ServiceIn,
    Team,
    TeamIn,
    policy_to_domain,
    rotation_to_domain,
)

# (kind, id) pairs an item refers to. Computed from the item's wire JSON, so
# the same functions serve a PUT body and a stored item.
Refs = list[tuple[ChangeKindWire, str]]
Data = dict[str, Any]


def _no_refs(_item: Data) -> Refs:
    return []


def _service_refs(item: Data) -> Refs:
    return [("team", item["owner_team"])]


def _contact_refs(item: Data) -> Refs:
    return [("team", item["team"])]


def _policy_refs(item: Data) -> Refs:
    refs: Refs = [("service", item["service"])]
    for tier in item.get("tiers", ()):
        refs.append(("team", tier["team"]))
        if tier.get("rotation_id"):
            refs.append(("shift", tier["rotation_id"]))
        if tier.get("contact_id"):
            refs.append(("contact", tier["contact_id"]))
    for rule in item.get("management", ()):
        if rule.get("rotation_id"):
            refs.append(("shift", rule["rotation_id"]))
    return refs


def _rotation_refs(item: Data) -> Refs:
    refs: Refs = [("team", item["team"])]
    refs += [("contact", member) for member in item.get("members", ())]
    refs += [("contact", o["contact_id"]) for o in item.get("overrides", ())]
    return refs


def _known_error_refs(item: Data) -> Refs:
    refs: Refs = [("service", service) for service in item.get("services", ())]
    if item.get("category"):
        refs.append(("category", item["category"]))
    return refs


def _check_policy(_item_id: str, item: EscalationPolicyIn) -> None:
    policy_to_domain(item)


def _check_rotation(item_id: str, item: OnCallRotationIn) -> None:
    rotation_to_domain(item_id, item)


def _no_check(_item_id: str, _item: Any) -> None:
    return None


@dataclass(frozen=True)
class ReferenceKind:
    """How one kind of reference data is named, validated and linked."""

    kind: ChangeKindWire
    path: str  # under /v1/
    label: str  # for messages: "team", "escalation policy"
    model_in: type[BaseModel]
    model_out: type[ReferenceMeta]
    refs: Callable[[Data], Refs]
    check: Callable[[str, Any], None]


KINDS: dict[str, ReferenceKind] = {
    k.kind: k
    for k in (
        ReferenceKind("team", "teams", "team", TeamIn, Team, _no_refs, _no_check),
        ReferenceKind(
            "service", "services", "service", ServiceIn, Service, _service_refs, _no_check
        ),
        ReferenceKind(
            "contact", "contacts", "contact", ContactIn, Contact, _contact_refs, _no_check
        ),
        ReferenceKind(
            "category", "categories", "category", CategoryIn, Category, _no_refs, _no_check
        ),
        ReferenceKind(
            "policy",
            "policies",
            "escalation policy",
            EscalationPolicyIn,
            EscalationPolicy,
            _policy_refs,
            _check_policy,
        ),
        ReferenceKind(
            "shift",
            "shifts",
            "on-call rotation",
            OnCallRotationIn,
            OnCallRotation,
            _rotation_refs,
            _check_rotation,
        ),
        ReferenceKind(
            "known_error",
            "known-errors",
            "known error",
            KnownErrorIn,
            KnownError,
            _known_error_refs,
            _no_check,
        ),
    )
}


def item_json(row: ReferenceRow) -> dict[str, Any]:
    """The stored item as its wire JSON (content plus id, version, updated_at)."""
    model = KINDS[row.kind].model_out.model_validate(
        {**row.data, "id": row.id, "version": row.version, "updated_at": row.updated_at}
    )
    return model.model_dump(mode="json")


def list_items(*, session: Session, kind: ReferenceKind) -> list[ReferenceRow]:
    """Every item of a kind, by id."""
    return list(
        session.scalars(
            select(ReferenceRow).where(ReferenceRow.kind == kind.kind).order_by(ReferenceRow.id)
        ).all()
    )


def get_item(*, session: Session, kind: ReferenceKind, item_id: str) -> ReferenceRow:
    """One item; 404 naming where to look when it does not exist."""
    row = session.get(ReferenceRow, (kind.kind, item_id))
    if row is None:
        raise ApiError(
            404, "not_found", f"no {kind.label} {item_id!r}; GET /v1/{kind.path} lists them"
        )
    return row


def _check_version(row: ReferenceRow | None, expected: int | None, label: str) -> None:
    if expected is None:
        return
    if row is None:
        raise ApiError(412, "stale_version", f"If-Match given, but this {label} does not exist")
    if expected >= 0 and row.version != expected:
        raise ApiError(
            412,
            "stale_version",
            f"this {label} is at version {row.version}, not {expected}; re-read it and retry",
        )


def put_item(
    *,
    session: Session,
    kind: ReferenceKind,
    item_id: str,
    body: BaseModel,
    expected_version: int | None,
    now: datetime,
    notify_channel: str | None,
) -> tuple[ReferenceRow, bool]:
    """Create or replace an item; returns the row and whether it was created.

    ``expected_version`` (from If-Match; -1 for ``*``) guards against
    overwriting someone else's edit.
    """
    try:
        kind.check(item_id, body)
    except DomainError as exc:
        raise ApiError(422, "invalid_value", str(exc)) from None
    data = body.model_dump(mode="json")
    missing = [
        f"{ref_kind} {ref_id!r}"
        for ref_kind, ref_id in dict.fromkeys(kind.refs(data))
        if session.get(ReferenceRow, (ref_kind, ref_id)) is None
        and not (ref_kind == kind.kind and ref_id == item_id)
    ]
    if missing:
        raise ApiError(
            422,
            "unknown_reference",
            f"this {kind.label} names {', '.join(missing)}, which do not exist; create them first",
        )
    if isinstance(body, EscalationPolicyIn):
        other = next(
            (
                r.id
                for r in list_items(session=session, kind=kind)
                if r.data.get("service") == body.service and r.id != item_id
            ),
            None,
        )
        if other is not None:
            raise ApiError(
                409,
                "conflict",
                f"service {body.service!r} already has escalation policy {other!r}; "
                "change that one instead",
            )
    row = session.get(ReferenceRow, (kind.kind, item_id))
    _check_version(row, expected_version, kind.label)
    created = row is None
    if row is None:
        row = ReferenceRow(kind=kind.kind, id=item_id, version=1, updated_at=now, data=data)
        session.add(row)
    elif row.data == data:
        return row, False  # nothing changed: no new version, no feed entry
    else:
        row.version += 1
        row.updated_at = now
        row.data = data
    session.flush()
    changes.append(
        session=session,
        kind=kind.kind,
        entity_id=item_id,
        op="upsert",
        data=item_json(row),
        at=now,
        notify_channel=notify_channel,
    )
    return row, created


def delete_item(
    *,
    session: Session,
    kind: ReferenceKind,
    item_id: str,
    expected_version: int | None,
    now: datetime,
    notify_channel: str | None,
) -> None:
    """Delete an item (a tombstone in the feed), unless other items still name it."""
    row = get_item(session=session, kind=kind, item_id=item_id)
    _check_version(row, expected_version, kind.label)
    users: list[str] = []
    for other_kind in KINDS.values():
        for other in list_items(session=session, kind=other_kind):
            if (kind.kind, item_id) in other_kind.refs(other.data) and not (
                other.kind == kind.kind and other.id == item_id
            ):
                users.append(f"{other_kind.label} {other.id!r}")
    if users:
        shown = ", ".join(users[:5]) + (f" and {len(users) - 5} more" if len(users) > 5 else "")
        raise ApiError(
            409,
            "still_referenced",
            f"{kind.label} {item_id!r} is still named by {shown}; change or delete those first",
        )
    session.delete(row)
    session.flush()
    changes.append(
        session=session,
        kind=kind.kind,
        entity_id=item_id,
        op="delete",
        data=None,
        at=now,
        notify_channel=notify_channel,
    )
