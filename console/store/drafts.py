"""The unfinished triage: saved as the dispatcher types, so an accidental close loses nothing.

The triage wizard (:mod:`console.views.triage.wizard`) writes what has been
typed so far to ``triage-draft.json`` in the data folder (beside the cache) a
moment after each change, and removes the file when the incident is created,
the caller is added to an existing incident, or the dispatcher discards the
triage. Opening the wizard while the file exists offers to restore it.

The file is small JSON::

    {"version": 1, "saved_at": "2026-11-18T10:02:11+00:00", "page": 2,
     "fields": {"reporter": "Ana Ruiz", "service": "Payments API", ...}}

Field values are plain JSON scalars (text, whole numbers, true/false, null);
the wizard decides what they mean. It is written atomically (a temporary file
renamed over the old one), so a crash mid-write leaves the previous draft. A
file that cannot be read (damaged, from a newer console) is moved aside to
``triage-draft.json.unreadable`` and reported in :attr:`DraftStore.problem`
instead of stopping the wizard.

No Qt here.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

DRAFT_FILE = "triage-draft.json"
DRAFT_VERSION = 1
UNREADABLE_SUFFIX = ".unreadable"

FieldValue = str | int | bool | None
"""What a draft field may hold: JSON scalars only."""


class DraftError(OSError):
    """The draft could not be written or removed; the message says where and why."""


@dataclass(frozen=True)
class TriageDraft:
    """A half-done triage: the page the dispatcher was on and every field typed so far."""

    fields: Mapping[str, FieldValue]
    page: int = 0
    saved_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        clean: dict[str, FieldValue] = {}
        for name, value in self.fields.items():
            if not isinstance(name, str):
                raise ValueError(f"draft field names are text, not {name!r}")
            if value is not None and not isinstance(value, str | int | bool):
                raise ValueError(f"draft field {name!r} holds {type(value).__name__}, not a scalar")
            clean[name] = value
        object.__setattr__(self, "fields", clean)
        if not isinstance(self.page, int) or isinstance(self.page, bool) or self.page < 0:
            raise ValueError(f"draft page {self.page!r} is not a page number")
        if self.saved_at.tzinfo is None:
            raise ValueError("the draft's saved_at needs a time zone")

    def text(self, name: str) -> str:
        """A text field ("" when missing or not text)."""
        value = self.fields.get(name)
        return value if isinstance(value, str) else ""

    @property
    def has_content(self) -> bool:
        """Whether anything worth restoring was typed or answered."""
        return any(value not in (None, "", False) for value in self.fields.values())

    def summary(self, keys: tuple[str, ...] = ("reporter", "service", "title")) -> str:
        """A one-line reminder of what the draft is about (``Ana Ruiz · Payments API · …``)."""
        parts = [self.text(key).strip() for key in keys]
        return " · ".join(part for part in parts if part) or "nothing typed yet"

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": DRAFT_VERSION,
                "saved_at": self.saved_at.astimezone(UTC).isoformat(),
                "page": self.page,
                "fields": dict(self.fields),
            },
            ensure_ascii=False,
            indent=1,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> TriageDraft:
        """Parse a draft file's text; ``ValueError`` says what is wrong with it."""
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"it is not JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(raw, dict):
            raise ValueError("it is not a JSON object")
        version = raw.get("version")
        if version != DRAFT_VERSION:
            raise ValueError(f"it is version {version!r}; this console reads {DRAFT_VERSION}")
        fields = raw.get("fields")
        if not isinstance(fields, dict):
            raise ValueError('"fields" is not an object')
        page = raw.get("page", 0)
        try:
            saved_at = datetime.fromisoformat(str(raw.get("saved_at")))
        except ValueError:
            raise ValueError(f'"saved_at" {raw.get("saved_at")!r} is not a timestamp') from None
        if saved_at.tzinfo is None:
            saved_at = saved_at.replace(tzinfo=UTC)
        return cls(fields=fields, page=page, saved_at=saved_at)


class DraftStore:
    """Where the draft lives: ``triage-draft.json`` in ``folder`` (the data folder)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / DRAFT_FILE
        self.problem: str | None = None
        """Why the last :meth:`load` found a file it could not use (None: no problem)."""

    def load(self) -> TriageDraft | None:
        """The saved draft, or None when there is none (or none worth restoring).

        A file that cannot be read is moved aside and described in
        :attr:`problem`; the wizard then starts afresh.
        """
        self.problem = None
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self._set_aside(str(getattr(exc, "strerror", None) or exc))
            return None
        try:
            draft = TriageDraft.from_json(text)
        except ValueError as exc:
            self._set_aside(str(exc))
            return None
        return draft if draft.has_content else None

    def _set_aside(self, why: str) -> None:
        aside = self.path.with_name(self.path.name + UNREADABLE_SUFFIX)
        try:
            os.replace(self.path, aside)
        except OSError:
            moved = "it was left where it is"
        else:
            moved = f"it was moved to {aside}"
        self.problem = (
            f"The unfinished triage in {self.path} could not be read ({why}); {moved}. "
            "Starting afresh."
        )

    def save(self, draft: TriageDraft) -> None:
        """Write the draft atomically; :class:`DraftError` when the folder cannot be written."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(
                prefix=".triage-draft-", suffix=".tmp", dir=self.folder
            )
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    out.write(draft.to_json())
                os.replace(temporary, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as exc:
            raise DraftError(
                f"the unfinished triage could not be saved to {self.path} "
                f"({exc.strerror or exc}); free up the data folder"
            ) from exc

    def clear(self) -> None:
        """Remove the draft (nothing happens when there is none)."""
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            raise DraftError(
                f"the finished triage's draft {self.path} could not be removed "
                f"({exc.strerror or exc}); delete it by hand"
            ) from exc

    @property
    def exists(self) -> bool:
        return self.path.exists()
