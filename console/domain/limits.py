"""How long each kind of free text may be: one table for the wire, the server and the forms.

The v1 schema (:mod:`console.wire`) enforces these; the console's forms cap
their fields from the same numbers so an operator is stopped while typing, not
by a 422 after pressing Submit.
"""

from __future__ import annotations

TITLE_CHARS = 200
"""An incident's title."""
NAME_CHARS = 120
"""A person's or a caller's name (and the reporter's "name (contact)" line)."""
NOTE_CHARS = 20_000
"""A work note, a status update, an incident's details."""
REASON_CHARS = 2_000
"""Why: a reason for an override, a stand-down, a dropped action item."""
SHORT_TEXT_CHARS = 500
"""An optional one-liner."""
LONG_TEXT_CHARS = 20_000
"""An optional long text."""
STATUS_UPDATE_CHARS = 10_000
"""A major incident's status update, published to one audience."""
