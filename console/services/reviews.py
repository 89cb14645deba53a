"""What the Reviews and Problems views show: rows built once from the cached documents.

Plain Python so the filter can be measured (``python -m bench reviews``): each
row has a lower-cased haystack, and a keystroke is one pass of substring
tests over the rows (narrowing the last answer while the operator types on),
no re-parsing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import compress, repeat
from operator import contains
from typing import Any, TypeVar

from console.domain.incident import Incident
from console.domain.lifecycle import State
from console.domain.pir import RECUR_WINDOW, problem_reasons

# A document or action item the backend has not numbered yet (console.sync.review_edits).
LOCAL_PREFIX = "local-"
PENDING_MARK = "waiting to be sent"
"""How a shown edit not yet on the server is marked (like a note on the timeline)."""

# Which reviews a bucket shows.
BUCKETS: tuple[str, ...] = ("all", "due", "overdue", "held", "approved")


def _when(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """One review: its incident, where it stands and its action items' counts."""

    pir_id: str
    incident_number: str
    title: str
    severity: str
    status: str
    due_at: datetime | None
    overdue: bool
    open_items: int
    overdue_items: int
    service: str = ""
    pending: bool = False
    """An edit of it waits in the outbox (shown already, not yet on the server)."""


@dataclass(frozen=True, slots=True)
class ItemRow:
    """One action item, with the review it belongs to."""

    pir_id: str
    incident_number: str
    item_id: str
    title: str
    owner: str
    due: datetime | None
    state: str
    overdue: bool
    pending: bool = False


def review_status(status: str, due: datetime | None, now: datetime) -> tuple[str, bool]:
    """The bucket of a review (due / overdue / held / approved) and whether it is overdue."""
    if status == "draft":
        overdue = due is not None and now > due
        return ("overdue" if overdue else "due"), overdue
    return status, False


class ReviewRows:
    """Reviews and action items, filterable by text and bucket."""

    def __init__(self, docs: Iterable[Mapping[str, Any]], now: datetime) -> None:
        self.now = now
        reviews: list[ReviewRow] = []
        items: list[ItemRow] = []
        for doc in docs:
            number = str(doc.get("incident_number", ""))
            due = _when(doc.get("due_at"))
            bucket, overdue = review_status(str(doc.get("status", "draft")), due, now)
            open_items = overdue_items = 0
            for item in doc.get("action_items", ()) or ():
                item_due = _when(item.get("due"))
                state = str(item.get("state", "open"))
                late = state == "open" and item_due is not None and now > item_due
                open_items += state == "open"
                overdue_items += late
                owner = str(item.get("owner", ""))
                title = str(item.get("title", ""))
                items.append(
                    ItemRow(
                        pir_id=str(doc.get("id", "")),
                        incident_number=number,
                        item_id=str(item.get("id", "")),
                        title=title,
                        owner=owner,
                        due=item_due,
                        state="overdue" if late else state,
                        overdue=late,
                        pending=str(item.get("id", "")).startswith(LOCAL_PREFIX),
                    )
                )
            title = str(doc.get("title", ""))
            reviews.append(
                ReviewRow(
                    pir_id=str(doc.get("id", "")),
                    incident_number=number,
                    title=title,
                    severity=str(doc.get("severity", "")),
                    status=bucket,
                    due_at=due,
                    overdue=overdue,
                    open_items=open_items,
                    overdue_items=overdue_items,
                    service=str(doc.get("service", "")),
                    pending=bool(doc.get("pending")),
                )
            )
        far = datetime.max.replace(tzinfo=UTC)
        # Overdue first, then by due time: what the review meeting must chase.
        reviews.sort(key=lambda r: (not r.overdue, r.status != "due", r.due_at or far))
        # By owner, then due date: who owes what, soonest first.
        items.sort(
            key=lambda i: (i.state not in ("overdue", "open"), i.owner.lower(), i.due or far)
        )
        self.reviews: Sequence[ReviewRow] = reviews
        self.items: Sequence[ItemRow] = items
        # Parallel lists of lower-case haystacks, made in one pass after sorting so
        # they lie together in memory in row order: a keystroke tests strings, not row
        # attributes, and scanning strings scattered among the documents' objects
        # costs about three times as much (cache misses).
        self._review_hays = [
            f"{r.incident_number} {r.title} {r.service} {r.status}".lower() for r in reviews
        ]
        self._item_hays = [
            f"{i.incident_number} {i.title} {i.owner} {i.state}{' open' * i.overdue}".lower()
            for i in items
        ]
        self.overdue_counts: tuple[int, int] = (
            sum(r.overdue for r in reviews),
            sum(i.overdue for i in items),
        )
        """How many reviews and action items are overdue (for the status line)."""
        self._last: _Filtered | None = None

    def filter(self, text: str = "", bucket: str = "all") -> tuple[list[ReviewRow], list[ItemRow]]:
        """The reviews in ``bucket`` whose words contain every word of ``text``, and the items.

        Items match on their own words (owner, title, incident); with a bucket
        other than all, only the items of the reviews shown. Typing on narrows
        the last answer instead of scanning every row again: when the new text
        extends the last one, every row it matches matched the last one too,
        and only the words the last text did not have are tested.
        """
        text = text.lower()
        words = text.split()
        last = self._last
        if last is not None and last.bucket == bucket and text.startswith(last.text):
            reviews, review_hays = last.reviews, last.review_hays
            items, item_hays = last.items, last.item_hays
            # Every row there contains each of the last text's words already.
            done = set(last.text.split())
            words = [w for w in words if w not in done]
        elif bucket == "all":
            reviews, review_hays = list(self.reviews), self._review_hays
            items, item_hays = list(self.items), self._item_hays
        else:
            keep = [r.status == bucket for r in self.reviews]
            reviews = list(compress(self.reviews, keep))
            review_hays = list(compress(self._review_hays, keep))
            shown = {r.pir_id for r in reviews}
            keep = [i.pir_id in shown for i in self.items]
            items = list(compress(self.items, keep))
            item_hays = list(compress(self._item_hays, keep))
        for word in words:
            reviews, review_hays = _matching(word, reviews, review_hays)
            items, item_hays = _matching(word, items, item_hays)
        self._last = _Filtered(text, bucket, reviews, review_hays, items, item_hays)
        return list(reviews), list(items)


