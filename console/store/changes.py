"""What a cache write changed, so the Qt models can update only those rows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChangeSet:
    """The ids a write inserted, updated or removed.

    For the incident methods and :meth:`Cache.apply_changes` the ids are incident
    ids. The timeline and reference methods report their own ids (event ids,
    reference item ids) in ``inserted``/``updated``/``removed``; in addition,
    ``timeline_of`` names the incidents whose timeline changed and
    ``reference_kinds`` the kinds of reference data that changed, which is how
    :meth:`Cache.apply_changes` reports them without mixing id spaces.

    A row the write left as it was (e.g. an incident whose version was not
    newer) is not reported.
    """

    inserted: frozenset[str] = frozenset()
    updated: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    timeline_of: frozenset[str] = frozenset()
    reference_kinds: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        """True when anything at all changed."""
        return bool(
            self.inserted
            or self.updated
            or self.removed
            or self.timeline_of
            or self.reference_kinds
        )

    @property
    def ids(self) -> frozenset[str]:
        """Every id inserted, updated or removed."""
        return self.inserted | self.updated | self.removed

    def merge(self, other: ChangeSet) -> ChangeSet:
        """The net change of this write followed by ``other``.

        An id inserted here and removed there disappears (the model never needs
        to hear of it); removed here and inserted there is an update; inserted
        here and updated there stays an insert. That keeps a model that applies
        the merged set from inserting a row twice or removing one it never had.
        """
        inserted: set[str] = set()
        updated: set[str] = set()
        removed: set[str] = set()
        # Computed once: ``ids`` builds a fresh union on every access, and a
        # lookup per key made merging a 5000-row batch cost half a second.
        mine, theirs = self.ids, other.ids
        for key in mine | theirs:
            # The first set that mentions the id knows whether it existed
            # before; the last one that mentions it knows whether it exists now.
            first = self if key in mine else other
            last = other if key in theirs else self
            existed_before = key not in first.inserted
            exists_after = key not in last.removed
            if existed_before and exists_after:
                updated.add(key)
            elif exists_after:
                inserted.add(key)
            elif existed_before:
                removed.add(key)
        return ChangeSet(
            inserted=frozenset(inserted),
            updated=frozenset(updated),
            removed=frozenset(removed),
            timeline_of=self.timeline_of | other.timeline_of,
            reference_kinds=self.reference_kinds | other.reference_kinds,
        )
