"""The escalation matrix as CSV: export contacts and who is on call, import contacts.

Export
    :func:`write_contacts` writes one row per contact with the columns of
    :data:`CONTACT_COLUMNS`; :func:`write_on_call` one row per service and tier
    with who is on call at an instant (:data:`ON_CALL_COLUMNS`). Files are
    UTF-8 with a byte-order mark and CRLF line ends (RFC 4180), which is what
    spreadsheet programs need to show "Lucía" rather than "LucÃ­a".

    Against CSV injection, a text cell starting with ``=``, ``+``, ``-``, ``@``,
    a tab or a carriage return gets a leading apostrophe, so a spreadsheet
    shows it as text instead of running it as a formula. Phone numbers are the
    one exception, by choice: they are written as stored, E.164 with its
    leading ``+`` (``+34912345678``), because they are checked to be ``+`` and
    digits only (:func:`console.domain.phones.is_e164`) and so cannot carry a formula,
    and an apostrophe would break every other consumer of the file (dialers,
    scripts, the importer of another tool). A spreadsheet may display such a
    cell as a number without the ``+``; the importer then says so and how to
    fix it.

Import
    :func:`preview_contacts` reads a CSV file (UTF-8 with or without BOM,
    UTF-16 with BOM, or Windows-1252 from older Excel; comma, semicolon or tab
    separated; any line ends) and checks every row: required fields, phone
    numbers (:func:`console.domain.phones.parse_phone`, international form), the
    IANA time zone, that the team exists, e-mail shape, duplicate ids, and
    finally the wire schema itself. The result, :class:`CsvImportPreview`,
    lists every row with what would happen to it and every problem, named by
    its spreadsheet row number (the header is row 1). :func:`apply_import`
    writes all rows in one transaction, and refuses to write anything if any
    row has a problem: all or nothing.

No Qt here; the matrix view shows the preview and calls :func:`apply_import`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TextIO

from pydantic import ValidationError

from console.domain.errors import InvalidValue
from console.domain.oncall import zone_named
from console.domain.phones import InvalidPhone, PhoneProblem, is_e164, parse_phone
from console.services.directory import Contact, Directory, ServiceChain, fold
from console.wire import EMAIL_PATTERN, REF_ID_PATTERN, ContactIn
from console.wire.errors import problems

CONTACT_COLUMNS = (
    "id",
    "name",
    "role",
    "team",
    "primary_phone",
    "alternate_phone",
    "email",
    "time_zone",
)
"""The contacts file's columns, in the order they are exported."""

REQUIRED_COLUMNS = ("name", "role", "team", "primary_phone", "time_zone")
"""Columns an import file must have; ``id``, ``alternate_phone`` and ``email`` are optional."""

PHONE_COLUMNS = frozenset({"primary_phone", "alternate_phone", "phone", "next_phone"})

ON_CALL_COLUMNS = (
    "service_id",
    "service",
    "criticality",
    "level",
    "tier",
    "team",
    "on_call",
    "role",
    "phone",
    "alternate_phone",
    "via",
    "until_utc",
    "next_on_call",
    "next_phone",
    "next_from_utc",
)
"""The on-call export's columns: one row per service and tier."""

MAX_BYTES = 5_000_000
"""Larger than any real contact list; a bigger file is the wrong file."""
MAX_ROWS = 10_000

# Cells a spreadsheet would run as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_EMAIL_RE = re.compile(EMAIL_PATTERN)
_ID_RE = re.compile(REF_ID_PATTERN)


class CsvImportError(ValueError):
    """The file cannot be read at all (missing, unreadable); the message says what to do."""


class ImportRefusedError(ValueError):
    """:func:`apply_import` was asked to write a preview that has problems; nothing was written."""


class ContactStore(Protocol):
    """Where imported contacts are written (:class:`console.store.Cache` is one)."""

    def upsert_reference(self, kind: str, items: Iterable[Mapping[str, object]]) -> object: ...


# --------------------------------------------------------------------- export


