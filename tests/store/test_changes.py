"""ChangeSet: what a Qt model is told after a write."""

from __future__ import annotations

import pytest

from console.store import ChangeSet


def cs(ins: str = "", upd: str = "", rem: str = "") -> ChangeSet:
    return ChangeSet(frozenset(ins), frozenset(upd), frozenset(rem))


def test_empty_is_false_and_any_change_is_true() -> None:
    assert not ChangeSet()
    assert cs(ins="a")
    assert cs(rem="a")
    assert ChangeSet(timeline_of=frozenset({"a"}))
    assert ChangeSet(reference_kinds=frozenset({"teams"}))


def test_ids_is_every_touched_id() -> None:
    assert cs(ins="a", upd="b", rem="c").ids == {"a", "b", "c"}


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (cs(ins="a"), cs(upd="a"), cs(ins="a")),  # still new to the model
        (cs(ins="a"), cs(rem="a"), cs()),  # came and went: never show it
        (cs(rem="a"), cs(ins="a"), cs(upd="a")),  # the row is still there, changed
        (cs(upd="a"), cs(rem="a"), cs(rem="a")),
        (cs(upd="a"), cs(upd="a"), cs(upd="a")),
        (cs(ins="a"), cs(ins="b"), cs(ins="ab")),
        (cs(rem="a"), cs(), cs(rem="a")),
        (cs(), cs(upd="b"), cs(upd="b")),
    ],
)
def test_merge_gives_the_net_change(
    first: ChangeSet, second: ChangeSet, expected: ChangeSet
) -> None:
    assert first.merge(second) == expected


def test_merge_unions_timeline_and_reference_reports() -> None:
    first = ChangeSet(timeline_of=frozenset({"a"}), reference_kinds=frozenset({"teams"}))
    second = ChangeSet(timeline_of=frozenset({"b"}), reference_kinds=frozenset({"shifts"}))
    merged = first.merge(second)
    assert merged.timeline_of == {"a", "b"}
    assert merged.reference_kinds == {"teams", "shifts"}
