"""CSV export and import of the escalation matrix, against a real cache with the demo NOC."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.services.demo import load_demo
from console.services.directory import Contact, Directory
from console.services.matrix_csv import (
    CONTACT_COLUMNS,
    ON_CALL_COLUMNS,
    CsvImportError,
    ImportRefusedError,
    apply_import,
    export_contacts,
    export_on_call,
    preview_contacts,
    preview_file,
    safe_cell,
    write_contacts,
)
from console.store import Cache

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
HEADER = ",".join(CONTACT_COLUMNS)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    cache = Cache.open(tmp_path / "cache.db")
    load_demo(cache, NOW)
    yield cache
    cache.close()


@pytest.fixture
def directory(cache: Cache) -> Directory:
    return Directory.from_store(cache)


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


# --------------------------------------------------------------------- export


def test_contacts_export_is_spreadsheet_ready(directory: Directory, tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    assert export_contacts(directory, path) == 40
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)  # so spreadsheets read "Lucía" right
    assert b"\r\n" in raw
    rows = rows_of(path)
    assert list(rows[0]) == list(CONTACT_COLUMNS)
    lucia = next(r for r in rows if r["id"] == "lfernandez")
    assert lucia["name"] == "Lucía Fernández"
    assert lucia["primary_phone"] == "+34722818662"  # E.164, as stored, no apostrophe
    assert lucia["time_zone"] == "Europe/Madrid"


def test_on_call_export_has_every_service_and_tier(directory: Directory, tmp_path: Path) -> None:
    path = tmp_path / "on-call.csv"
    assert export_on_call(directory, NOW, path) == 45  # 15 services × L1–L3
    rows = rows_of(path)
    assert list(rows[0]) == list(ON_CALL_COLUMNS)
    network = next(r for r in rows if r["service_id"] == "dc-network" and r["level"] == "L2")
    assert network["on_call"] == "Marcus Lee"
    assert network["via"] == "cover"
    assert network["phone"] == "+17735550131"
    assert network["until_utc"] == "2026-11-18T23:00Z"
    assert network["next_on_call"] == "Daan de Vries"
    fixed = next(r for r in rows if r["service_id"] == "erp" and r["level"] == "L3")
    assert (fixed["on_call"], fixed["via"], fixed["until_utc"]) == ("Lars Hoffmann", "contact", "")


def test_cells_that_look_like_formulas_are_defused() -> None:
    assert safe_cell('=HYPERLINK("http://evil")') == '\'=HYPERLINK("http://evil")'
    assert safe_cell("+SUM(A1)") == "'+SUM(A1)"
    assert safe_cell("-2+3") == "'-2+3"
    assert safe_cell("@cmd") == "'@cmd"
    assert safe_cell("\tTAB") == "'\tTAB"
    assert safe_cell("Ana") == "Ana"
    assert safe_cell(None) == ""
    # A stored E.164 number in a phone column stays dialable; anywhere else it is text.
    assert safe_cell("+34612345678", "primary_phone") == "+34612345678"
    assert safe_cell("+34612345678", "name") == "'+34612345678"
    # A "phone" that is not E.164 gets no exemption.
    assert safe_cell("+1 (555) =CMD()", "primary_phone") == "'+1 (555) =CMD()"


# ------------------------------------------------------------------ round trip


def test_export_then_import_changes_nothing(
    cache: Cache, directory: Directory, tmp_path: Path
) -> None:
    path = tmp_path / "contacts.csv"
    export_contacts(directory, path)
    before = cache.reference("contacts")
    preview = preview_file(path, directory)
    assert preview.ok, preview.errors
    assert {r.action for r in preview.rows} == {"unchanged"}
    assert preview.summary() == "40 rows: 0 new, 0 updated, 40 unchanged"
    apply_import(preview, cache)
    assert cache.reference("contacts") == before


def test_an_edited_file_updates_and_adds_in_one_go(
    cache: Cache, directory: Directory, tmp_path: Path
) -> None:
    out = io.StringIO()
    write_contacts(directory.contacts_sorted(), out)
    text = out.getvalue().replace("+4915166394046", "+49 1516 1234567")
    text += "\r\n".join(
        [
            ",Zoë Adams,Network engineer,network,+61 412 345 678,,zoe.adams@noc.example.com,"
            "Australia/Sydney",
            # No id, but the e-mail of an existing contact: an update, not a duplicate.
            ",Dr Anja Vogel,Network engineer (on call),Network Engineering,+49 1516 1234567,,"
            "anja.vogel@noc.example.com,Europe/Berlin",
        ]
    )
    text = text.replace("avogel,Anja Vogel", "skip-me,Anja Vogel")  # drop the original id row
    lines = [line for line in text.split("\r\n") if not line.startswith("skip-me,")]
    preview = preview_contacts("\r\n".join(lines).encode("utf-8"), directory, source="edit.csv")
    assert preview.ok, preview.errors
    actions = {r.document["id"]: r.action for r in preview.rows if r.document}
    assert actions["zoe-adams"] == "new"
    assert actions["avogel"] == "update"
    assert list(actions.values()).count("unchanged") == 39
    assert apply_import(preview, cache) == 41
    stored = {c["id"]: c for c in cache.reference("contacts")}
    assert stored["avogel"]["name"] == "Dr Anja Vogel"
    assert stored["avogel"]["primary_phone"] == "+4915161234567"
    assert stored["zoe-adams"]["primary_phone"] == "+61412345678"
    assert stored["zoe-adams"]["team"] == "network"
    assert len(stored) == 41


def test_a_defused_cell_comes_back_as_it_was(cache: Cache, directory: Directory) -> None:
    contact = Contact(
        "eve",
        "=Eve",
        role="-on call-",
        team="network",
        primary_phone="+34612345678",
        time_zone="Europe/Madrid",
    )
    out = io.StringIO()
    write_contacts([contact], out)
    assert "'=Eve" in out.getvalue()
    preview = preview_contacts(out.getvalue().encode(), directory)
    assert preview.ok, preview.errors
    assert preview.rows[0].document is not None
    assert preview.rows[0].document["name"] == "=Eve"
    assert preview.rows[0].document["role"] == "-on call-"


# ---------------------------------------------------------------- a bad file


BAD_FILE = "\r\n".join(
    [
        HEADER,
        "ana,Ana Ruiz,Analyst,service-desk,+34 612 34 56 78,,ana@noc.example.com,Europe/Madrid",
        "bob,Bob Stone,Engineer,network,+1 555,,bob@noc.example.com,America/New_York",
        "cho,Cho Min,Engineer,netwrk,+81 90-1234-5678,,cho@noc.example.com,Asia/Tokyo",
        "dee,Dee Kaur,Engineer,database,+91 98765 43210,,dee@noc.example.com,Asia/Kolkatta",
        "eli,,Engineer,database,+31 6 12345678,,eli@noc.example.com,Europe/Amsterdam",
        "ana,Ana Again,Analyst,service-desk,+34 612 34 56 79,,ana2@noc.example.com,Europe/Madrid",
        "fay,Fay Lo,Engineer,platform,+61 2 6277 7111,+44 7700 900123,fay@,Australia/Sydney",
        "Gus Max,Gus Max,Engineer,platform,34612345678,,gus@noc.example.com,Europe/Madrid",
        "",
        "hal,Hal Ng,Engineer,platform,+44 20 7219 3000,,hal@noc.example.com,Europe/London",
    ]
)


def test_a_bad_file_changes_nothing_and_names_every_bad_row(
    cache: Cache, directory: Directory, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD_FILE, encoding="utf-8", newline="")
    before = {kind: cache.reference(kind) for kind in ("contacts", "teams", "services")}

    preview = preview_file(path, directory)

    assert not preview.ok
    assert preview.bad_rows == (3, 4, 5, 6, 7, 8, 9)
    assert [r.row for r in preview.rows if r.ok] == [2, 11]  # row 10 is blank, skipped
    errors = "\n".join(preview.errors)
    expected = [
        "row 3: primary_phone '+1 555' is not a valid phone number: it is too short; "
        "write it in international form, e.g. +1 201-555-0123",
        "row 4: team 'netwrk' does not exist; use a team id (business-apps, database,",
        "row 5: time_zone 'Asia/Kolkatta' is not an IANA time zone",
        "row 6: name is empty; every contact needs one",
        "row 7: contact 'ana' is also on row 2; each contact may appear once",
        "row 8: alternate_phone '+44 7700 900123' is not a valid phone number: it is not a "
        "valid number for +44 (GB",
        "row 8: email 'fay@' is not an e-mail address",
        "row 9: id 'Gus Max' is not allowed",
        "row 9: primary_phone '34612345678' is not a valid phone number: the country code is "
        "missing",
        "a spreadsheet may have dropped the leading +",
    ]
    for line in expected:
        assert line in errors, errors
    assert "1 blank rows were skipped" in preview.notes
    assert preview.summary().startswith("7 of 9 rows have problems; nothing will be imported")

    with pytest.raises(ImportRefusedError, match=r"bad\.csv was not imported \(9 problems"):
        apply_import(preview, cache)
    assert {kind: cache.reference(kind) for kind in before} == before


# ------------------------------------------------------------ odd encodings


GOOD_ROWS = [
    "id,name,role,team,primary_phone,alternate_phone,email,time_zone",
    "lfernandez,Lucía Fernández,NOC shift lead,noc,+34 722 81 86 62,+34 911 16 41 04,"
    "lucia.fernandez@noc.example.com,Europe/Madrid",
    "zkruger,Zoë Krüger,Engineer,network,+49 170 1234567,,zoe@noc.example.com,Europe/Berlin",
]


@pytest.mark.parametrize(
    ("encode", "note"),
    [
        pytest.param(lambda t: t.encode("utf-8"), None, id="utf-8"),
        pytest.param(lambda t: codecs.BOM_UTF8 + t.encode("utf-8"), None, id="utf-8-bom"),
        pytest.param(lambda t: t.encode("utf-16"), None, id="utf-16-bom"),
        pytest.param(lambda t: t.encode("cp1252"), "Windows-1252", id="windows-1252"),
        pytest.param(lambda t: t.replace("\r\n", "\n").encode("utf-8"), None, id="unix-newlines"),
        pytest.param(lambda t: t.replace(",", ";").encode("utf-8"), None, id="semicolons"),
        pytest.param(lambda t: t.replace(",", "\t").encode("utf-8"), None, id="tabs"),
        pytest.param(
            lambda t: t.replace("id,name,role", " ID , Name ,ROLE", 1).encode("utf-8"),
            None,
            id="header-case-and-blanks",
        ),
    ],
)
def test_odd_encodings_and_separators_read_the_same(
    directory: Directory, encode: Callable[[str], bytes], note: str | None
) -> None:
    text = "\r\n".join(GOOD_ROWS) + "\r\n"
    data = encode(text)
    preview = preview_contacts(data, directory)
    assert preview.ok, preview.errors
    names = [r.document["name"] for r in preview.rows if r.document]
    assert names == ["Lucía Fernández", "Zoë Krüger"]
    assert [r.action for r in preview.rows] == ["unchanged", "new"]
    if note:
        assert any(note in n for n in preview.notes)
    else:
        assert not any("Windows-1252" in n for n in preview.notes)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data", id="png"),
        pytest.param(b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook", id="xlsx"),
        pytest.param(b"%PDF-1.7\n", "PDF file", id="pdf"),
        pytest.param(b"", "the file is empty", id="empty"),
        pytest.param(b"\r\n\r\n", "the file is empty", id="blank-lines"),
        pytest.param(HEADER.encode() + b"\r\n", "header but no contact rows", id="header-only"),
        pytest.param(b"name,role,team\r\nA,B,noc\r\n", "missing column 'primary_phone'", id="cols"),
        pytest.param(
            (HEADER + ",notes\r\n").encode(), "unknown column 'notes'", id="unknown-column"
        ),
        pytest.param((HEADER + ",name\r\n").encode(), "column 'name' appears twice", id="twice"),
        pytest.param(b"a\x01b,c\r\n", "control characters", id="control-characters"),
        pytest.param(b'name,"role\r\nA,"B', "not valid CSV", id="open-quote"),
    ],
)
def test_files_that_are_not_contact_csv_get_a_clear_error(
    directory: Directory, data: bytes, words: str
) -> None:
    preview = preview_contacts(data, directory, source="upload")
    assert not preview.ok
    assert preview.file_errors
    assert words in preview.file_errors[0], preview.file_errors
    assert preview.summary().startswith("upload cannot be imported: ")


def test_too_many_cells_in_a_row_is_named(directory: Directory) -> None:
    text = HEADER + "\r\n" + GOOD_ROWS[2] + ",surplus\r\n"
    preview = preview_contacts(text.encode(), directory)
    assert preview.bad_rows == (2,)
    assert "row 2: 9 cells but the header has 8 columns" in preview.errors[0]


def test_a_missing_file_is_an_error_not_a_traceback(directory: Directory, tmp_path: Path) -> None:
    with pytest.raises(CsvImportError, match=r"cannot read .*nope\.csv"):
        preview_file(tmp_path / "nope.csv", directory)


def test_national_numbers_with_a_home_region(directory: Directory) -> None:
    text = HEADER + "\r\n,Ana Ruiz,Analyst,service-desk,612 34 56 78,,,Europe/Madrid\r\n"
    assert not preview_contacts(text.encode(), directory).ok
    preview = preview_contacts(text.encode(), directory, default_region="ES")
    assert preview.ok, preview.errors
    assert preview.rows[0].document is not None
    assert preview.rows[0].document["primary_phone"] == "+34612345678"
    assert preview.rows[0].document["id"] == "ana-ruiz"
