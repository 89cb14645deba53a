"""The triage draft file: written whole or not at all, read back, bad files set aside."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.store.drafts import (
    DRAFT_FILE,
    UNREADABLE_SUFFIX,
    DraftError,
    DraftStore,
    TriageDraft,
)

SAVED = datetime(2026, 11, 18, 10, 2, 11, tzinfo=UTC)


def _draft(**fields: str | int | bool | None) -> TriageDraft:
    return TriageDraft(
        fields={"reporter": "Ana Ruiz", "service": "Payments API", **fields},
        page=2,
        saved_at=SAVED,
    )


def test_a_saved_draft_reads_back_the_same(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    draft = _draft(users="site", critical_down=False, share=None, title="Card payments failing")
    store.save(draft)
    assert store.exists
    assert store.load() == draft
    assert store.problem is None
    # Only the draft is left in the folder: the temporary file was renamed over it.
    assert [p.name for p in tmp_path.iterdir()] == [DRAFT_FILE]


def test_saving_again_replaces_the_draft(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    store.save(_draft(title="first"))
    store.save(_draft(title="second"))
    loaded = store.load()
    assert loaded is not None
    assert loaded.text("title") == "second"


def test_clearing_removes_it_and_clearing_twice_is_fine(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    store.save(_draft())
    store.clear()
    store.clear()
    assert not store.exists
    assert store.load() is None


def test_a_draft_with_nothing_typed_is_not_offered(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    store.save(TriageDraft({"reporter": "", "critical_down": False, "users": None}))
    assert store.load() is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{not json", "it is not JSON"),
        ("[1, 2]", "it is not a JSON object"),
        ('{"version": 99, "fields": {}}', "version 99"),
        ('{"version": 1, "fields": [], "saved_at": "2026-11-18T10:00:00+00:00"}', '"fields"'),
        ('{"version": 1, "fields": {}, "saved_at": "yesterday"}', "not a timestamp"),
        ('{"version": 1, "fields": {"a": [1]}, "saved_at": "2026-11-18T10:00:00Z"}', "scalar"),
    ],
)
def test_an_unreadable_draft_is_set_aside_and_said_why(tmp_path: Path, text: str, why: str) -> None:
    (tmp_path / DRAFT_FILE).write_text(text, encoding="utf-8")
    store = DraftStore(tmp_path)
    assert store.load() is None
    assert store.problem is not None
    assert why in store.problem
    assert "Starting afresh" in store.problem
    assert not store.exists
    assert (tmp_path / f"{DRAFT_FILE}{UNREADABLE_SUFFIX}").read_text(encoding="utf-8") == text


def test_the_file_is_plain_json_with_the_page_and_the_time(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    store.save(_draft())
    raw = json.loads((tmp_path / DRAFT_FILE).read_text(encoding="utf-8"))
    assert raw == {
        "version": 1,
        "saved_at": "2026-11-18T10:02:11+00:00",
        "page": 2,
        "fields": {"reporter": "Ana Ruiz", "service": "Payments API"},
    }


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders anyway")
def test_a_folder_that_cannot_be_written_gives_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(DraftError, match=r"could not be saved to .*free up the data folder"):
            DraftStore(folder).save(_draft())
    finally:
        folder.chmod(0o700)


def test_a_path_in_the_way_gives_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(DraftError, match="could not be saved to"):
        DraftStore(blocker).save(_draft())


def test_fields_hold_scalars_only() -> None:
    with pytest.raises(ValueError, match="not a scalar"):
        TriageDraft({"answers": ["y", "n"]})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="time zone"):
        TriageDraft({}, saved_at=datetime(2026, 11, 18, 10, 0))


def test_the_summary_names_the_call() -> None:
    assert _draft(title="Card payments failing").summary() == (
        "Ana Ruiz · Payments API · Card payments failing"
    )
    assert TriageDraft({}).summary() == "nothing typed yet"
