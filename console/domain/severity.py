"""Impact × urgency → severity, as ITIL-NOTES.md describes it.

Impact is how widely the business is hurt (how many users, which business
functions); urgency is how fast it must be fixed (regulatory deadline, customer
SLA, financial window). The requester never sets severity directly: the matrix
computes it, and only a commander may override it (with a reason).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from console.domain.errors import InvalidValue, parse_enum


class Impact(enum.Enum):
    """How much of the business is affected (how many users, which functions)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @classmethod
    def of(cls, value: object) -> Impact:
        """Parse a wire or user value; the error names the allowed values."""
        return parse_enum(cls, value, "impact")

    @property
    def rank(self) -> int:
        """1 for high, 2 for medium, 3 for low (ServiceNow's numbering)."""
        return _RANKS[self.value]


class Urgency(enum.Enum):
    """How fast the business needs it fixed."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @classmethod
    def of(cls, value: object) -> Urgency:
        """Parse a wire or user value; the error names the allowed values."""
        return parse_enum(cls, value, "urgency")

    @property
    def rank(self) -> int:
        """1 for high, 2 for medium, 3 for low (ServiceNow's numbering)."""
        return _RANKS[self.value]


_RANKS = {"high": 1, "medium": 2, "low": 3}


class Shape(enum.Enum):
    """The outline a severity is drawn with, so it reads without colour."""

    OCTAGON = "octagon"
    TRIANGLE = "triangle"
    DIAMOND = "diamond"
    CIRCLE = "circle"


@dataclass(frozen=True)
class SeverityStyle:
    """How a severity looks on screen: never colour alone."""

    label: str
    colour: str  # #RRGGBB, readable as a fill behind white or black text
    text_colour: str
    shape: Shape
    glyph: str  # a text fallback of the shape for plain-text outputs


class Severity(enum.IntEnum):
    """SEV-1 (critical) to SEV-4 (low). Lower numbers are more severe."""

    SEV1 = 1
    SEV2 = 2
    SEV3 = 3
    SEV4 = 4

    @property
    def code(self) -> str:
        """The wire and display code, e.g. ``SEV-1``."""
        return f"SEV-{self.value}"

    @property
    def style(self) -> SeverityStyle:
        return _STYLES[self]

    @property
    def label(self) -> str:
        return _STYLES[self].label

    @classmethod
    def of(cls, value: object) -> Severity:
        """Parse ``SEV-2``, ``sev2``, ``2`` or a Severity; the error names the allowed values."""
        if isinstance(value, Severity):
            return value
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4:
            return cls(value)
        if isinstance(value, str):
            key = value.strip().upper().replace("-", "").replace(" ", "")
            if key.startswith("SEV"):
                key = key[3:]
            if key in {"1", "2", "3", "4"}:
                return cls(int(key))
        raise InvalidValue("severity", value, [s.code for s in cls])


_STYLES: dict[Severity, SeverityStyle] = {
    Severity.SEV1: SeverityStyle("Critical", "#C62828", "#FFFFFF", Shape.OCTAGON, "■"),
    Severity.SEV2: SeverityStyle("High", "#EF6C00", "#000000", Shape.TRIANGLE, "▲"),
    Severity.SEV3: SeverityStyle("Moderate", "#F9A825", "#000000", Shape.DIAMOND, "◆"),
    Severity.SEV4: SeverityStyle("Low", "#1565C0", "#FFFFFF", Shape.CIRCLE, "●"),
}


def _default_cells() -> dict[tuple[Impact, Urgency], Severity]:
    # Both high → SEV-1, both low → SEV-4; the mixed cells follow ServiceNow's
    # default lookup (priority = impact rank + urgency rank - 1) with its
    # priorities 4 and 5 merged into SEV-4.
    h, m, lo = Impact.HIGH, Impact.MEDIUM, Impact.LOW
    uh, um, ul = Urgency.HIGH, Urgency.MEDIUM, Urgency.LOW
    return {
        (h, uh): Severity.SEV1,
        (h, um): Severity.SEV2,
        (m, uh): Severity.SEV2,
        (h, ul): Severity.SEV3,
        (m, um): Severity.SEV3,
        (lo, uh): Severity.SEV3,
        (m, ul): Severity.SEV4,
        (lo, um): Severity.SEV4,
        (lo, ul): Severity.SEV4,
    }


@dataclass(frozen=True)
class PriorityMatrix:
    """The configurable impact × urgency → severity lookup.

    Every one of the nine cells must be given; a site changes the mixed cells
    by policy, but a matrix that makes high/high anything but SEV-1 or low/low
    anything but SEV-4 is refused, because it breaks the definitions every
    report and escalation rule relies on.
    """

    cells: Mapping[tuple[Impact, Urgency], Severity] = field(default_factory=_default_cells)

    def __post_init__(self) -> None:
        # Keep a private copy: a caller's dict changed after
        # validation must not turn high/high into anything but SEV-1.
        cells: dict[tuple[Impact, Urgency], Severity] = {}
        for key, sev in self.cells.items():
            if not isinstance(key, tuple) or len(key) != 2:
                raise InvalidValue("matrix", key, "(impact, urgency) pairs")
            impact, urgency = Impact.of(key[0]), Urgency.of(key[1])
            cells[(impact, urgency)] = _cell_severity(sev, impact, urgency)
        object.__setattr__(self, "cells", cells)
        missing = [
            f"{i.value}/{u.value}" for i in Impact for u in Urgency if (i, u) not in self.cells
        ]
        if missing:
            raise InvalidValue("matrix", "incomplete", f"a severity for every cell ({missing})")
        if self.cells[(Impact.HIGH, Urgency.HIGH)] is not Severity.SEV1:
            raise InvalidValue(
                "matrix high/high", self.cells[(Impact.HIGH, Urgency.HIGH)], ["SEV-1"]
            )
        if self.cells[(Impact.LOW, Urgency.LOW)] is not Severity.SEV4:
            raise InvalidValue("matrix low/low", self.cells[(Impact.LOW, Urgency.LOW)], ["SEV-4"])

    def __hash__(self) -> int:
        # ``cells`` is a dict; hash its contents so a matrix can key a cache.
        return hash(tuple(sorted((i.value, u.value, s) for (i, u), s in self.cells.items())))

    def severity(self, impact: Impact, urgency: Urgency) -> Severity:
        """The severity the matrix assigns to this impact and urgency."""
        return self.cells[(impact, urgency)]

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Mapping[str, object]]) -> PriorityMatrix:
        """Build from config shaped ``{impact: {urgency: "SEV-n"}}``; errors name the cell."""
        cells: dict[tuple[Impact, Urgency], Severity] = {}
        for impact_key, row in raw.items():
            impact = Impact.of(impact_key)
            if not isinstance(row, Mapping):
                raise InvalidValue(
                    f"matrix {impact.value}", row, "a table of urgency: severity, e.g. high: SEV-1"
                )
            for urgency_key, sev in row.items():
                urgency = Urgency.of(urgency_key)
                if (impact, urgency) in cells:
                    # "High" and "high" would silently overwrite each other.
                    raise InvalidValue(
                        f"matrix {impact.value}/{urgency.value}", sev, "one severity per cell"
                    )
                cells[(impact, urgency)] = _cell_severity(sev, impact, urgency)
        return cls(cells)


def _cell_severity(value: object, impact: Impact, urgency: Urgency) -> Severity:
    """Parse one matrix cell; the error names the cell, not just "severity"."""
    try:
        return Severity.of(value)
    except InvalidValue:
        raise InvalidValue(
            f"matrix {impact.value}/{urgency.value}", value, [s.code for s in Severity]
        ) from None


DEFAULT_MATRIX = PriorityMatrix()
