"""The sync's face: the status line per state, the token dialog, conflicts and refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QLineEdit
from pytestqt.qtbot import QtBot

from console.connectors.noc import NocBackend
from console.models.sync_worker import SyncStatusModel
from console.store import Cache, OutboxEntry
from console.sync.edits import FieldConflict
from console.sync.engine import (
    META_CONFLICT,
    Conflict,
    Rejection,
    SyncEngine,
    SyncState,
    SyncStatus,
)
from console.views.sync_dialogs import (
    ConflictDialog,
    RejectionNotice,
    SyncStatusBar,
    TokenDialog,
    status_line,
)
from tests.helpers.factories import NOW
from tests.helpers.factories import desk_incident as make_incident

URL = "https://noc.example.com"


class Display:
    """Stands in for the window's status bar (records what it is told)."""

    def __init__(self) -> None:
        self.text = ""
        self.offline = True
        self.data_time: datetime | None = None

    def set_connection_state(self, text: str, *, offline: bool = True) -> None:
        self.text, self.offline = text, offline

    def set_data_time(self, when: datetime | None) -> None:
        self.data_time = when


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (SyncStatus(SyncState.LIVE, URL), f"● Live — {URL}"),
        (SyncStatus(SyncState.SYNCING, URL), "↻ Syncing 12 400 / 100 000"),
        (
            # The countdown's start is set when the test runs (see below).
            SyncStatus(SyncState.RECONNECTING, URL, next_try_at=NOW),
            f"⟳ Reconnecting to {URL} — next try in 8 s",
        ),
        (
            SyncStatus(
                SyncState.OFFLINE, URL, data_as_of=datetime(2026, 11, 18, 14, 2, 11, tzinfo=UTC)
            ),
            "✖ Offline — data as of "
            + datetime(2026, 11, 18, 14, 2, 11, tzinfo=UTC).astimezone().strftime("%H:%M:%S"),
        ),
        (
            SyncStatus(SyncState.AUTH_FAILED, URL, reason="token revoked"),
            "⚠ Sign-in needed — the backend did not accept the API token. "
            "Connection ▸ Enter API token…",
        ),
    ],
    ids=lambda v: v.state.value if isinstance(v, SyncStatus) else "",
)
def test_each_state_shows_its_glyph_and_words(
    qtbot: QtBot, status: SyncStatus, expected: str
) -> None:
    model = SyncStatusModel()
    display = Display()
    bar = SyncStatusBar(model, display, clock=lambda: NOW)
    if status.next_try_at is not None:
        # 8.4 s from now rounds to 8 s however long the test took to start.
        status = replace(status, next_try_at=datetime.now(UTC) + timedelta(seconds=8.4))
    model.set_status(status)
    if status.state is SyncState.SYNCING:
        model.set_progress(12_400, 100_000)
    assert display.text.startswith(expected), display.text
    assert bar.text == display.text
    # Colour may follow "offline", but the glyph and words say it on their own.
    assert display.offline is (status.state is not SyncState.LIVE)
    if status.state is SyncState.LIVE:
        assert display.data_time == NOW  # live data is as fresh as now
    if status.data_as_of is not None:
        assert display.data_time == status.data_as_of


def test_edits_waiting_are_counted_on_the_status_line(qtbot: QtBot) -> None:
    model = SyncStatusModel()
    display = Display()
    bar = SyncStatusBar(model, display)
    model.set_status(SyncStatus(SyncState.OFFLINE, URL))
    bar.set_pending(2)
    assert display.text.startswith("✖ Offline")
    assert display.text.endswith("· 2 edits waiting to be sent")
    bar.set_pending(0)
    assert "waiting" not in display.text


def test_status_line_has_a_glyph_for_every_state() -> None:
    for state in SyncState:
        assert status_line(state.value, "x")[0] not in ("•", "x")


def test_the_token_dialog_hides_the_token_and_hands_it_over_stripped(qtbot: QtBot) -> None:
    dialog = TokenDialog(URL, reason="The backend refused the token in use.")
    qtbot.addWidget(dialog)
    assert dialog.field.echoMode() is QLineEdit.EchoMode.Password
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    dialog.field.setText("  s3cret \n")
    assert ok.isEnabled()
    with qtbot.waitSignal(dialog.token_entered) as entered:
        ok.click()
    assert entered.args == ["s3cret"]
    assert dialog.field.text() == ""  # the secret does not linger in the widget
    assert URL in dialog.message.text()


