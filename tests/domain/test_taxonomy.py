"""The classification taxonomy (console/domain/taxonomy.py): order kept, names trimmed,
a bad row named."""

from __future__ import annotations

import json

import pytest

from console.config.resources import resource_path
from console.domain.errors import InvalidValue
from console.domain.taxonomy import Category, taxonomy


def test_demo_taxonomy_reads() -> None:
    raw = json.loads(resource_path("demo", "categories.json").read_text(encoding="utf-8"))
    categories = taxonomy(raw)
    assert [c.id for c in categories][:4] == ["hardware", "software", "network", "security"]
    software = categories[1]
    assert isinstance(software, Category)
    assert ("database", "Database") in software.subcategories
    assert software.subcategory_name("database") == "Database"
    assert software.subcategory_name("nope") is None


def test_taxonomy_keeps_the_given_order_and_trims() -> None:
    categories = taxonomy(
        [
            {
                "id": " network ",
                "name": "Network ",
                "subcategories": [{"id": "vpn", "name": "VPN"}],
            },
            {"id": "access", "name": "Access", "subcategories": [{"id": "sso", "name": "SSO"}]},
        ]
    )
    assert categories == (
        Category("network", "Network", (("vpn", "VPN"),)),
        Category("access", "Access", (("sso", "SSO"),)),
    )


GOOD = {"id": "network", "name": "Network", "subcategories": [{"id": "vpn", "name": "VPN"}]}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"name": "Access", "subcategories": [{"id": "a", "name": "A"}]}, r"category row 2 id"),
        ({"id": "access", "subcategories": [{"id": "a", "name": "A"}]}, r"row 2 \('access'\) name"),
        ({"id": "access", "name": "Access", "subcategories": []}, r"\('access'\) subcategories"),
        ({"id": "access", "name": "Access"}, r"\('access'\) subcategories"),
        ({"id": "access", "name": "Access", "subcategories": [{"id": "a"}]}, r"subcategory"),
        (
            {
                "id": "access",
                "name": "Access",
                "subcategories": [{"id": "a", "name": "A"}, {"id": "a", "name": "B"}],
            },
            r"\('access'\) subcategory id",
        ),
        (
            {"id": "network", "name": "Again", "subcategories": [{"id": "a", "name": "A"}]},
            "used by",
        ),
        ("access", r"category row 2"),
    ],
)
def test_bad_taxonomy_row_names_the_row(bad: object, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        taxonomy([GOOD, bad])  # type: ignore[list-item]
