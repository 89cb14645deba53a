"""Who to call: the escalation matrix, assembled from the cache's reference data.

The cache keeps services, teams, contacts, escalation policies and on-call
rotations as the wire's JSON documents (kinds ``services``, ``teams``,
``contacts``, ``policies``, ``shifts``). :class:`Directory` reads them once into
domain records (through the wire's own converters, so the rules are the
server's) and answers the dispatcher's questions for any instant:

* for a service and tier, who is on call now, their numbers, whether a cover
  or a swap put them there, until when, and who takes over next
  (:meth:`Directory.chain`);
* the whole chain of a service: functional tiers, managers told by severity,
  and the stakeholder groups with their update cadence;
* which services and people match what the dispatcher typed (:meth:`Directory.matches`).

A damaged document never hides the rest: it is left out and described in
:attr:`Directory.problems`, so the matrix still shows every chain it can.

No Qt here; the matrix model and view, the CSV import and export and any
headless tool share this one reading of the data.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ValidationError

from console.domain.errors import DomainError
from console.domain.escalation import EscalationPolicy, EscalationTier, ManagementRule
from console.domain.oncall import (
    NotScheduledError,
    OnCallShift,
    Override,
    OverrideKind,
    Rotation,
    next_on_call,
    on_call_at,
)
from console.domain.phones import format_phone
from console.domain.severity import Severity
from console.wire import EscalationPolicyIn, OnCallRotationIn, policy_to_domain, rotation_to_domain
from console.wire.errors import first_problem

CRITICALITY_ORDER = ("critical", "high", "medium", "low")
"""Services are listed most critical first: the ones a 2 a.m. call is most likely about."""

DEFAULT_LEVELS = 3
"""Tiers the matrix always shows (L1 service desk, L2 specialist, L3 engineering/vendor)."""


class ReferenceSource(Protocol):
    """Where reference documents come from (:class:`console.store.Cache` is one)."""

    def reference(self, kind: str) -> list[dict[str, object]]: ...


@dataclass(frozen=True)
class Team:
    """A resolver group."""

    id: str
    name: str
    tier: str = ""
    email: str | None = None
    chat_channel: str | None = None


@dataclass(frozen=True)
class Service:
    """A service incidents are raised against, and the team that owns it."""

    id: str
    name: str
    owner_team: str | None = None
    criticality: str = "medium"
    description: str = ""


@dataclass(frozen=True)
class Contact:
    """A person to call. Phones are E.164 (``+34912345678``); format them to show them."""

    id: str
    name: str
    role: str = ""
    team: str | None = None
    primary_phone: str | None = None
    alternate_phone: str | None = None
    email: str | None = None
    time_zone: str | None = None


@dataclass(frozen=True)
class Schedule:
    """One on-call rotation and its overrides, checked by the domain."""

    id: str
    name: str
    rotation: Rotation
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class StakeholderUpdate:
    """One communication rule: a group kept informed at a severity, how and how often.

    ``every`` None means once, at resolution.
    """

    group: str
    severity: Severity
    every: timedelta | None
    channel: str = "email"
    target: str | None = None


@dataclass(frozen=True)
class ServicePolicy:
    """A service's escalation policy with what the domain record leaves out (channels)."""

    policy: EscalationPolicy
    updates: tuple[StakeholderUpdate, ...] = ()
    auto_escalate: bool = True


class Source:
    """Where a step's person comes from (plain strings: they are shown and exported)."""

    ROTATION = "rotation"
    CONTACT = "contact"  # a fixed contact: a vendor hotline, a named manager
    ROLE = "role"  # a role with nobody on file ("Head of IT operations")
    NONE = "none"  # the step names nobody


