"""The v1 wire's building blocks: enumerations as their wire values, bounded text, base models.

The constrained scalar types (``Title``, ``NoteBody``, ``Instant``, ``Phone`` …)
carry their validators and what the OpenAPI document says of them; every
request body derives from :class:`WireIn` (unknown fields refused), every
response from :class:`WireOut` (unknown fields ignored).
"""

from __future__ import annotations

import functools
import unicodedata
import zoneinfo
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    StringConstraints,
    WithJsonSchema,
)

from console.domain.limits import (
    LONG_TEXT_CHARS,
    NAME_CHARS,
    NOTE_CHARS,
    REASON_CHARS,
    SHORT_TEXT_CHARS,
    TITLE_CHARS,
)
from console.domain.phones import parse_phone
from console.domain.roles import Role

API_VERSION = "v1"

# --------------------------------------------------------------------------
# Enumerations, as their wire values. tests/wire/test_wire.py proves each one
# matches its domain enum exactly, so the domain stays the single source.
# --------------------------------------------------------------------------

ImpactWire = Literal["high", "medium", "low"]
UrgencyWire = Literal["high", "medium", "low"]
SeverityWire = Literal["SEV-1", "SEV-2", "SEV-3", "SEV-4"]
StateWire = Literal[
    "new", "triaged", "in_progress", "on_hold", "resolved", "closed", "reopened", "cancelled"
]
HoldReasonWire = Literal["awaiting_caller", "awaiting_vendor", "awaiting_change"]
SourceWire = Literal["phone", "email", "chat", "monitoring", "portal"]
TimelineKindWire = Literal[
    "work_note",
    "status_update",
    "state_change",
    "assignment",
    "escalation",
    "csat",
    "severity_change",
]
# The kinds a person may write by hand; the rest are written by the server.
UserTimelineKindWire = Literal["work_note", "status_update", "csat"]
RoleWire = Role  # the one ladder: console.domain.roles
IntegrationWire = Literal["alertmanager", "events"]
AlertStatusWire = Literal["firing", "acknowledged", "resolved"]
ChangeKindWire = Literal[
    "incident",
    "timeline",
    "service",
    "team",
    "contact",
    "policy",
    "shift",
    "category",
    "known_error",
    "pir",
    "problem",
]
ChangeOpWire = Literal["upsert", "delete"]
WeekdayWire = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ChannelWire = Literal["email", "sms", "phone", "chat", "status_page", "webhook"]
OverrideKindWire = Literal["swap", "cover"]

# Reference-data kinds in the change feed, in the order a fresh client should
# apply them (a service names its team, a policy its service, and so on).
REFERENCE_KINDS: tuple[ChangeKindWire, ...] = (
    "team",
    "contact",
    "shift",
    "service",
    "category",
    "policy",
    "known_error",
)

# --------------------------------------------------------------------------
# Constrained scalar types
# --------------------------------------------------------------------------


def _clean_text(value: str) -> str:
    """Refuse text no database can store: NUL characters and lone surrogates.

    PostgreSQL rejects NUL in text columns and UTF-8 cannot encode a lone
    surrogate; catching both here turns what would be a server error into a
    422 naming the field. Surrounding blanks are dropped.
    """
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it contains a lone surrogate)") from None
    return value.strip()


# Characters that show nothing by themselves: a title of only these looks
# empty on the board (and a bidi override could make it read backwards).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _invisible(char: str) -> bool:
    return char in _INVISIBLE_LETTERS or unicodedata.category(char) in _INVISIBLE_CATEGORIES


def _not_blank(value: str) -> str:
    if not value:
        raise ValueError("must not be empty or only blanks")
    if all(_invisible(char) for char in value):
        raise ValueError(
            "must hold visible text, not only blanks, zero-width or direction-control characters"
        )
    return value


