"""The classification taxonomy: categories and their subcategories, from the reference data.

The triage's Classification step offers them in the order the ``categories``
reference rows give; a bad row stops with the row named, so an administrator
can fix it. Pure functions of their arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from console.domain.errors import InvalidValue


@dataclass(frozen=True, slots=True)
class Category:
    """One branch of the classification taxonomy: a category and its subcategories."""

    id: str
    name: str
    subcategories: tuple[tuple[str, str], ...]  # (id, name)

    def subcategory_name(self, subcategory_id: str) -> str | None:
        """The display name of one of this category's subcategories (None: not one of them)."""
        for sub_id, name in self.subcategories:
            if sub_id == subcategory_id:
                return name
        return None


def taxonomy(raw: Iterable[Mapping[str, object]]) -> tuple[Category, ...]:
    """The taxonomy from the ``categories`` reference rows, in the order given.

    A bad row (no id or name, no subcategories, an id used twice) raises
    ``InvalidValue`` naming the row, so an administrator can fix it.
    """
    categories: list[Category] = []
    seen: set[str] = set()
    for position, row in enumerate(raw, start=1):
        where = f"category row {position}"
        if not isinstance(row, Mapping):
            raise InvalidValue(where, row, "a record with id, name and subcategories")
        ident, name = row.get("id"), row.get("name")
        if not isinstance(ident, str) or not ident.strip():
            raise InvalidValue(f"{where} id", ident, "a non-empty id such as 'network'")
        where = f"category row {position} ({ident.strip()!r})"
        if not isinstance(name, str) or not name.strip():
            raise InvalidValue(f"{where} name", name, "a non-empty name")
        if ident.strip() in seen:
            raise InvalidValue(f"{where} id", ident, "an id not used by another category")
        seen.add(ident.strip())
        subs_raw = row.get("subcategories")
        if not isinstance(subs_raw, (list, tuple)) or not subs_raw:
            raise InvalidValue(
                f"{where} subcategories", subs_raw, "a non-empty list of {id, name} records"
            )
        subs: list[tuple[str, str]] = []
        for sub in subs_raw:
            sub_id = sub.get("id") if isinstance(sub, Mapping) else None
            sub_name = sub.get("name") if isinstance(sub, Mapping) else None
            if not (isinstance(sub_id, str) and sub_id.strip()) or not (
                isinstance(sub_name, str) and sub_name.strip()
            ):
                raise InvalidValue(
                    f"{where} subcategory", sub, "a record with a non-empty id and name"
                )
            if any(sub_id.strip() == s for s, _ in subs):
                raise InvalidValue(
                    f"{where} subcategory id", sub_id, "an id used once within the category"
                )
            subs.append((sub_id.strip(), sub_name.strip()))
        categories.append(Category(ident.strip(), name.strip(), tuple(subs)))
    return tuple(categories)
