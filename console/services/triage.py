"""The triage wizard's working out, without a widget: answers in, an incident's fields out.

:class:`TriageSession` holds what the dispatcher has typed and answered
(:class:`TriageAnswers`, plain values) and the reference data read once from
the :class:`TriageContext`. From them it works out the impact and urgency
(the rules of :mod:`console.domain.triage`), the matrix's severity and a
commander's override, the routing (:mod:`console.services.routing`), the
major-incident trigger, the possible duplicates and known errors, and what
the wizard hands back: the create fields (:meth:`TriageSession.fields`) or
the work note that adds the caller to an existing incident
(:meth:`TriageSession.caller_note`). It turns the answers into a draft and
back (:meth:`TriageSession.snapshot`, :meth:`TriageSession.restore`). The
dialog (:mod:`console.views.triage.wizard`) only asks and shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from console.domain.errors import DomainError
from console.domain.incident import Incident, Source
from console.domain.lifecycle import State
from console.domain.limits import NAME_CHARS, NOTE_CHARS, TITLE_CHARS
from console.domain.roles import may_override
from console.domain.severity import Impact, Severity, Urgency
from console.domain.triage import (
    Assessment,
    Category,
    DuplicateCandidate,
    ImpactAnswers,
    KnownError,
    KnownErrorMatch,
    MajorTrigger,
    UrgencyAnswers,
    UsersAffected,
    Workaround,
    assess_impact,
    assess_urgency,
    find_duplicates,
    major_incident_trigger,
    search_known_errors,
    taxonomy,
)
from console.services.directory import Directory
from console.services.routing import Routing, local_time, routing_for, who_can_override
from console.services.triage_context import TriageContext
from console.store import CacheError
from console.store.drafts import FieldValue, TriageDraft

DUPLICATE_WINDOW = timedelta(hours=4)
"""How far back possible duplicates are looked for."""

# How long the wizard lets each text be: the wire's limits (console.domain.limits), so
# the outbox never sends what the backend refuses (the logged incident would vanish).
TITLE_MAX = TITLE_CHARS
"""The title, which is logged as typed (its runs of spaces made one)."""
CONTACT_MAX = 55
"""How to call the caller back: a phone number, or a long email address."""
REPORTER_MAX = NAME_CHARS - CONTACT_MAX - len(" ()")
"""The caller's name: the reporter is logged as "name (contact)", within NAME_CHARS."""
REASONING_ROOM = 2_000
"""What the description keeps free for the triage's reasons ("Triage: impact … (…); …")."""
DETAILS_MAX = NOTE_CHARS - REASONING_ROOM
"""The details, leaving room for the triage's reasons within the wire's NOTE_CHARS."""

URGENCY_QUESTIONS = (
    ("regulatory", "Is a regulatory or legal deadline (or notification) at stake?"),
    ("customer_sla", "Is a customer SLA at stake?"),
    ("time_window", "Is money being lost, or does a time-critical window close soon?"),
    ("spreading", "Is it getting worse or spreading?"),
)
"""The urgency questions, by the key their answer has in :attr:`TriageAnswers.urgency`."""


@dataclass
class TriageAnswers:
    """Everything typed and answered so far, as the wizard's fields hold it.

    A type-ahead field has its text as typed and the id of the entry chosen
    (None: none chosen); a question its answer's value (None: unanswered).
    """

    reporter: str = ""
    contact: str = ""
    service: str = ""
    service_id: str | None = None
    title: str = ""
    details: str = ""
    source: str | None = Source.PHONE.value
    category: str = ""
    category_id: str | None = None
    subcategory: str = ""
    subcategory_id: str | None = None
    users: str | None = None
    critical_down: bool | None = None
    workaround: str | None = None
    functions: str = ""
    share: str = ""
    urgency: dict[str, bool | None] = field(default_factory=dict)
    overriding: bool = False
    override: str | None = None
    override_reason: str = ""
    declare_major: bool | None = None
    commander: str = ""
    commander_name: str = ""
    """The Incident Commander as logged: the chosen contact's name, else the text as typed."""
    workaround_applied: str | None = None