# What the OpenAPI document says of these strings, so generated clients (and
# schemathesis) know the rules the validators enforce.
NO_NUL_PATTERN = r"^[^\x00]*$"
NOT_BLANK_PATTERN = r"^[^\x00]*\S[^\x00]*$"


def _text_schema(max_length: int, *, required: bool) -> WithJsonSchema:
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length}
    if required:
        schema.update(minLength=1, pattern=NOT_BLANK_PATTERN)
    else:
        schema["pattern"] = NO_NUL_PATTERN
    return WithJsonSchema(schema)


# Free text: bounded, no NUL, surrounding blanks dropped; the required kinds
# must hold more than blanks.
Title = Annotated[
    str,
    StringConstraints(min_length=1, max_length=TITLE_CHARS),
    AfterValidator(_clean_text),
    AfterValidator(_not_blank),
    _text_schema(TITLE_CHARS, required=True),
]
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=NAME_CHARS),
    AfterValidator(_clean_text),
    AfterValidator(_not_blank),
    _text_schema(NAME_CHARS, required=True),
]
NoteBody = Annotated[
    str,
    StringConstraints(min_length=1, max_length=NOTE_CHARS),
    AfterValidator(_clean_text),
    AfterValidator(_not_blank),
    _text_schema(NOTE_CHARS, required=True),
]
Reason = Annotated[
    str,
    StringConstraints(min_length=1, max_length=REASON_CHARS),
    AfterValidator(_clean_text),
    AfterValidator(_not_blank),
    _text_schema(REASON_CHARS, required=True),
]
ShortText = Annotated[
    str,
    StringConstraints(max_length=SHORT_TEXT_CHARS),
    AfterValidator(_clean_text),
    _text_schema(SHORT_TEXT_CHARS, required=False),
]
LongText = Annotated[
    str,
    StringConstraints(max_length=LONG_TEXT_CHARS),
    AfterValidator(_clean_text),
    _text_schema(LONG_TEXT_CHARS, required=False),
]

REF_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
RefId = Annotated[str, StringConstraints(pattern=REF_ID_PATTERN)]
"""Reference-data id chosen by the admin: lower-case letters, digits, ``.``, ``_``, ``-``."""

EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"
Email = Annotated[str, StringConstraints(max_length=254, pattern=EMAIL_PATTERN)]

HHMM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"

# Any instant the wire accepts from a client lies within this range; anything
# outside is a typo (and year 1 or 9999 overflows when converted to UTC).
_EARLIEST = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
_LATEST = datetime.fromisoformat("2200-01-01T00:00:00+00:00")


def _sane_instant(value: datetime) -> datetime:
    if not _EARLIEST <= value <= _LATEST:
        raise ValueError("must lie between 1970 and 2200")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_sane_instant)]


def normalise_phone(value: str) -> str:
    """Parse an international phone number and return it in E.164 (``+442079460958``).

    One set of rules for the server, the CSV import and the demo loader
    (:func:`console.domain.phones.parse_phone`). Raises ``ValueError`` with the reason,
    so the admin knows what to fix.
    """
    return parse_phone(_clean_text(value).strip())


Phone = Annotated[str, StringConstraints(max_length=40), AfterValidator(normalise_phone)]
"""A phone number in international form; stored and sent as E.164."""


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def check_time_zone(value: str) -> str:
    """Accept an IANA time zone name (``Europe/Berlin``); the error gives an example."""
    if value not in _known_zones():
        raise ValueError(
            f"{value!r} is not an IANA time zone name; use a name like Europe/Berlin or UTC"
        )
    return value


TimeZoneName = Annotated[str, StringConstraints(max_length=64), AfterValidator(check_time_zone)]

# --------------------------------------------------------------------------
# Base classes
# --------------------------------------------------------------------------


class WireIn(BaseModel):
    """A request body: unknown fields are refused, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")


class WireOut(BaseModel):
    """A response body: unknown fields are ignored, so newer servers stay readable."""

    model_config = ConfigDict(extra="ignore")