def test_the_token_dialog_says_when_the_token_is_kept_for_this_session_only(
    qtbot: QtBot,
) -> None:
    dialog = TokenDialog(URL, remembered=False)
    qtbot.addWidget(dialog)
    assert "this session only" in dialog.message.text()


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    cache = Cache.open(tmp_path / "cache.db")
    yield cache
    cache.close()


def _queue_conflict(cache: Cache) -> Conflict:
    """An assignee edit that clashed with someone else's (as the engine records a 412)."""
    theirs = make_incident(7, assignee="bkim", version=3)
    cache.upsert_incidents([theirs])
    record = cache.enqueue(
        OutboxEntry(
            operation="patch",
            incident_id=theirs.id,
            payload={"fields": {"assignee": "avogel"}, "base": {"assignee": None}},
            base_version=2,
        )
    )
    detail = {
        "incident_id": theirs.id,
        "theirs_version": 3,
        "fields": {"assignee": "avogel"},
        "theirs": {"assignee": "bkim"},
        "conflicts": {"assignee": {"base": None, "mine": "avogel", "theirs": "bkim"}},
    }
    cache.set_meta(META_CONFLICT + str(record.id), json.dumps(detail))
    cache.mark_outbox_conflict(record.id, "assignee changed by someone else")
    return Conflict(
        record_id=record.id,
        incident_id=theirs.id,
        number=theirs.number,
        title=theirs.title,
        fields={"assignee": FieldConflict(None, "avogel", "bkim")},
        theirs_version=3,
    )


@pytest.mark.parametrize(("side", "kept"), [("mine", "avogel"), ("theirs", None)])
def test_the_conflict_dialog_offers_both_values_and_the_engine_applies_the_choice(
    qtbot: QtBot, cache: Cache, side: str, kept: str | None
) -> None:
    """A real engine and cache; the backend is never contacted (resolve is local)."""
    conflict = _queue_conflict(cache)
    backend = NocBackend("http://127.0.0.1:9", None)
    engine = SyncEngine(cache, backend)
    assert [c.record_id for c in engine.conflicts()] == [conflict.record_id]

    dialog = ConflictDialog(conflict)
    qtbot.addWidget(dialog)
    dialog.resolved.connect(engine.resolve_conflict)
    assert dialog.mine["assignee"].text() == "avogel"
    assert dialog.theirs["assignee"].text() == "bkim"
    assert not dialog.keep.isEnabled()  # nothing chosen for the operator
    dialog.choose("assignee", side)
    assert dialog.keep.isEnabled()
    with qtbot.waitSignal(dialog.resolved) as resolved:
        dialog.keep.click()
    assert resolved.args == [conflict.record_id, {"assignee": side}]

    assert engine.conflicts() == []
    pending = cache.pending_outbox()
    if kept is None:
        assert pending == []  # theirs kept: nothing left to send
    else:
        assert [r.payload["fields"] for r in pending] == [{"assignee": kept}]
        assert pending[0].base_version == 3
        shown = cache.incident(conflict.incident_id)
        assert shown is not None
        assert shown.assignee == kept
    backend.close()


def test_the_rejection_notice_shows_the_servers_message_and_offers_discard(
    qtbot: QtBot,
) -> None:
    rejection = Rejection(
        record_id=42,
        operation="patch",
        incident_id="inc-1",
        status=422,
        message="a resolved incident needs a resolution code",
        payload={},
    )
    notice = RejectionNotice(rejection)
    qtbot.addWidget(notice)
    assert "a resolved incident needs a resolution code" in notice.text()
    with qtbot.waitSignal(notice.discard_requested) as discarded:
        notice.discard_button.click()
    assert discarded.args == [42]


def test_dialogs_about_a_burst_open_one_at_a_time_in_order(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QDialog

    from console.views.sync_dialogs import OneAtATime

    opened: list[str] = []
    closed: list[str] = []

    def build(item: str) -> QDialog:
        dialog = QDialog()
        dialog.setObjectName(item)
        opened.append(item)
        return dialog

    queue: OneAtATime[str] = OneAtATime(build, closed=lambda d: closed.append(d.objectName()))
    queue.add("first")
    queue.add("second")
    assert opened == ["first"]
    assert queue.current is not None
    queue.current.reject()
    assert closed == ["first"]
    assert opened == ["first", "second"]
    queue.current.accept()
    assert closed == ["first", "second"]
    assert queue.current is None