def safe_cell(value: object, column: str = "") -> str:
    """``value`` as a CSV cell a spreadsheet will not run as a formula.

    Stored E.164 numbers in phone columns are left as they are (see the module
    docstring for why); every other cell that starts like a formula gets a
    leading apostrophe, which :func:`preview_contacts` removes again.
    """
    text = "" if value is None else str(value)
    if column in PHONE_COLUMNS and is_e164(text):
        return text
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def write_contacts(contacts: Iterable[Contact], out: TextIO) -> int:
    """Write ``contacts`` as CSV rows (header first) to ``out``; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CONTACT_COLUMNS)
    count = 0
    for contact in contacts:
        values = {
            "id": contact.id,
            "name": contact.name,
            "role": contact.role,
            "team": contact.team,
            "primary_phone": contact.primary_phone,
            "alternate_phone": contact.alternate_phone,
            "email": contact.email,
            "time_zone": contact.time_zone,
        }
        writer.writerow([safe_cell(values[c], c) for c in CONTACT_COLUMNS])
        count += 1
    return count


def _utc(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).isoformat(timespec="minutes").replace("+00:00", "Z")


def write_on_call(chains: Iterable[ServiceChain], directory: Directory, out: TextIO) -> int:
    """Write who is on call for every service and tier (one row each); returns the rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ON_CALL_COLUMNS)
    count = 0
    for chain in chains:
        for line in chain.tiers:
            who = line.on_call
            person = who.contact
            following = who.next_contact
            values: dict[str, object] = {
                "service_id": chain.service.id,
                "service": chain.service.name,
                "criticality": chain.service.criticality,
                "level": f"L{line.tier.level}",
                "tier": line.tier.name,
                "team": directory.team_name(line.tier.team),
                "on_call": who.name or "",
                "role": person.role if person else "",
                "phone": person.primary_phone if person else "",
                "alternate_phone": person.alternate_phone if person else "",
                "via": who.via.value if who.via else who.source,
                "until_utc": _utc(who.until),
                "next_on_call": (following.name if following else who.next_contact_id) or "",
                "next_phone": following.primary_phone if following else "",
                "next_from_utc": _utc(who.next_shift.start if who.next_shift else None),
            }
            writer.writerow([safe_cell(values[c], c) for c in ON_CALL_COLUMNS])
            count += 1
    return count


def export_contacts(directory: Directory, path: Path) -> int:
    """Write every contact of ``directory`` to ``path``; returns the number of rows."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        return write_contacts(directory.contacts_sorted(), out)


def export_on_call(directory: Directory, at: datetime, path: Path) -> int:
    """Write who is on call at ``at`` for every service and tier to ``path``."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        return write_on_call(directory.chains(at), directory, out)


# --------------------------------------------------------------------- import


@dataclass(frozen=True)
class ImportRow:
    """One data row of an import file and what would happen to it.

    ``row`` is the spreadsheet row number (the header is row 1). ``document``
    is the contact as it would be stored (None when the row has errors);
    ``action`` is ``new``, ``update`` or ``unchanged``.
    """

    row: int
    values: Mapping[str, str]
    document: Mapping[str, object] | None = None
    action: str = ""
    errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class CsvImportPreview:
    """Everything an import would do, and everything wrong with the file.

    ``file_errors`` are problems with the file as a whole (not CSV, missing
    columns); row problems are in each :class:`ImportRow`. ``notes`` are
    things worth knowing that are not errors (the file was read as
    Windows-1252, blank rows were skipped).
    """

    source: str
    columns: tuple[str, ...] = ()
    rows: tuple[ImportRow, ...] = ()
    file_errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    delimiter: str = ","
    encoding: str = "utf-8"

    @property
    def ok(self) -> bool:
        """Whether the whole file can be applied: no file error, no bad row, some rows."""
        return not self.file_errors and bool(self.rows) and all(r.ok for r in self.rows)

    @property
    def bad_rows(self) -> tuple[int, ...]:
        """Spreadsheet row numbers with at least one problem."""
        return tuple(r.row for r in self.rows if not r.ok)

    @property
    def errors(self) -> tuple[str, ...]:
        """Every problem, file problems first, then each row's as ``row N: …``."""
        return self.file_errors + tuple(e for r in self.rows for e in r.errors)

    def summary(self) -> str:
        """One line for the dialog: what would be written, or why nothing can be."""
        if self.file_errors:
            return f"{self.source} cannot be imported: {self.file_errors[0]}"
        actions = [r.action for r in self.rows if r.ok]
        new, updated = actions.count("new"), actions.count("update")
        same = actions.count("unchanged")
        if not self.ok:
            bad = len(self.bad_rows)
            return (
                f"{bad} of {len(self.rows)} rows have problems; nothing will be imported "
                "until every row is fixed"
            )
        return f"{len(self.rows)} rows: {new} new, {updated} updated, {same} unchanged"


