"""Which incidents the alert rules must look at, kept up to date from the queue.

The alert rules (:class:`~console.domain.alerts.AlertTracker`) only raise news: an
incident that appeared or changed, or an SLA clock that crossed into warning
or breach. With 100k incidents, re-reading every clock every few seconds cost
over a second of the GUI thread per check. :class:`QueueAlertWatch` listens to
the :class:`~console.services.queue.IncidentQueue` instead and hands the tracker
only what may have news at each check:

- the incidents inserted, updated or removed since the last check;
- those whose clock entered warning since (the queue's own warning heap says so);
- those whose clock fell due since (a heap of due instants kept here);
- those with an alarm standing unacknowledged (they may re-alarm).

Everything else is left as the tracker last saw it. Start-up (:meth:`prime`)
reads the queue's precomputed clock plans rather than full SLA readings, so
opening a big cache does not pay for a reading per at-risk incident.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Sequence
from datetime import datetime

from console.domain.alerts import Alert, AlertTracker, late_audiences
from console.domain.calendar import to_micros
from console.domain.incident import Incident
from console.domain.severity import Severity
from console.domain.sla import SlaReading, SlaStatus
from console.services.queue import IncidentQueue, Row


class QueueAlertWatch:
    """Feeds an :class:`AlertTracker` from an :class:`IncidentQueue`, touching only what changed.

    ``new_incident`` are the severities whose arrival alarms (from the alert
    rules); together with the clocks at warning or beyond they are what the
    tracker watches, as with a full evaluation. Registers itself as a listener
    of ``queue``; call :meth:`close` to stop listening.
    """

    def __init__(
        self,
        queue: IncidentQueue,
        tracker: AlertTracker,
        new_incident: Collection[Severity] = frozenset({Severity.SEV1, Severity.SEV2}),
    ) -> None:
        self.queue = queue
        self.tracker = tracker
        self.new_incident = frozenset(new_incident)
        self._dirty: set[str] = set()
        self._gone: set[str] = set()
        self._dues: list[tuple[int, str]] = []
        self._reset = False
        self.last_checked = 0
        """How many incidents the last :meth:`check` evaluated (for the bench and tests)."""
        queue.subscribe(self)

    def close(self) -> None:
        self.queue.unsubscribe(self)

    # ------------------------------------------------------------- checking

    def prime(self, now: datetime) -> None:
        """Take in the queue as it is, raising nothing: what is there now is not news."""
        now_us = to_micros(now)
        tracker = self.tracker
        self._dues = []
        for row in self.queue.ordered():
            plan = row.plan
            if plan is None:
                continue
            incident = row.incident
            if plan.is_at_risk(now_us):
                due_us = plan.due_at(now_us)
                status = SlaStatus.BREACHED if now_us >= due_us else SlaStatus.WARNING
                tracker.remember(
                    incident.id,
                    incident.severity,
                    (plan.kind, status),
                    late_audiences(incident, now),
                )
                self._schedule(row, now_us)
            elif incident.severity in self.new_incident or incident.major:
                tracker.remember(
                    incident.id, incident.severity, None, late_audiences(incident, now)
                )
        heapq.heapify(self._dues)
        self._dirty.clear()
        self._gone.clear()
        self._reset = False

    def check(self, now: datetime) -> list[Alert]:
        """The alerts due at ``now``, from the incidents that may have news."""
        queue = self.queue
        if self._reset:
            return self._check_all(now)
        now_us = to_micros(now)
        dirty = self._dirty
        dues = self._dues
        while dues and dues[0][0] <= now_us:
            dirty.add(heapq.heappop(dues)[1])
        dirty.update(self.tracker.standing())
        dirty.update(queue.overdue_ids())  # #19: the few majors owing a late update
        gone = set(self._gone)
        incidents: list[Incident] = []
        readings: dict[str, SlaReading] = {}
        for incident_id in dirty:
            if not self._watched(queue.row(incident_id), now, now_us, incidents, readings):
                gone.add(incident_id)
        self.last_checked = len(dirty)
        self._dirty = set()
        self._gone = set()
        return self.tracker.update(incidents, readings, now, gone=gone)

    def _check_all(self, now: datetime) -> list[Alert]:
        """After the queue was replaced wholesale: one full evaluation."""
        now_us = to_micros(now)
        incidents: list[Incident] = []
        readings: dict[str, SlaReading] = {}
        self._dues = []
        rows = self.queue.ordered()
        for row in rows:
            if self._watched(row, now, now_us, incidents, readings) and row.id in readings:
                self._schedule(row, now_us)
        heapq.heapify(self._dues)
        self._dirty = set()
        self._gone = set()
        self._reset = False
        self.last_checked = len(rows)
        return self.tracker.evaluate(incidents, readings, now)

    def _watched(
        self,
        row: Row | None,
        now: datetime,
        now_us: int,
        incidents: list[Incident],
        readings: dict[str, SlaReading],
    ) -> bool:
        """Add the row to what the tracker evaluates if it can alarm; False if it cannot."""
        if row is None or row.plan is None:  # removed, or finished: nothing to alarm about
            return False
        incident = row.incident
        if row.plan.is_at_risk(now_us):
            readings[incident.id] = self.queue.policy.current(incident, now)
        elif incident.severity not in self.new_incident and not incident.major:
            return False
        incidents.append(incident)
        return True

    def _schedule(self, row: Row, now_us: int) -> None:
        """Remember when the row's running clock falls due (a breach is news then).

        Only clocks already at warning are scheduled: the others reach warning
        first, and the queue reports that (:meth:`clocks_moved`), which
        schedules them then. This keeps the heap to the few at risk.
        """
        plan = row.plan
        if plan is not None and plan.paused_left_us is None and plan.due_us > now_us:
            self._dues.append((plan.due_us, row.id))

    # ----------------------------------------------- the queue's notifications

    def queue_reset(self) -> None:
        self._reset = True

    def row_changed(self, old: Row | None, new: Row | None) -> None:
        if new is None:
            if old is not None:
                self._gone.add(old.id)
                self._dirty.discard(old.id)
            return
        self._gone.discard(new.id)
        self._dirty.add(new.id)
        if new.plan is not None and self.queue.is_at_risk(new):
            self._push_due(new)

    def rows_rekeyed(self, moved: Sequence[tuple[Row, Row]]) -> None:
        """Paused dues slid: a paused clock crosses nothing until it runs again."""

    def clocks_moved(self, newly_at_risk: Sequence[Row]) -> None:
        for row in newly_at_risk:
            self._dirty.add(row.id)
            self._push_due(row)

    def _push_due(self, row: Row) -> None:
        plan = row.plan
        if plan is not None and plan.paused_left_us is None:
            heapq.heappush(self._dues, (plan.due_us, row.id))

    def names_changed(self) -> None:
        """Names are not news."""

    def timelines_changed_for(self, incident_ids: frozenset[str]) -> None:
        """Escalation entries are watched by :class:`~console.domain.alerts.EscalationWatch`."""
