"""The triage through the sync layer: creating offline with the triage's fields, the
engine sending them, who the console acts as, and known errors synced into the cache.

Real server on loopback (``EmbeddedServer``, reached over HTTP), real cache files.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from console.connectors.base import BackendError, Caller
from console.connectors.noc import NocBackend
from console.domain.errors import DomainError, InvalidValue
from console.domain.severity import Severity
from console.domain.triage import KnownError, search_known_errors
from console.server.core.auth import Role
from console.server.embedded import EmbeddedServer
from console.store import Cache
from console.sync.edits import LocalEdits, is_local_id, store_caller
from tests.helpers.sync import NEW, Console

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

TRIAGED = {
    **NEW,  # high impact x low urgency: SEV-3 by the matrix
    "description": "Card payments fail with 502",
    "reporter": "Shop manager, +44 20 7946 0000",
    "assignment_group": "payments-eng",
    "severity": "SEV-1",
    "severity_reason": "every EU card payment fails",
    "major": True,
    "commander": "Lucía Fernández",
}


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache.open(tmp_path / "offline" / "cache.db")


# ------------------------------------------------------- creating, offline


def test_create_with_triage_fields_shows_at_once_and_queues_them(cache: Cache) -> None:
    """No backend at all: the placeholder carries the override and the major flag."""
    queued: list[int] = []
    edits = LocalEdits(cache, author="ana", clock=lambda: NOW, on_queued=lambda: queued.append(1))
    shown = edits.create(**TRIAGED)
    assert is_local_id(shown.id)
    assert shown.severity is Severity.SEV1
    assert shown.major is True
    assert shown.assignment_group == "payments-eng"
    assert cache.incident(shown.id) == shown
    assert queued == [1]
    [record] = cache.pending_outbox()
    assert record.operation == "create"
    assert record.payload["fields"] == {
        "title": "Checkout returns 502",
        "service": "checkout",
        "impact": "high",
        "urgency": "low",
        "category": None,
        "subcategory": None,
        "description": "Card payments fail with 502",
        "reporter": "Shop manager, +44 20 7946 0000",
        "source": "phone",
        "assignment_group": "payments-eng",
        "severity": "SEV-1",
        "severity_reason": "every EU card payment fails",
        "major": True,
        "commander": "Lucía Fernández",
    }
    # Offline too, the floor sees that it is a major incident and who commands it.
    [declared] = cache.timeline(shown.id)
    assert declared.kind.value == "escalation"
    assert declared.body == (
        "Declared a major incident; Incident Commander: Lucía Fernández (waiting to be sent)"
    )


def test_a_plain_create_sends_no_triage_fields(cache: Cache) -> None:
    """A backend that does not know the triage's fields is never sent them."""
    shown = LocalEdits(cache, clock=lambda: NOW).create(**NEW)
    assert shown.severity is Severity.SEV3
    assert shown.major is False
    [record] = cache.pending_outbox()
    assert not {"assignment_group", "severity", "severity_reason", "major", "commander"} & set(
        record.payload["fields"]
    )


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"severity": "SEV-1"}, "severity_reason"),
        ({"severity": "SEV-1", "severity_reason": "  "}, "severity_reason"),
        ({"severity_reason": "because"}, "severity_reason"),
        ({"severity": "SEV-7", "severity_reason": "x"}, "severity"),
        ({"commander": "Ana"}, "commander"),
    ],
)
def test_inconsistent_triage_fields_are_refused_and_nothing_is_queued(
    cache: Cache, extra: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        LocalEdits(cache).create(**NEW, **extra)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert cache.pending_outbox() == []
    assert cache.incidents() == []


def test_a_known_dispatcher_is_refused_an_override_at_once_with_who_may(cache: Cache) -> None:
    store_caller(cache, "https://noc.example.com", Caller("ana", "dispatcher"))
    edits = LocalEdits(cache)
    with pytest.raises(DomainError, match="commander role or higher") as caught:
        edits.create(**TRIAGED)
    assert "commander or admin" in str(caught.value)
    assert "ana (dispatcher)" in str(caught.value)
    assert cache.pending_outbox() == []
    # Without the override the same triage goes through.
    no_override = {k: v for k, v in TRIAGED.items() if not k.startswith("severity")}
    assert edits.create(**no_override).severity is Severity.SEV3  # type: ignore[arg-type]


def test_caller_is_unknown_until_a_backend_or_the_demo_says(cache: Cache) -> None:
    edits = LocalEdits(cache)
    assert edits.caller() is None
    store_caller(cache, "demo", Caller("demo", "commander"))
    assert edits.caller() == Caller("demo", "commander")
    store_caller(cache, "demo", None)
    assert edits.caller() is None
    cache.set_meta("sync.caller", "{not json")
    assert edits.caller() is None


# ------------------------------------------------------- the engine sends them


def test_the_engine_sends_the_triage_and_the_server_records_it(
    console_factory: Callable[..., Console],
) -> None:
    console = console_factory(role=Role.COMMANDER)
    shown = LocalEdits(console.cache, author="lfernandez").create(**TRIAGED)
    console.engine.sync_once()
    [created] = console.cache.incidents()
    assert not is_local_id(created.id)
    assert created.number.startswith("INC-")
    assert (created.severity, created.major, created.assignment_group) == (
        Severity.SEV1,
        True,
        "payments-eng",
    )
    assert console.cache.incident(shown.id) is None
    assert console.cache.pending_outbox() == []
    entries = {e.kind.value: e for e in console.cache.timeline(created.id)}
    assert entries["severity_change"].body == (
        "Severity SEV-3 → SEV-1 by override: every EU card payment fails"
    )
    assert entries["escalation"].body == (
        "Declared a major incident; Incident Commander: Lucía Fernández"
    )
    assert entries["assignment"].body == "Routed to payments-eng"
    # The local "declared" entry gave way to the backend's: one declaration, not two.
    declarations = [e for e in console.cache.timeline(created.id) if "major" in e.body]
    assert [e.body for e in declarations] == [
        "Declared a major incident; Incident Commander: Lucía Fernández"
    ]
    # The backend's own copy agrees.
    assert console.backend.get_incident(created.id).severity is Severity.SEV1


def test_an_override_by_a_dispatcher_is_refused_by_the_backend_with_who_may(
    console_factory: Callable[..., Console],
) -> None:
    """The caller is not known before the first sync: the backend has the last word."""
    console = console_factory(role=Role.DISPATCHER)
    edits = LocalEdits(console.cache)
    assert edits.caller() is None
    shown = edits.create(**TRIAGED)
    console.engine.sync_once()
    [refused] = console.engine.rejections()
    assert refused.status == 403
    assert "commander or admin" in refused.message
    assert console.cache.incident(shown.id) is None  # the placeholder is withdrawn
    # Now the console knows it is a dispatcher and says so before queuing anything.
    assert edits.caller() == Caller("console-a", "dispatcher")
    with pytest.raises(DomainError, match="commander or admin"):
        edits.create(**TRIAGED)


def test_the_engine_stores_who_the_console_acts_as_and_it_survives_offline(
    console_factory: Callable[..., Console], server: EmbeddedServer, tmp_path: Path
) -> None:
    console = console_factory("desk-7", role=Role.DISPATCHER)
    console.engine.sync_once()
    assert LocalEdits(console.cache).caller() == Caller("desk-7", "dispatcher")
    # A new token (after the old one was refused, say) is a new connection: asked again.
    console.engine.set_token(server.issue_token("desk-7-lead", Role.COMMANDER))
    console.engine.sync_once()
    assert LocalEdits(console.cache).caller() == Caller("desk-7-lead", "commander")
    # Offline (no engine, the cache reopened from its file): the last answer stands.
    console.engine.stop()
    console.cache.close()
    reopened = Cache.open(tmp_path / "desk-7" / "cache.db")
    try:
        assert LocalEdits(reopened).caller() == Caller("desk-7-lead", "commander")
    finally:
        reopened.close()


def test_a_caller_stored_for_another_backend_is_forgotten(
    console_factory: Callable[..., Console], tmp_path: Path
) -> None:
    """The demo's commander must not carry over to a real backend."""
    seeded = Cache.open(tmp_path / "console-a" / "cache.db")
    store_caller(seeded, "demo", Caller("demo", "commander"))
    seeded.close()
    console = console_factory("console-a", role=Role.DISPATCHER)
    assert LocalEdits(console.cache).caller() is None  # before any sync
    console.engine.sync_once()
    assert LocalEdits(console.cache).caller() == Caller("console-a", "dispatcher")


class _Undecided:
    """Our connector, except that ``whoami`` fails or cannot say.

    Stands in for a backend whose account lookup is broken, which the reference
    server cannot be made to do on purpose.
    """

    def __init__(self, backend: NocBackend, answer: Exception | None) -> None:
        self._backend = backend
        self._answer = answer

    def __getattr__(self, name: str) -> object:
        return getattr(self._backend, name)

    @property
    def key(self) -> str:
        return self._backend.key

    @property
    def url(self) -> str:
        return self._backend.url

    @property
    def supports_events(self) -> bool:
        return False

    def whoami(self) -> Caller | None:
        if self._answer is not None:
            raise self._answer
        return None


def test_a_failing_whoami_does_not_stop_syncing_and_keeps_the_last_answer(
    console: Console, other: NocBackend, server: EmbeddedServer
) -> None:
    console.engine.sync_once()
    known = LocalEdits(console.cache).caller()
    assert known is not None
    other.create_incident(NEW, idempotency_key=uuid.uuid4().hex)
    console.engine.backend = _Undecided(console.backend, BackendError("garbled answer"))  # type: ignore[assignment]
    # A new token is a new connection: the engine asks again.
    console.engine.set_token(server.issue_token("console-a-2", Role.DISPATCHER))
    console.engine.sync_once()
    assert len(console.cache.incidents()) == 1  # the sync went on
    assert LocalEdits(console.cache).caller() == known
    # A backend that cannot say makes the caller unknown.
    console.engine.backend = _Undecided(console.backend, None)  # type: ignore[assignment]
    console.engine.set_token(server.issue_token("console-a-3", Role.DISPATCHER))
    console.engine.sync_once()
    assert LocalEdits(console.cache).caller() is None


# ------------------------------------------------------------- known errors


def test_known_errors_sync_into_the_cache_and_are_searchable(
    console: Console, server: EmbeddedServer
) -> None:
    admin = {"Authorization": f"Bearer {server.issue_token('kb-admin', Role.ADMIN)}"}
    with httpx.Client(base_url=server.url, headers=admin, timeout=10) as client:
        team = {"name": "Payments Engineering", "tier": "L2"}
        assert client.put("/v1/teams/payments-eng", json=team).status_code == 201
        service = {"name": "Checkout", "owner_team": "payments-eng", "criticality": "critical"}
        assert client.put("/v1/services/checkout", json=service).status_code == 201
        known = {
            "title": "Checkout 502s during PSP gateway failover",
            "symptoms": "Card payments fail with 502 for a few minutes",
            "workaround": "Pin the region to the secondary PSP route",
            "services": ["checkout"],
        }
        assert client.put("/v1/known-errors/ke-0003", json=known).status_code == 201
        console.engine.sync_once()
        [row] = console.cache.reference("known_errors")
        ke = KnownError.from_mapping(row)
        assert (ke.id, ke.services, ke.category, ke.article) == (
            "ke-0003",
            ("checkout",),
            None,
            None,
        )
        found = search_known_errors([ke], text="Checkout returns 502", service="checkout")
        assert found[0].known_error.id == "ke-0003"
        assert client.delete("/v1/known-errors/ke-0003").status_code == 204
    console.engine.sync_once()
    assert console.cache.reference("known_errors") == []