def preview_file(
    path: Path, directory: Directory, default_region: str | None = None
) -> CsvImportPreview:
    """Read ``path`` and check it against ``directory`` (see :func:`preview_contacts`)."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return CsvImportPreview(
                path.name,
                file_errors=(
                    f"the file is {size // 1_000_000} MB; a contact list is far smaller "
                    f"(at most {MAX_BYTES // 1_000_000} MB). Is it the right file?",
                ),
            )
        data = path.read_bytes()
    except OSError as exc:
        raise CsvImportError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return preview_contacts(data, directory, source=path.name, default_region=default_region)


def _decode(data: bytes) -> tuple[str | None, str, tuple[str, ...], str]:
    """(text or None, encoding, notes, error) for the bytes of a supposed CSV file."""
    if data.startswith(b"PK\x03\x04"):
        return (
            None,
            "",
            (),
            (
                "this is an Excel workbook or another zip file, not CSV; in the spreadsheet "
                "use Save As › CSV UTF-8 (comma delimited)"
            ),
        )
    if data.startswith(b"%PDF"):
        return None, "", (), "this is a PDF file, not CSV"
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding, (), ""
            except UnicodeDecodeError:
                return None, encoding, (), f"the file says it is {encoding} but is not"
    if b"\x00" in data:
        return (
            None,
            "",
            (),
            (
                "this is not a CSV text file (it contains binary data); export the sheet as "
                "CSV UTF-8"
            ),
        )
    try:
        return data.decode("utf-8"), "utf-8", (), ""
    except UnicodeDecodeError:
        pass
    # Older Excel on Windows saves "CSV" in the ANSI code page; every byte is
    # some character there, so look at the names in the preview.
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None, "", (), "the file is neither UTF-8 nor Windows-1252 text; save it as CSV UTF-8"
    return (
        text,
        "cp1252",
        (
            "the file is not UTF-8; it was read as Windows-1252 (older Excel). Check accented "
            "names in the preview, or save it as CSV UTF-8",
        ),
        "",
    )


def _binary_looking(text: str) -> bool:
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\t\r\n")
    return controls > 0


def _delimiter(text: str) -> str:
    # Excel writes ';' in locales whose decimal separator is a comma (ES, DE,
    # NL …) and some tools use tabs: pick what the header line uses most.
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header_name(cell: str) -> str:
    return re.sub(r"[\s-]+", "_", cell.strip().strip("\ufeff").strip().lower())


def _unescape(cell: str) -> str:
    """Undo :func:`safe_cell`'s apostrophe (and strip the blanks around a cell)."""
    cell = cell.strip()
    if len(cell) > 1 and cell[0] == "'" and cell[1] in "=+-@\t\r":
        return cell[1:]
    return cell


def _slug(name: str) -> str:
    text = re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")
    return (text or "contact")[:56]


