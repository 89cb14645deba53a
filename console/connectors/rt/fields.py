"""Which RT custom field holds which incident field: :class:`CustomFieldNames`.

Read from ``[rt.custom_fields]`` in settings.toml (docs/rt.md, "Settings").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class CustomFieldNames:
    """Which RT custom field holds which incident field (None: not kept in RT).

    ``impact``, ``urgency``, ``severity``, ``service`` and ``category`` are
    expected on the queue; ``subcategory``, ``assignment_group`` and ``major``
    are optional extras a site may add.

    ``request_key`` is not an incident field: it names the custom field, on
    tickets and on ticket transactions, in which the console writes the key
    of each request it sends (RT has no idempotency keys), so that a request
    sent again after its answer was lost is recognised instead of done twice.
    """

    impact: str | None = "Impact"
    urgency: str | None = "Urgency"
    severity: str | None = "Severity"
    service: str | None = "Service"
    category: str | None = "Category"
    subcategory: str | None = None
    assignment_group: str | None = None
    major: str | None = None
    request_key: str | None = "NOC Request Key"

    EXPECTED = ("impact", "urgency", "severity", "service", "category")
    OPTIONAL = ("subcategory", "assignment_group", "major")
    RECOMMENDED = ("request_key",)

    def name_of(self, field_name: str) -> str | None:
        value: str | None = getattr(self, field_name)
        return value

    def configured(self) -> dict[str, str]:
        """Incident field → custom field name, for every field mapped to one."""
        out: dict[str, str] = {}
        for name in (*self.EXPECTED, *self.OPTIONAL):
            cf = self.name_of(name)
            if cf:
                out[name] = cf
        return out

    @classmethod
    def from_mapping(
        cls, raw: Mapping[str, object], where: str = "custom_fields"
    ) -> CustomFieldNames:
        """From a settings table; ``""`` maps a field to nothing. ValueError names the key."""
        known = (*cls.EXPECTED, *cls.OPTIONAL, *cls.RECOMMENDED)
        values: dict[str, str | None] = {}
        for key, value in raw.items():
            if key not in known:
                raise ValueError(f"{where}.{key}: unknown key; allowed: {', '.join(known)}")
            if not isinstance(value, str):
                raise ValueError(f"{where}.{key}: {value!r} is not a custom field's name (text)")
            values[key] = value.strip() or None
        return cls(**values)
