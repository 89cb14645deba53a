"""The live queue's filters and the operator's saved views (kept in the cache meta table)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace

from console.domain.incident import Source
from console.domain.lifecycle import State
from console.domain.severity import Severity

# ----------------------------------------------------------------- filters


_SOURCE_VALUES = frozenset(source.value for source in Source)

# The filter box's terms: typed like a word, matched as a criterion, not as text.
REVIEW_OVERDUE_TERMS = frozenset({"review:overdue", "pir:overdue"})
TERMS = REVIEW_OVERDUE_TERMS


@dataclass(frozen=True)
class QueueFilter:
    """What the operator asked to see. Empty sets mean "any".

    ``text`` matches number, title, service and assignee (every word must
    match, in any order). ``open_only`` hides resolved, closed and cancelled
    work (the queue's default); ``mine`` keeps incidents assigned to the
    operator; ``at_risk`` keeps open incidents whose SLA clock reads warning
    or breached; ``sources`` keeps incidents by how they came in (``monitoring``
    for what alert intake opened, ``phone`` …). The term ``review:overdue``
    in ``text`` keeps incidents whose review or its action items are past due
    (:attr:`review_overdue`; the queue is told which by ``set_review_overdue``).
    """

    text: str = ""
    severities: frozenset[Severity] = frozenset()
    states: frozenset[State] = frozenset()
    services: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    mine: bool = False
    at_risk: bool = False
    open_only: bool = False

    @property
    def words(self) -> tuple[str, ...]:
        """The free-text words (the filter's terms, such as ``review:overdue``, left out)."""
        return tuple(w for w in self.text.lower().split() if w not in TERMS)

    @property
    def review_overdue(self) -> bool:
        """Typed ``review:overdue`` (or ``pir:overdue``): only incidents whose post-incident
        review is past due or has action items past due, resolved and closed ones too
        (the term overrides ``open_only``)."""
        return any(w in REVIEW_OVERDUE_TERMS for w in self.text.lower().split())

    def narrows(self, previous: QueueFilter) -> bool:
        """Whether every row this filter keeps was kept by ``previous`` (typing on).

        Then the new result can be computed from the old one, which is what
        makes each keystroke of a growing search word cheap.
        """
        if replace(self, text="") != replace(previous, text=""):
            return False
        if self.review_overdue != previous.review_overdue:
            return False  # a term, not text: it widens past open_only
        old = previous.text.lower()
        new = self.text.lower()
        return all(any(o in n for n in new.split()) for o in old.split())

    def without_states(self) -> QueueFilter:
        """The same filter for the board, whose columns are the states."""
        return replace(self, states=frozenset(), open_only=False)

    def to_json(self) -> dict[str, object]:
        """A JSON-able form for saved views."""
        out: dict[str, object] = {}
        if self.text:
            out["text"] = self.text
        if self.severities:
            out["severities"] = sorted(s.code for s in self.severities)
        if self.states:
            out["states"] = sorted(s.value for s in self.states)
        if self.services:
            out["services"] = sorted(self.services)
        if self.groups:
            out["groups"] = sorted(self.groups)
        if self.sources:
            out["sources"] = sorted(self.sources)
        for name in ("mine", "at_risk", "open_only"):
            if getattr(self, name):
                out[name] = True
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, object]) -> QueueFilter:
        """Read a saved view; unknown values are dropped rather than failing the whole list."""

        def strings(name: str) -> list[str]:
            value = raw.get(name, [])
            return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

        severities: set[Severity] = set()
        for code in strings("severities"):
            try:
                severities.add(Severity.of(code))
            except ValueError:
                continue
        states: set[State] = set()
        for value in strings("states"):
            try:
                states.add(State.of(value))
            except ValueError:
                continue
        text = raw.get("text", "")
        return cls(
            text=text if isinstance(text, str) else "",
            severities=frozenset(severities),
            states=frozenset(states),
            services=frozenset(strings("services")),
            groups=frozenset(strings("groups")),
            sources=frozenset(s for s in strings("sources") if s in _SOURCE_VALUES),
            mine=raw.get("mine") is True,
            at_risk=raw.get("at_risk") is True,
            open_only=raw.get("open_only") is True,
        )


OPEN_QUEUE = QueueFilter(open_only=True)
"""The queue's default view: every open incident."""


# ------------------------------------------------------------- saved views


BUILT_IN_VIEWS: dict[str, QueueFilter] = {
    "All open": OPEN_QUEUE,
    "Mine": replace(OPEN_QUEUE, mine=True),
    "SLA at risk": replace(OPEN_QUEUE, at_risk=True),
    "Critical and high": replace(OPEN_QUEUE, severities=frozenset({Severity.SEV1, Severity.SEV2})),
    "Unacknowledged": replace(OPEN_QUEUE, states=frozenset({State.NEW})),
    # Resolved and closed too: a review is owed after resolution.
    "Review overdue": QueueFilter(text="review:overdue"),
}
"""Views every console has; the operator's own come after them."""


class SavedViews:
    """Named filter sets the operator saved, kept as one JSON text.

    ``load``/``store`` read and write that text (``console.app.gui`` passes the
    cache's meta table, key :data:`SAVED_VIEWS_META_KEY`), so the views
    survive restarts and stay on this machine.
    """

    def __init__(
        self,
        load: Callable[[], str | None] = lambda: None,
        store: Callable[[str], None] = lambda _text: None,
    ) -> None:
        self._store = store
        self._views: dict[str, QueueFilter] = {}
        text = load()
        if text:
            try:
                raw = json.loads(text)
            except ValueError:
                raw = {}
            if isinstance(raw, dict):
                for name, value in raw.items():
                    if isinstance(name, str) and isinstance(value, dict):
                        self._views[name] = QueueFilter.from_json(value)

    def names(self) -> list[str]:
        """Built-in views first, then the operator's in the order saved."""
        return [*BUILT_IN_VIEWS, *(n for n in self._views if n not in BUILT_IN_VIEWS)]

    def __iter__(self) -> Iterator[tuple[str, QueueFilter]]:
        for name in self.names():
            yield name, self[name]

    def __getitem__(self, name: str) -> QueueFilter:
        return BUILT_IN_VIEWS.get(name) or self._views[name]

    def is_built_in(self, name: str) -> bool:
        return name in BUILT_IN_VIEWS

    def save(self, name: str, wanted: QueueFilter) -> None:
        """Save (or replace) a view; built-in names cannot be replaced."""
        name = name.strip()
        if not name:
            raise ValueError("a saved view needs a name")
        if name in BUILT_IN_VIEWS:
            raise ValueError(f"{name!r} is a built-in view; choose another name")
        self._views[name] = wanted
        self._write()

    def delete(self, name: str) -> None:
        if self._views.pop(name, None) is not None:
            self._write()

    def _write(self) -> None:
        try:
            self._store(json.dumps({n: f.to_json() for n, f in self._views.items()}))
        except Exception as exc:  # the store is the cache: say so instead of crashing
            raise ValueError(f"the view could not be saved: {exc}") from exc


SAVED_VIEWS_META_KEY = "board.saved_views"
"""The cache meta key saved views are kept under."""
