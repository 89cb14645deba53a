"""The NOC connector's fast decode of a wire incident: #19's roles and next_update_due."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from console.connectors.base import BackendError
from console.connectors.noc.decode import incident_from_json
from console.wire import incident_from_wire, incident_to_wire
from tests.helpers.factories import desk_incident


def _wire(**changes: Any) -> dict[str, Any]:
    data = incident_to_wire(desk_incident(1)).model_dump(mode="json")
    data.update(changes)
    return data


def test_roles_and_due_times_are_read_in_order_and_agree_with_the_wire_model() -> None:
    data = _wire(
        major=True,
        roles={"Incident Commander": "Tom", "Scribe": "Ana"},
        next_update_due={"internal": "2026-12-07T01:17:24Z", "executive": None},
    )
    fast = incident_from_json(data)
    assert fast.roles == (("Incident Commander", "Tom"), ("Scribe", "Ana"))
    assert fast.next_update_due == (
        ("internal", datetime(2026, 12, 7, 1, 17, 24, tzinfo=UTC)),
        ("executive", None),
    )
    from console.wire import Incident as WireIncident

    assert incident_from_wire(WireIncident.model_validate(data)) == fast


def test_a_server_without_the_fields_gives_empty_ones() -> None:
    data = _wire()
    data.pop("roles")
    data.pop("next_update_due")
    incident = incident_from_json(data)
    assert (incident.roles, incident.next_update_due) == ((), ())


def test_a_malformed_value_is_refused_with_the_field_named() -> None:
    with pytest.raises(BackendError, match="next_update_due"):
        incident_from_json(_wire(next_update_due={"internal": "soon"}))
    with pytest.raises(BackendError, match="roles"):
        incident_from_json(_wire(roles=["Tom"]))