@dataclass(frozen=True)
class OnCall:
    """Who answers one step of a chain at an instant, and who takes over next.

    For a rotation, ``shift`` is the stretch the person holds the pager and
    ``next_shift`` the next stretch held by somebody else. ``problem`` says in
    words why nobody is shown (rotation missing, not started yet …).
    """

    source: str
    contact_id: str | None = None
    contact: Contact | None = None
    schedule: Schedule | None = None
    shift: OnCallShift | None = None
    next_contact_id: str | None = None
    next_contact: Contact | None = None
    next_shift: OnCallShift | None = None
    problem: str = ""

    @property
    def via(self) -> OverrideKind | None:
        """Cover or swap when an override, not the plain rota, put this person on call."""
        return self.shift.override_kind if self.shift is not None else None

    @property
    def until(self) -> datetime | None:
        """When this person hands over (UTC); None for a fixed contact."""
        return self.shift.end if self.shift is not None else None

    @property
    def note(self) -> str:
        """The note of the cover or swap that put this person on call ("" for the plain rota)."""
        if self.shift is None or self.schedule is None or not self.shift.via_override:
            return ""
        for override in self.schedule.overrides:
            if override.start <= self.shift.start < override.end:
                return override.note
        return ""

    @property
    def name(self) -> str | None:
        """The person's name, or their id when the contact is not in the directory."""
        if self.contact is not None:
            return self.contact.name
        return self.contact_id


@dataclass(frozen=True)
class TierLine:
    """One functional tier of a service's chain, resolved at an instant."""

    tier: EscalationTier
    team: Team | None
    on_call: OnCall


@dataclass(frozen=True)
class ManagerLine:
    """One hierarchical rule of a service's chain, resolved at an instant."""

    rule: ManagementRule
    on_call: OnCall


@dataclass(frozen=True)
class ServiceChain:
    """Everything a dispatcher needs about one service at one instant."""

    service: Service
    owner: Team | None
    at: datetime
    policy: ServicePolicy | None = None
    tiers: tuple[TierLine, ...] = ()
    managers: tuple[ManagerLine, ...] = ()
    problem: str = ""

    def tier(self, level: int) -> TierLine | None:
        """The tier at ``level`` (1 = L1), or None when the policy has none."""
        for line in self.tiers:
            if line.tier.level == level:
                return line
        return None

    @property
    def updates(self) -> tuple[StakeholderUpdate, ...]:
        """The communication rules, most severe first, then by group."""
        if self.policy is None:
            return ()
        return tuple(sorted(self.policy.updates, key=lambda u: (u.severity.value, u.group)))


