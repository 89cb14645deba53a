"""``noc-console export pir``: Markdown, JSON and a PDF checked by rendering it (poppler).

A real cache file holding a review document as the server sends it, and the
real command in a subprocess.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

from console.store import Cache
from tests.helpers.env import require_or_skip

PIR: dict[str, Any] = {
    "id": "8b0c7a52-0000-4000-8000-000000000001",
    "incident_id": "1d7c7a52-0000-4000-8000-000000000002",
    "incident_number": "INC-000042",
    "title": "Checkout returns 502",
    "service": "checkout",
    "severity": "SEV-1",
    "major": True,
    "version": 3,
    "status": "held",
    "scheduled_at": "2026-03-04T10:00:00+00:00",
    "due_at": "2026-03-05T10:00:00+00:00",
    "held_at": "2026-03-04T11:00:00+00:00",
    "overdue": False,
    "created_at": "2026-03-02T12:00:00+00:00",
    "updated_at": "2026-03-04T11:00:00+00:00",
    "timeline": [
        {
            "source_id": "detected",
            "at": "2026-03-02T09:00:00+00:00",
            "kind": "detected",
            "summary": "Detected: Checkout returns 502",
            "author": "monitoring",
            "key": True,
        },
        {
            "source_id": "a",
            "at": "2026-03-02T09:04:00+00:00",
            "kind": "state_change",
            "summary": "State: new → in progress",
            "author": "ana",
            "key": True,
            "since_previous_s": 240,
        },
        {
            "source_id": "b",
            "at": "2026-03-02T09:05:00+00:00",
            "kind": "work_note",
            "summary": "Secret scratch note",
            "author": "ana",
            "hidden": True,
            "since_previous_s": 60,
        },
        {
            "source_id": "c",
            "at": "2026-03-02T10:10:00+00:00",
            "kind": "state_change",
            "summary": "State: in progress → resolved",
            "author": "jo",
            "key": True,
            "note": "rollback done",
            "since_previous_s": 3900,
        },
    ],
    "impact": {
        "duration_s": 4200,
        "services": ["checkout"],
        "users_affected": "all EU shoppers",
        "customer_facing": True,
        "sla_breached": True,
    },
    "root_cause": "A load balancer config push without a canary stage",
    "contributing_factors": ["no canary stage", "alert threshold too high"],
    "went_well": "Paging reached the on-call in two minutes",
    "could_improve": "Rollback took an hour to find",
    "participants": ["Ana Ruiz", "Jo Kim"],
    "action_items": [
        {
            "id": "i1",
            "title": "Add a canary stage",
            "owner": "Jo Kim",
            "due": "2026-03-20T00:00:00+00:00",
            "state": "open",
            "tracker_url": "https://tracker.example/T-1",
        },
    ],
}


def seed(data: Path) -> None:
    with Cache.open(data / "cache.db") as cache:
        cache.upsert_reference("pirs", [PIR])


def export(data: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", "export", "pir", "--data-dir", str(data), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_markdown_for_wikis_leaves_hidden_entries_out(tmp_path: Path) -> None:
    seed(tmp_path)
    done = export(tmp_path, "--incident", "inc-000042", "--format", "md")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith("# Post-incident review: INC-000042 Checkout returns 502")
    assert "| **State: new → in progress** |" in text
    assert "1 h 05 min" in text
    assert "Secret scratch note" not in text
    assert "- no canary stage" in text
    assert "| Add a canary stage | Jo Kim | 2026-03-20 00:00 UTC | open |" in text


def test_json_keeps_the_whole_document(tmp_path: Path) -> None:
    seed(tmp_path)
    done = export(tmp_path, "--incident", PIR["incident_id"], "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == PIR


def test_pdf_renders_pages_with_the_review_text(tmp_path: Path) -> None:
    have = shutil.which("pdftoppm") is not None and shutil.which("pdftotext") is not None
    require_or_skip(
        have, "poppler-utils (pdftoppm, pdftotext) is not installed", "NOC_REQUIRE_POPPLER"
    )
    seed(tmp_path)
    out = tmp_path / "pir.pdf"
    done = export(tmp_path, "--incident", "INC-000042", "--format", "pdf", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(out), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages, "pdftoppm rendered no page"
    assert pages[0].stat().st_size > 5_000  # a page with text on it, not a blank one
    raw = subprocess.run(
        ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    # Lines wrap where the page is narrow, and the font sets "fi" as a ligature.
    text = " ".join(unicodedata.normalize("NFKC", raw).split())
    for expected in (
        "Post-incident review: INC-000042",
        "A load balancer config push without a canary stage",
        "Add a canary stage",
        "What went well",
    ):
        assert expected in text
    assert "Secret scratch note" not in text


def test_an_unknown_incident_or_a_pdf_without_output_is_a_clear_error(tmp_path: Path) -> None:
    seed(tmp_path)
    missing = export(tmp_path, "--incident", "INC-000999", "--format", "md")
    assert missing.returncode == 2
    assert "no cached review for 'INC-000999'" in missing.stderr
    assert "Traceback" not in missing.stderr
    no_file = export(tmp_path, "--incident", "INC-000042", "--format", "pdf")
    assert no_file.returncode == 2
    assert "--output" in no_file.stderr