_Row = TypeVar("_Row")


def _matching(word: str, rows: list[_Row], hays: list[str]) -> tuple[list[_Row], list[str]]:
    """The rows whose haystack contains ``word`` (the same lists when every row does)."""
    keep = list(map(contains, hays, repeat(word)))
    if all(keep):
        return rows, hays
    return list(compress(rows, keep)), list(compress(hays, keep))


@dataclass(frozen=True, slots=True)
class _Filtered:
    """The last filter's answer, narrowed again while the operator types on."""

    text: str
    bucket: str
    reviews: list[ReviewRow]
    review_hays: list[str]
    items: list[ItemRow]
    item_hays: list[str]


@dataclass(frozen=True, slots=True)
class ReviewStanding:
    """An incident's review in one line, for the detail pane and the queue's filter."""

    number: str
    status: str
    due_at: datetime | None
    overdue: bool
    open_items: int
    overdue_items: int

    @property
    def late(self) -> bool:
        """The review or one of its action items is past due."""
        return self.overdue or self.overdue_items > 0

    def text(self) -> str:
        """``Review overdue since 2026-05-04 09:00 · 3 open action items, 1 overdue``."""
        due = "" if self.due_at is None else self.due_at.strftime("%Y-%m-%d %H:%M")
        if self.overdue:
            head = f"Review overdue since {due}"
        elif self.status == "due":
            head = f"Review due {due}"
        else:
            head = f"Review {self.status}"
        items = ""
        if self.open_items:
            late = f", {self.overdue_items} overdue" if self.overdue_items else ""
            items = f" · {self.open_items} open action item{'s' * (self.open_items != 1)}{late}"
        return head + items


def review_standings(docs: Iterable[Mapping[str, Any]], now: datetime) -> dict[str, ReviewStanding]:
    """Each reviewed incident's standing, by incident id."""
    out: dict[str, ReviewStanding] = {}
    for doc in docs:
        due = _when(doc.get("due_at"))
        bucket, overdue = review_status(str(doc.get("status", "draft")), due, now)
        open_items = late_items = 0
        for item in doc.get("action_items", ()) or ():
            if str(item.get("state", "open")) != "open":
                continue
            open_items += 1
            item_due = _when(item.get("due"))
            late_items += item_due is not None and now > item_due
        out[str(doc.get("incident_id", ""))] = ReviewStanding(
            number=str(doc.get("incident_number", "")),
            status=bucket,
            due_at=due,
            overdue=overdue,
            open_items=open_items,
            overdue_items=late_items,
        )
    return out


def closure_suggestion(
    incident: Incident,
    incidents: Iterable[Incident],
    reviews: Iterable[Mapping[str, Any]],
    problems: Iterable[Mapping[str, Any]],
    now: datetime,
) -> list[str]:
    """At closure: why to open or link a problem for ``incident`` (empty: nothing to suggest,
    or it is linked already). Offline, from the cache: the review's unknown root cause, or
    the same service and category recurring (3 incidents in 30 days)."""
    for problem in problems:
        linked = problem.get("incidents") or []
        if incident.id in linked or incident.number in linked:
            return []
    review = next((r for r in reviews if r.get("incident_id") == incident.id), None)
    known = None if review is None else bool(review.get("root_cause_known", True))
    since = now - RECUR_WINDOW
    recent = 0
    if incident.category:
        recent = sum(
            1
            for other in incidents
            if other.service == incident.service
            and other.category == incident.category
            and other.opened_at >= since
        )
    return problem_reasons(
        root_cause_known=known,
        service=incident.service,
        category=incident.category,
        recent=recent,
    )


FEED_CLOSURE_WINDOW = timedelta(minutes=15)
"""How recent a closure from another console must be to prompt here (not yesterday's)."""


def closures_to_suggest(
    arrived: Iterable[Incident],
    before: Callable[[str], Incident | None],
    *,
    mine: Callable[[Incident], bool],
    watching: str | None,
    now: datetime,
) -> list[Incident]:
    """Closures that came from the change feed and should prompt this operator for a problem.

    An incident counts when this console saw it open and now sees it closed
    (``before`` is the queue's record before the update: a first sync or a
    start-up over old closures has nothing open to compare with), the closure
    is at most :data:`FEED_CLOSURE_WINDOW` old (a console back from a night
    offline does not prompt for every closure it missed), and it is this
    operator's: assigned to them (``mine``) or the incident they are looking at
    (``watching``). Whether a problem is then suggested is
    :func:`closure_suggestion`'s rule; the console prompts once per incident.
    """
    out: list[Incident] = []
    for incident in arrived:
        if incident.state is not State.CLOSED:
            continue
        earlier = before(incident.id)
        if earlier is None or earlier.state is State.CLOSED:
            continue
        closed = incident.closed_at or incident.updated_at
        if now - closed > FEED_CLOSURE_WINDOW:
            continue
        if mine(incident) or incident.id == watching:
            out.append(incident)
    return out