def preview_contacts(
    data: bytes,
    directory: Directory,
    *,
    source: str = "the file",
    default_region: str | None = None,
) -> CsvImportPreview:
    """Check an import file (its bytes) against ``directory``; never raises for bad content.

    Rows are matched to existing contacts by ``id`` when the file has one;
    otherwise by e-mail address, then by name within the same team, and a new
    id is made from the name. ``default_region`` (``"ES"``) lets national
    phone numbers through as that country's; without it every number must be
    international, which is the only safe reading for a multinational NOC.
    """
    if len(data) > MAX_BYTES:
        return CsvImportPreview(source, file_errors=("the file is too large for a contact list",))
    text, encoding, notes, error = _decode(data)
    if text is None:
        return CsvImportPreview(source, file_errors=(error,), encoding=encoding)
    if _binary_looking(text):
        return CsvImportPreview(
            source,
            file_errors=("this is not a CSV text file (it contains control characters)",),
            encoding=encoding,
        )
    delimiter = _delimiter(text)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return CsvImportPreview(
            source,
            file_errors=(f"the file is not valid CSV: {exc} (check the quotes)",),
            encoding=encoding,
        )
    while records and not any(cell.strip() for cell in records[0]):
        records.pop(0)  # blank lines before the header
    if not records:
        return CsvImportPreview(source, file_errors=("the file is empty",), encoding=encoding)
    columns = tuple(_header_name(c) for c in records[0])
    file_errors = _check_header(columns)
    if file_errors:
        return CsvImportPreview(
            source, columns, file_errors=file_errors, notes=notes, delimiter=delimiter
        )
    if len(records) - 1 > MAX_ROWS:
        return CsvImportPreview(
            source,
            columns,
            file_errors=(f"the file has {len(records) - 1} rows; at most {MAX_ROWS} are allowed",),
        )
    checker = _RowChecker(directory, default_region)
    rows: list[ImportRow] = []
    blank = 0
    for number, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            blank += 1
            continue
        rows.append(checker.check(number, columns, cells))
    if blank:
        notes += (f"{blank} blank rows were skipped",)
    file_errors = () if rows else ("the file has a header but no contact rows",)
    return CsvImportPreview(
        source,
        columns,
        tuple(rows),
        file_errors,
        notes,
        delimiter=delimiter,
        encoding=encoding,
    )


def _check_header(columns: Sequence[str]) -> tuple[str, ...]:
    problems = []
    allowed = ", ".join(CONTACT_COLUMNS)
    unknown = [c for c in columns if c not in CONTACT_COLUMNS]
    if unknown:
        names = ", ".join(repr(c) for c in unknown if c) or "an empty column name"
        problems.append(f"unknown column {names}; the columns are: {allowed}")
    twice = sorted({c for c in columns if c and columns.count(c) > 1})
    if twice:
        problems.append(f"column {', '.join(repr(c) for c in twice)} appears twice")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        problems.append(
            f"missing column {', '.join(repr(c) for c in missing)}; required: "
            f"{', '.join(REQUIRED_COLUMNS)} (optional: id, alternate_phone, email)"
        )
    return tuple(problems)