def fold(text: str) -> str:
    """``"Lucía Krüger"`` → ``"lucia kruger"``: search ignores case and accents.

    At 2 a.m. on a foreign keyboard nobody types the accent.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _text(doc: Mapping[str, object], key: str) -> str | None:
    value = doc.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _wire_body(model: type[BaseModel], doc: Mapping[str, object]) -> dict[str, object]:
    # Stored documents carry id/version/updated_at and, from a newer server,
    # perhaps fields this client does not know; the ...In models forbid
    # unknown fields, so hand them only their own.
    return {key: value for key, value in doc.items() if key in model.model_fields}


class Directory:
    """Services, teams, contacts, policies and rotations, ready to answer "who do I call?".

    Immutable once built; build a new one when the reference data changes
    (:meth:`from_store`) and hand it to the matrix model's ``refresh``.
    """

    def __init__(
        self,
        *,
        services: Iterable[Service] = (),
        teams: Iterable[Team] = (),
        contacts: Iterable[Contact] = (),
        policies: Iterable[ServicePolicy] = (),
        schedules: Iterable[Schedule] = (),
        contact_documents: Mapping[str, Mapping[str, object]] | None = None,
        problems: Iterable[str] = (),
    ) -> None:
        rank = {name: i for i, name in enumerate(CRITICALITY_ORDER)}
        self.services: tuple[Service, ...] = tuple(
            sorted(
                services,
                key=lambda s: (rank.get(s.criticality, len(rank)), fold(s.name), s.id),
            )
        )
        self.teams: dict[str, Team] = {t.id: t for t in teams}
        self.contacts: dict[str, Contact] = {c.id: c for c in contacts}
        self.policies: dict[str, ServicePolicy] = {p.policy.service: p for p in policies}
        self.schedules: dict[str, Schedule] = {s.id: s for s in schedules}
        self.contact_documents: dict[str, dict[str, object]] = {
            key: dict(doc) for key, doc in (contact_documents or {}).items()
        }
        self.problems: tuple[str, ...] = tuple(problems)
        self._service_keys = {s.id: self._service_key(s) for s in self.services}
        self._contact_keys = {c.id: self._contact_key(c) for c in self.contacts.values()}

    # ----------------------------------------------------------- building

    @classmethod
    def from_store(cls, store: ReferenceSource) -> Directory:
        """Read every reference kind the matrix needs from ``store`` (the cache)."""
        return cls.from_reference(
            services=store.reference("services"),
            teams=store.reference("teams"),
            contacts=store.reference("contacts"),
            policies=store.reference("policies"),
            shifts=store.reference("shifts"),
        )

    @classmethod
    def from_reference(
        cls,
        *,
        services: Iterable[Mapping[str, object]] = (),
        teams: Iterable[Mapping[str, object]] = (),
        contacts: Iterable[Mapping[str, object]] = (),
        policies: Iterable[Mapping[str, object]] = (),
        shifts: Iterable[Mapping[str, object]] = (),
    ) -> Directory:
        """Build from reference documents (the wire's shapes, as the cache stores them)."""
        problems: list[str] = []
        team_list = [t for t in (_team(doc, problems) for doc in teams) if t is not None]
        service_list = [s for s in (_service(doc, problems) for doc in services) if s is not None]
        contact_docs = {str(doc.get("id")): doc for doc in contacts}
        contact_list = [
            c for c in (_contact(doc, problems) for doc in contact_docs.values()) if c is not None
        ]
        schedule_list = [s for s in (_schedule(doc, problems) for doc in shifts) if s is not None]
        policy_list = [p for p in (_policy(doc, problems) for doc in policies) if p is not None]
        return cls(
            services=service_list,
            teams=team_list,
            contacts=contact_list,
            policies=policy_list,
            schedules=schedule_list,
            contact_documents={c.id: contact_docs[c.id] for c in contact_list},
            problems=problems,
        )

    # ------------------------------------------------------------ queries

    def service(self, service_id: str) -> Service | None:
        """The service with this id, if known."""
        for service in self.services:
            if service.id == service_id:
                return service
        return None

    def contact(self, contact_id: str | None) -> Contact | None:
        """The contact with this id, if known."""
        return None if contact_id is None else self.contacts.get(contact_id)

    def team_name(self, team_id: str | None) -> str:
        """The team's name, or its id when the team is not in the directory."""
        if team_id is None:
            return ""
        team = self.teams.get(team_id)
        return team.name if team is not None else team_id

    @property
    def levels(self) -> int:
        """How many tier columns the matrix needs: at least three, more if a policy has more."""
        deepest = [t.level for p in self.policies.values() for t in p.policy.tiers]
        return max([DEFAULT_LEVELS, *deepest])

    def on_call(self, rotation_id: str, at: datetime) -> OnCall:
        """Who holds rotation ``rotation_id`` at ``at``, and who is next."""
        schedule = self.schedules.get(rotation_id)
        if schedule is None:
            return OnCall(
                Source.ROTATION,
                problem=f"rotation {rotation_id!r} is not in the directory",
            )
        rotation, overrides = schedule.rotation, schedule.overrides
        shift: OnCallShift | None
        problem = ""
        try:
            shift = on_call_at(rotation, overrides, at)
        except NotScheduledError as exc:
            shift, problem = None, str(exc)
        following = next_on_call(rotation, overrides, at)
        return OnCall(
            Source.ROTATION,
            contact_id=shift.contact_id if shift is not None else None,
            contact=self.contact(shift.contact_id) if shift is not None else None,
            schedule=schedule,
            shift=shift,
            next_contact_id=following.contact_id,
            next_contact=self.contact(following.contact_id),
            next_shift=following,
            problem=problem,
        )

    def _fixed(self, contact_id: str) -> OnCall:
        contact = self.contact(contact_id)
        problem = "" if contact is not None else f"contact {contact_id!r} is not in the directory"
        return OnCall(Source.CONTACT, contact_id=contact_id, contact=contact, problem=problem)

    def chain(
        self,
        service_id: str,
        at: datetime,
        memo: dict[str, OnCall] | None = None,
    ) -> ServiceChain:
        """The whole escalation chain of one service as it stands at ``at``.

        ``memo`` (rotation id → :class:`OnCall`) lets several chains at the same
        instant share the work; pass the same dict for one ``at`` only.
        """
        service = self.service(service_id)
        if service is None:
            service = Service(service_id, service_id)
        memo = memo if memo is not None else {}

        def rota(rotation_id: str) -> OnCall:
            # Many services page the same rota; work each one out once per instant.
            if rotation_id not in memo:
                memo[rotation_id] = self.on_call(rotation_id, at)
            return memo[rotation_id]

        owner = self.teams.get(service.owner_team) if service.owner_team else None
        entry = self.policies.get(service.id)
        if entry is None:
            return ServiceChain(service, owner, at, problem="no escalation policy for this service")
        tiers = []
        for tier in entry.policy.tiers:
            if tier.rotation_id is not None:
                who = rota(tier.rotation_id)
            elif tier.contact_id is not None:
                who = self._fixed(tier.contact_id)
            else:
                who = OnCall(Source.NONE, problem="this tier names nobody to call")
            tiers.append(TierLine(tier, self.teams.get(tier.team), who))
        managers = []
        for rule in entry.policy.management:
            if rule.rotation_id is not None:
                who = rota(rule.rotation_id)
            elif rule.who in self.contacts:
                who = self._fixed(rule.who)
            else:
                who = OnCall(Source.ROLE)
            managers.append(ManagerLine(rule, who))
        return ServiceChain(service, owner, at, entry, tuple(tiers), tuple(managers))

    def chains(self, at: datetime) -> list[ServiceChain]:
        """Every service's chain at ``at``, most critical service first."""
        memo: dict[str, OnCall] = {}
        return [self.chain(s.id, at, memo) for s in self.services]

    def describer(self, viewer_region: str | None) -> Callable[[str], str | None]:
        """``contact id → "Name +34 …"`` for :func:`console.domain.escalation.render_path`."""

        def describe(contact_id: str) -> str | None:
            contact = self.contact(contact_id)
            if contact is None:
                return None
            if contact.primary_phone:
                return f"{contact.name} {format_phone(contact.primary_phone, viewer_region)}"
            return contact.name

        return describe

    # ------------------------------------------------------------- search

    def _people_key(self, contact_ids: Iterable[str]) -> list[str]:
        parts = []
        for contact_id in contact_ids:
            parts.append(contact_id)
            contact = self.contacts.get(contact_id)
            if contact is not None:
                parts += [contact.name, contact.primary_phone or "", contact.alternate_phone or ""]
        return parts

    def _service_key(self, service: Service) -> str:
        parts = [service.id, service.name]
        team_ids = {service.owner_team} if service.owner_team else set()
        people: list[str] = []
        entry = self.policies.get(service.id)
        rotations: list[str] = []
        if entry is not None:
            for tier in entry.policy.tiers:
                parts.append(tier.name)
                team_ids.add(tier.team)
                if tier.rotation_id:
                    rotations.append(tier.rotation_id)
                if tier.contact_id:
                    people.append(tier.contact_id)
            for rule in entry.policy.management:
                parts.append(rule.who)
                if rule.rotation_id:
                    rotations.append(rule.rotation_id)
                elif rule.who in self.contacts:
                    people.append(rule.who)
        for rotation_id in rotations:
            schedule = self.schedules.get(rotation_id)
            if schedule is not None:
                parts.append(schedule.name)
                people += schedule.rotation.members
                people += [o.contact_id for o in schedule.overrides]
        for team_id in team_ids:
            parts += [team_id, self.team_name(team_id)]
        parts += self._people_key(dict.fromkeys(people))
        return fold(" ".join(parts))

    def _contact_key(self, contact: Contact) -> str:
        parts = [contact.role, contact.email or "", self.team_name(contact.team)]
        parts += [contact.team or "", *self._people_key([contact.id])]
        return fold(" ".join(parts))

    @staticmethod
    def _words(query: str) -> list[str]:
        words = []
        for word in fold(query).split():
            digits = _digits(word)
            if len(digits) >= max(2, len(word) - 2):
                # "+49 1516", "0151-66": match the digits as phones are stored
                # (E.164), without the 00 or trunk 0 a dialled number starts with.
                word = digits.lstrip("0") or digits
            words.append(word)
        return [w for w in words if w]

    def matches(self, service_id: str, query: str) -> bool:
        """Whether the service, its teams or anyone in its chain match every word of ``query``."""
        words = self._words(query)
        key = self._service_keys.get(service_id, "")
        return all(word in key for word in words)

    def contact_matches(self, contact_id: str, query: str) -> bool:
        """Whether the contact's name, role, team, email or phone match every word of ``query``."""
        words = self._words(query)
        key = self._contact_keys.get(contact_id, "")
        return all(word in key for word in words)

    def contacts_sorted(self) -> list[Contact]:
        """Every contact, by name."""
        return sorted(self.contacts.values(), key=lambda c: (fold(c.name), c.id))


# ------------------------------------------------------------ document readers


def _team(doc: Mapping[str, object], problems: list[str]) -> Team | None:
    team_id, name = _text(doc, "id"), _text(doc, "name")
    if team_id is None or name is None:
        problems.append(f"a team without an id or name was left out ({doc.get('id')!r})")
        return None
    return Team(
        team_id,
        name,
        tier=_text(doc, "tier") or "",
        email=_text(doc, "email"),
        chat_channel=_text(doc, "chat_channel"),
    )


def _service(doc: Mapping[str, object], problems: list[str]) -> Service | None:
    service_id = _text(doc, "id")
    if service_id is None:
        problems.append("a service without an id was left out")
        return None
    return Service(
        service_id,
        _text(doc, "name") or service_id,
        owner_team=_text(doc, "owner_team"),
        criticality=_text(doc, "criticality") or "medium",
        description=_text(doc, "description") or "",
    )


def _contact(doc: Mapping[str, object], problems: list[str]) -> Contact | None:
    contact_id = _text(doc, "id")
    if contact_id is None:
        problems.append("a contact without an id was left out")
        return None
    return Contact(
        contact_id,
        _text(doc, "name") or contact_id,
        role=_text(doc, "role") or "",
        team=_text(doc, "team"),
        primary_phone=_text(doc, "primary_phone"),
        alternate_phone=_text(doc, "alternate_phone"),
        email=_text(doc, "email"),
        time_zone=_text(doc, "time_zone"),
    )


def _schedule(doc: Mapping[str, object], problems: list[str]) -> Schedule | None:
    rotation_id = _text(doc, "id")
    if rotation_id is None:
        problems.append("an on-call rotation without an id was left out")
        return None
    try:
        wire = OnCallRotationIn.model_validate(_wire_body(OnCallRotationIn, doc))
        rotation, overrides = rotation_to_domain(rotation_id, wire)
    except ValidationError as exc:
        problems.append(f"on-call rotation {rotation_id} was left out: {first_problem(exc)}")
        return None
    except DomainError as exc:
        problems.append(f"on-call rotation {rotation_id} was left out: {exc}")
        return None
    return Schedule(rotation_id, wire.name, rotation, overrides)


def _policy(doc: Mapping[str, object], problems: list[str]) -> ServicePolicy | None:
    label = f"escalation policy {doc.get('id', '?')} ({doc.get('service', 'no service')})"
    try:
        wire = EscalationPolicyIn.model_validate(_wire_body(EscalationPolicyIn, doc))
        policy = policy_to_domain(wire)
    except ValidationError as exc:
        problems.append(f"{label} was left out: {first_problem(exc)}")
        return None
    except DomainError as exc:
        problems.append(f"{label} was left out: {exc}")
        return None
    updates = tuple(
        StakeholderUpdate(
            group=rule.stakeholder_group,
            severity=Severity.of(rule.severity),
            every=None if rule.every_minutes is None else timedelta(minutes=rule.every_minutes),
            channel=rule.channel,
            target=rule.target,
        )
        for rule in wire.communication
    )
    return ServicePolicy(policy, updates, wire.auto_escalate)


def empty_directory() -> Directory:
    """A directory with nothing in it (before the first sync)."""
    return Directory()