@dataclass
class Computed:
    """What the answers add up to (worked out again when a page is entered)."""

    impact: Assessment[Impact] | None = None
    urgency: Assessment[Urgency] | None = None
    severity: Severity | None = None
    routing: Routing | None = None
    trigger: MajorTrigger = field(default_factory=lambda: MajorTrigger(()))


@dataclass(frozen=True)
class Deadline:
    """One SLA deadline of the new incident: "Respond by 14:30 (30 min, business hours)"."""

    verb: str
    when: str
    target: str
    business: bool


def share_value(text: str) -> int | str | None:
    """The share of users as a whole percent, None when blank, or the problem with ``text``."""
    text = text.strip().rstrip("%").strip()
    if not text:
        return None
    if not text.isdigit() or not 0 <= int(text) <= 100:
        return f"The share of users is a whole number from 0 to 100, not “{text}”."
    return int(text)


def impact_answers(
    users: object, critical_down: object, workaround: object, share: str, functions: str
) -> ImpactAnswers | None:
    """The impact questions' answers (None until the three are answered and the share reads)."""
    percent = share_value(share)
    if users is None or critical_down is None or workaround is None or isinstance(percent, str):
        return None
    return ImpactAnswers(
        users=UsersAffected(users),
        critical_down=bool(critical_down),
        workaround=Workaround(workaround),
        share_percent=percent,
        functions=functions.strip(),
    )


def urgency_answers(answers: Mapping[str, object]) -> UrgencyAnswers | None:
    """The urgency questions' answers by key (None until all four are answered)."""
    values = {key: answers.get(key) for key, _ in URGENCY_QUESTIONS}
    if any(value is None for value in values.values()):
        return None
    return UrgencyAnswers(
        regulatory_deadline=bool(values["regulatory"]),
        customer_sla=bool(values["customer_sla"]),
        time_window=bool(values["time_window"]),
        spreading=bool(values["spreading"]),
    )


def with_workaround(details: str, known: KnownError) -> str:
    """``details`` with the known error's workaround (and its article) as a paragraph after."""
    block = f"Workaround from {known.id} ({known.title}): {known.workaround}"
    if known.article:
        block += f" See {known.article}."
    details = details.rstrip()
    return f"{details}\n\n{block}" if details else block


def _words(text: str) -> str:
    return " ".join(text.split())


def _scalar(value: object) -> FieldValue:
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)