@dataclass
class _RowChecker:
    directory: Directory
    default_region: str | None
    ids: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        teams = self.directory.teams
        self.team_by_name = {fold(t.name): t.id for t in teams.values()}
        self.by_email = {fold(c.email): c.id for c in self.directory.contacts.values() if c.email}
        self.by_name = {(fold(c.name), c.team): c.id for c in self.directory.contacts.values()}

    def check(self, number: int, columns: Sequence[str], cells: Sequence[str]) -> ImportRow:
        where = f"row {number}"
        errors: list[str] = []
        if len(cells) > len(columns):
            errors.append(
                f"{where}: {len(cells)} cells but the header has {len(columns)} columns "
                "(a comma inside a value needs the value in double quotes)"
            )
        values = {c: _unescape(cells[i]) if i < len(cells) else "" for i, c in enumerate(columns)}
        for column in REQUIRED_COLUMNS:
            if not values.get(column):
                errors.append(f"{where}: {column} is empty; every contact needs one")
        team = self._team(values.get("team", ""), where, errors)
        phones = {
            column: self._phone(values.get(column, ""), column, where, errors)
            for column in ("primary_phone", "alternate_phone")
        }
        zone = values.get("time_zone", "")
        if zone:
            try:
                zone_named(zone)
            except InvalidValue:
                errors.append(
                    f"{where}: time_zone {zone!r} is not an IANA time zone; use a name such "
                    "as Europe/Madrid, America/New_York or Asia/Kolkata"
                )
        email = values.get("email", "")
        if email and not _EMAIL_RE.match(email):
            errors.append(f"{where}: email {email!r} is not an e-mail address (name@example.com)")
        contact_id = self._id(values, team, number, errors)
        if errors:
            return ImportRow(number, values, errors=tuple(errors))
        body = {
            "name": values["name"],
            "role": values["role"],
            "team": team,
            "primary_phone": phones["primary_phone"],
            "alternate_phone": phones["alternate_phone"],
            "email": email or None,
            "time_zone": zone,
        }
        try:
            # The server's rules last: lengths, characters, anything not checked above.
            checked = ContactIn.model_validate(body)
        except ValidationError as exc:
            messages = tuple(
                f"{where}: {problem.where} {problem.message.lower()}" for problem in problems(exc)
            )
            return ImportRow(number, values, errors=messages)
        existing = self.directory.contact_documents.get(contact_id)
        document: dict[str, object] = dict(existing or {})
        document.update(checked.model_dump(mode="json"))
        document["id"] = contact_id
        if existing is None:
            action = "new"
        elif document == existing:
            action = "unchanged"
        else:
            action = "update"
        return ImportRow(number, values, document, action)

    def _team(self, text: str, where: str, errors: list[str]) -> str | None:
        if not text:
            return None
        if text in self.directory.teams:
            return text
        by_name = self.team_by_name.get(fold(text))
        if by_name is not None:
            return by_name
        known = ", ".join(sorted(self.directory.teams)) or "none yet: sync first"
        errors.append(f"{where}: team {text!r} does not exist; use a team id ({known})")
        return None

    def _phone(self, text: str, column: str, where: str, errors: list[str]) -> str | None:
        if not text:
            return None
        try:
            return parse_phone(text, self.default_region)
        except InvalidPhone as exc:
            message = f"{where}: {column} {exc}"
            if exc.problem is PhoneProblem.NO_COUNTRY and text.isdigit():
                message += " (a spreadsheet may have dropped the leading +: put it back)"
            errors.append(message)
            return None

    def _id(
        self, values: Mapping[str, str], team: str | None, number: int, errors: list[str]
    ) -> str:
        """The contact id this row writes: given, matched to an existing contact, or new."""
        where = f"row {number}"
        given = values.get("id", "")
        if given:
            if not _ID_RE.match(given):
                errors.append(
                    f"{where}: id {given!r} is not allowed; use lower-case letters, digits, "
                    "'.', '_' and '-' (at most 64), e.g. avogel"
                )
            return self._claim(given, number, errors)
        email = values.get("email", "")
        match = self.by_email.get(fold(email)) if email else None
        if match is None:
            match = self.by_name.get((fold(values.get("name", "")), team))
        if match is not None:
            return self._claim(match, number, errors)
        base = _slug(values.get("name", ""))
        candidate, n = base, 2
        while candidate in self.directory.contacts or candidate in self.ids:
            candidate, n = f"{base}-{n}", n + 1
        return self._claim(candidate, number, errors)

    def _claim(self, contact_id: str, number: int, errors: list[str]) -> str:
        """Reserve ``contact_id`` for row ``number``; a second row with it is an error."""
        first = self.ids.get(contact_id)
        if first is not None:
            errors.append(
                f"row {number}: contact {contact_id!r} is also on row {first}; "
                "each contact may appear once"
            )
        else:
            self.ids[contact_id] = number
        return contact_id


def apply_import(preview: CsvImportPreview, store: ContactStore) -> int:
    """Write every row of ``preview`` in one transaction; returns the rows written.

    Refuses (:class:`ImportRefusedError`, nothing written) when the preview has
    any problem: a half-imported contact list is worse than none at 2 a.m.
    """
    if not preview.ok:
        problems = preview.errors or ("the file has no contact rows",)
        raise ImportRefusedError(
            f"{preview.source} was not imported ({len(problems)} problems, first: {problems[0]})"
        )
    documents = [dict(r.document) for r in preview.rows if r.document is not None]
    store.upsert_reference("contacts", documents)
    return len(documents)