class TriageSession:
    """One triage call's answers and what they add up to (see the module docstring).

    The reference data (directory, taxonomy, known errors) is read from the
    context once, when the session starts; what cannot be read is said in
    :attr:`taxonomy_problem` and :attr:`known_problem`.
    """

    def __init__(self, context: TriageContext) -> None:
        self.context = context
        self.answers = TriageAnswers()
        self.computed = Computed()
        self.directory = self._read_directory()
        self.known_errors, self.known_problem = self._read_known_errors()
        self.categories, self.taxonomy_problem = self._read_taxonomy()

    # ----------------------------------------------------------- reference data

    def _read_directory(self) -> Directory:
        try:
            return Directory.from_store(self.context.reference)
        except (CacheError, ValueError):
            return Directory()

    def _read_known_errors(self) -> tuple[list[KnownError], str]:
        try:
            rows = self.context.reference.reference("known_errors")
        except (CacheError, ValueError):
            return [], "Known errors are not in the local cache yet."
        known: list[KnownError] = []
        bad = 0
        for row in rows:
            try:
                known.append(KnownError.from_mapping(row))
            except DomainError:
                bad += 1
        problem = f"{bad} damaged known-error record(s) were left out." if bad else ""
        return known, problem

    def _read_taxonomy(self) -> tuple[tuple[Category, ...], str]:
        try:
            categories = tuple(taxonomy(self.context.reference.reference("categories")))
        except (CacheError, ValueError) as exc:
            return (), f"The classification taxonomy cannot be used: {exc}"
        if not categories:
            return (), "No classification taxonomy is in the cache yet: type a category."
        return categories, ""

    def service_name(self, service_id: str) -> str:
        """The service's name in the directory, else ``service_id`` as it is."""
        service = self.directory.service(service_id)
        return service.name if service is not None else service_id

    # ----------------------------------------------------------- the answers as logged

    def service_value(self) -> str:
        """The service as it will be logged: the chosen entry's id, else the text as typed."""
        return self.answers.service_id or _words(self.answers.service)

    def reporter_text(self) -> str | None:
        """The reporter as logged: "name (contact)", or whichever of the two was given."""
        name, contact = _words(self.answers.reporter), _words(self.answers.contact)
        if name and contact:
            return f"{name} ({contact})"
        return name or contact or None

    def classification(self) -> tuple[str | None, str | None]:
        """(category id, subcategory id); the typed text when there is no taxonomy."""
        answers = self.answers
        if not self.categories:
            return answers.category.strip() or None, answers.subcategory.strip() or None
        return answers.category_id, answers.subcategory_id

    def override(self) -> tuple[Severity, str] | None:
        """The severity set by hand and its reason (None: the matrix's severity stands)."""
        answers = self.answers
        if not answers.overriding or answers.override is None:
            return None
        return Severity.of(answers.override), answers.override_reason.strip()

    def may_override(self) -> bool:
        """Whether the operator's role may set the severity by hand."""
        caller = self.context.caller()
        return may_override(caller.role if caller is not None else None)

    # ----------------------------------------------------------- the working out

    def compute(self) -> Computed:
        """Work out the assessments, the severity, the routing and the trigger from the answers."""
        a = self.answers
        impact_in = impact_answers(a.users, a.critical_down, a.workaround, a.share, a.functions)
        urgency_in = urgency_answers(a.urgency)
        impact = assess_impact(impact_in) if impact_in else None
        urgency = assess_urgency(urgency_in) if urgency_in else None
        severity = (
            self.context.matrix.severity(impact.level, urgency.level)
            if impact is not None and urgency is not None
            else None
        )
        self.computed = Computed(impact, urgency, severity)
        if severity is None:
            return self.computed
        # The routing, the deadlines and the major-incident rules go by the
        # severity the incident will have: a commander's override counts.
        final = self.final_severity() or severity
        service = self.answers.service_id
        if service is not None:
            try:
                self.computed.routing = routing_for(
                    self.directory,
                    self.draft_incident(service, impact, urgency, final),
                    self.context.clock(),
                    region=self.context.viewer_region,
                    sla=self.context.policy,
                )
            except DomainError as exc:
                self.computed.routing = Routing(None, "", problem=str(exc))
        self.computed.trigger = major_incident_trigger(
            severity=final,
            category=self.classification()[0],
            impact=impact_in,
            urgency=urgency_in,
            share_threshold=self.context.share_threshold,
        )
        return self.computed

    def draft_incident(
        self,
        service: str,
        impact: Assessment[Impact] | None,
        urgency: Assessment[Urgency] | None,
        severity: Severity,
    ) -> Incident:
        """The incident as it would be logged now (for its routing and deadlines)."""
        now = self.context.clock()
        return Incident(
            id="triage",
            number="(new)",
            title=self.answers.title.strip() or "New incident",
            service=service,
            impact=impact.level if impact else Impact.MEDIUM,
            urgency=urgency.level if urgency else Urgency.MEDIUM,
            severity=severity,
            state=State.NEW,
            opened_at=now,
            updated_at=now,
        )

    def final_severity(self) -> Severity | None:
        """The severity the incident will get: the override when one is set, else the matrix's."""
        override = self.override()
        if override is not None:
            return override[0]
        return self.computed.severity

    def deadlines(self, severity: Severity) -> list[Deadline]:
        """When the new incident must be responded to and resolved, as local times."""
        incident = self.draft_incident(self.answers.service_id or "service", None, None, severity)
        now = self.context.clock()
        policy = self.context.policy
        day = policy.calendar.business_day
        found = []
        for verb, due, target in (
            ("Respond by", policy.response_due(incident, now), policy.target(severity, "response")),
            (
                "Resolve by",
                policy.resolution_due(incident, now),
                policy.target(severity, "resolution"),
            ),
        ):
            found.append(
                Deadline(verb, local_time(due, now), target.describe(day), target.business)
            )
        return found

    def override_contacts(self) -> list[str]:
        """Who on call now a dispatcher can ask to override ("Duty manager: Carla Ruiz +34 …")."""
        return who_can_override(
            self.directory,
            self.answers.service_id or "",
            self.context.clock(),
            region=self.context.viewer_region,
        )

    def report_text(self) -> str:
        """The title and the details, as the duplicates and known errors are searched by."""
        return f"{self.answers.title} {self.answers.details}"

    def duplicates(self) -> list[DuplicateCandidate]:
        """Open incidents of the last :data:`DUPLICATE_WINDOW` that may be this call's."""
        try:
            return find_duplicates(
                self.context.incidents(),
                service=self.service_value(),
                text=self.report_text(),
                now=self.context.clock(),
                window=DUPLICATE_WINDOW,
            )
        except DomainError:
            return []

    def known_error_matches(self) -> list[KnownErrorMatch]:
        """Known errors whose symptoms, service or category match this call."""
        return search_known_errors(
            self.known_errors,
            text=self.report_text(),
            service=self.service_value(),
            category=self.classification()[0],
        )

    def declared_major(self) -> bool:
        """Whether the triage meets a major-incident trigger and it is declared one."""
        return bool(self.computed.trigger) and self.answers.declare_major is True

    # ----------------------------------------------------------- what goes back

    def fields(self) -> dict[str, object]:
        """The create fields of the triage as it stands (all pages answered, then computed)."""
        answers, computed = self.answers, self.computed
        assert computed.impact is not None
        assert computed.urgency is not None
        category, subcategory = self.classification()
        description = answers.details.strip()
        reasoning = (
            f"Triage: impact {computed.impact.level.value} ("
            + "; ".join(computed.impact.reasons)
            + f"); urgency {computed.urgency.level.value} ("
            + "; ".join(computed.urgency.reasons)
            + ")."
        )
        description = f"{description}\n\n{reasoning}" if description else reasoning
        fields: dict[str, object] = {
            "title": _words(answers.title),
            "service": self.service_value(),
            "impact": computed.impact.level.value,
            "urgency": computed.urgency.level.value,
            "category": category,
            "subcategory": subcategory,
            "description": description,
            "reporter": self.reporter_text(),
            "source": str(answers.source or Source.PHONE.value),
            "assignment_group": computed.routing.team_id if computed.routing else None,
        }
        override = self.override()
        if override is not None and override[0] is not computed.severity:
            fields["severity"] = override[0].code
            fields["severity_reason"] = override[1]
        if self.declared_major():
            fields["major"] = True
            fields["commander"] = answers.commander_name
            # #19: the criteria the triage found are the why on the declaration entry.
            fields["major_reason"] = "; ".join(computed.trigger.reasons)
        return fields

    def caller_note(self, incident: Incident) -> str:
        """The work note that adds this caller to ``incident``: who, how to reach them, what
        they said, and what their answers give (so a worse picture is not lost)."""
        answers = self.answers
        reporter = self.reporter_text() or "an unnamed caller"
        source = str(answers.source or Source.PHONE.value)
        title = _words(answers.title).rstrip(". ")
        body = f"Another caller for this incident: {reporter}, by {source}. They report: {title}."
        computed = self.compute()
        final = self.final_severity()
        if computed.impact is not None and computed.urgency is not None and final is not None:
            body += (
                f" Their answers: impact {computed.impact.level.value} × urgency "
                f"{computed.urgency.level.value} → {final.code}"
            )
            if final is not computed.severity and computed.severity is not None:
                body += f" (set by hand; {computed.severity.code} by the matrix)"
            if final.value < incident.severity.value:
                body += (
                    f"; {incident.number} is {incident.severity.code}: a commander should "
                    "review its severity"
                )
            body += "."
        if computed.trigger and not incident.major:
            body += " Major-incident criteria met: " + "; ".join(computed.trigger.reasons) + "."
        details = answers.details.strip()
        if details:
            body += f" {details}"
        return body

    # ----------------------------------------------------------- drafts

    def snapshot(self, page: int) -> TriageDraft:
        """Everything typed and answered so far, as a draft kept on ``page``."""
        a = self.answers
        fields: dict[str, FieldValue] = {
            "reporter": a.reporter,
            "contact": a.contact,
            "service": a.service,
            "service_id": a.service_id,
            "title": a.title,
            "details": a.details,
            "source": _scalar(a.source),
            "category": a.category,
            "category_id": a.category_id,
            "subcategory": a.subcategory,
            "subcategory_id": a.subcategory_id,
            "users": _scalar(a.users),
            "critical_down": _scalar(a.critical_down),
            "workaround": _scalar(a.workaround),
            "functions": a.functions,
            "share": a.share,
            **{f"urgency_{key}": _scalar(a.urgency.get(key)) for key, _ in URGENCY_QUESTIONS},
            "override": _scalar(a.override) if a.overriding else None,
            "override_reason": a.override_reason if a.overriding else "",
            "declare_major": _scalar(a.declare_major),
            "commander": a.commander,
            "workaround_applied": a.workaround_applied,
        }
        now = self.context.clock()
        # The default source alone is not worth a draft.
        if fields["source"] == Source.PHONE.value:
            meaningful = {k: v for k, v in fields.items() if k != "source"}
            if not TriageDraft(meaningful).has_content:
                return TriageDraft({}, page=page, saved_at=now)
        return TriageDraft(fields, page=page, saved_at=now)

    def restore(self, draft: TriageDraft) -> TriageAnswers:
        """The answers a draft holds (an override only when the operator may still set one)."""
        f = draft.fields

        def chosen(key: str) -> str | None:
            value = f.get(key)
            return value if isinstance(value, str) else None

        def answer(key: str) -> bool | None:
            value = f.get(key)
            return value if isinstance(value, bool) else None

        override = chosen("override") if self.may_override() else None
        users = f.get("users")
        source = f.get("source")
        return TriageAnswers(
            reporter=draft.text("reporter"),
            contact=draft.text("contact"),
            service=draft.text("service"),
            service_id=chosen("service_id"),
            title=draft.text("title"),
            details=draft.text("details"),
            source=str(source) if source else Source.PHONE.value,
            category=draft.text("category"),
            category_id=chosen("category_id"),
            subcategory=draft.text("subcategory"),
            subcategory_id=chosen("subcategory_id"),
            users=None if users is None else str(users),
            critical_down=answer("critical_down"),
            workaround=chosen("workaround"),
            functions=draft.text("functions"),
            share=draft.text("share"),
            urgency={key: answer(f"urgency_{key}") for key, _ in URGENCY_QUESTIONS},
            overriding=override is not None,
            override=override,
            override_reason=draft.text("override_reason") if override is not None else "",
            declare_major=answer("declare_major"),
            commander=draft.text("commander"),
            workaround_applied=chosen("workaround_applied"),
        )

    def draft_offer(self, draft: TriageDraft) -> str:
        """The question that offers a kept draft back."""
        saved = local_time(draft.saved_at, self.context.clock())
        return f"An unfinished triage from {saved} was kept: {draft.summary()}. Restore it?"
