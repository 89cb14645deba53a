"""The triage rules a dispatcher runs during a call, as ITIL-NOTES.md describes them.

The wizard asks plain questions; this module turns the answers into an impact
and an urgency level (each with the sentences that explain it), says whether
the incident is a major one, finds open incidents it may duplicate and known
errors that may already have a workaround; the classification taxonomy is read
by :mod:`console.domain.taxonomy` (``Category`` and ``taxonomy`` are re-exported
here). Severity itself comes from the configurable
``PriorityMatrix`` in :mod:`console.domain.severity`.

Everything here is a pure function of its arguments: no clock, no I/O.
"""

from __future__ import annotations

import enum
import functools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from console.domain.errors import InvalidValue
from console.domain.incident import Incident, require_aware
from console.domain.severity import Impact, Severity, Urgency
from console.domain.taxonomy import Category as Category
from console.domain.taxonomy import taxonomy as taxonomy

# ---------------------------------------------------------------- the answers


class UsersAffected(enum.Enum):
    """How many people can't work?"""

    ONE = "one"  # one person
    TEAM = "team"  # a team or department
    SITE = "site"  # a site, a business function, many teams
    EVERYONE = "everyone"  # most or all users / customers

    @property
    def label(self) -> str:
        """The answer as the wizard offers it."""
        return _USERS_LABELS[self]


_USERS_LABELS = {
    UsersAffected.ONE: "One person",
    UsersAffected.TEAM: "A team or department",
    UsersAffected.SITE: "A site, a business function or several teams",
    UsersAffected.EVERYONE: "Most or all users or customers",
}


class Workaround(enum.Enum):
    """Can the affected people keep working some other way?"""

    YES = "yes"
    PARTIAL = "partial"
    NO = "no"


@dataclass(frozen=True, slots=True)
class ImpactAnswers:
    """The impact questions of the wizard, answered."""

    users: UsersAffected
    critical_down: bool  # a revenue- or safety-critical system is down
    workaround: Workaround
    share_percent: int | None = None  # optional estimate of the share of users affected (0-100)
    functions: str = ""  # which business functions (free text, shown in the reasons)

    def __post_init__(self) -> None:
        if self.share_percent is not None:
            _check_percent("share of users affected", self.share_percent)


@dataclass(frozen=True, slots=True)
class UrgencyAnswers:
    """The urgency questions of the wizard, answered."""

    regulatory_deadline: bool  # a regulatory or legal deadline / notification is at stake
    customer_sla: bool  # a customer SLA is at stake
    time_window: bool  # money is being lost or a time-critical window closes soon
    spreading: bool  # it is getting worse / spreading


def _check_percent(field: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        raise InvalidValue(field, value, "a whole number of percent from 0 to 100")
    return value


# ----------------------------------------------------------- impact, urgency

T = TypeVar("T", Impact, Urgency)


@dataclass(frozen=True, slots=True)
class Assessment(Generic[T]):
    """A level and the plain sentences that explain how the answers led to it."""

    level: T
    reasons: tuple[str, ...]


_LEVEL_ORDER = {"low": 0, "medium": 1, "high": 2}


def _higher(a: T, b: T) -> T:
    """The more severe of two levels (both Impact or both Urgency)."""
    return a if _LEVEL_ORDER[a.value] >= _LEVEL_ORDER[b.value] else b


def _is_higher(a: T, b: T) -> bool:
    return _LEVEL_ORDER[a.value] > _LEVEL_ORDER[b.value]


_USERS_IMPACT = {
    UsersAffected.ONE: Impact.LOW,
    UsersAffected.TEAM: Impact.MEDIUM,
    UsersAffected.SITE: Impact.HIGH,
    UsersAffected.EVERYONE: Impact.HIGH,
}
_USERS_REASON = {
    UsersAffected.ONE: "One person can't work",
    UsersAffected.TEAM: "A team or department can't work",
    UsersAffected.SITE: "A site, a business function or several teams can't work",
    UsersAffected.EVERYONE: "Most or all users or customers can't work",
}
_ONE_LOWER = {Impact.HIGH: Impact.MEDIUM, Impact.MEDIUM: Impact.LOW, Impact.LOW: Impact.LOW}

# A share of users at or above these percentages is at least this impact.
SHARE_HIGH_PERCENT = 25
SHARE_MEDIUM_PERCENT = 5


def assess_impact(answers: ImpactAnswers) -> Assessment[Impact]:
    """The impact level the answers give, with the reasoning.

    How many people can't work sets the start (one person low, a team medium,
    a site or everyone high); an estimated share of users can raise it (from
    5 % medium, from 25 % high). A full workaround lowers it by one level. A
    revenue- or safety-critical system that is down makes it high when there
    is no workaround and at least medium when there is one.
    """
    reasons: list[str] = []
    level = _USERS_IMPACT[answers.users]
    reasons.append(f"{_USERS_REASON[answers.users]} → {level.value}")
    functions = " ".join(answers.functions.split())
    if functions:
        reasons.append(f"Business functions affected: {functions}")
    share = answers.share_percent
    if share is not None:
        share_level = (
            Impact.HIGH
            if share >= SHARE_HIGH_PERCENT
            else Impact.MEDIUM
            if share >= SHARE_MEDIUM_PERCENT
            else Impact.LOW
        )
        if _is_higher(share_level, level):
            level = share_level
            reasons.append(f"About {share} % of users are affected → raised to {level.value}")
        else:
            reasons.append(f"About {share} % of users are affected")
    if answers.workaround is Workaround.YES:
        if level is Impact.LOW:
            reasons.append("A workaround lets people keep working → stays low")
        else:
            level = _ONE_LOWER[level]
            reasons.append(f"A workaround lets people keep working → lowered to {level.value}")
    elif answers.workaround is Workaround.PARTIAL:
        reasons.append(f"There is only a partial workaround → stays {level.value}")
    else:
        reasons.append(f"There is no workaround → stays {level.value}")
    if answers.critical_down:
        if answers.workaround is Workaround.NO:
            floor, what = (
                Impact.HIGH,
                "A revenue- or safety-critical system is down with no workaround",
            )
        else:
            floor, what = (
                Impact.MEDIUM,
                "A revenue- or safety-critical system is down, with a "
                f"{'partial ' if answers.workaround is Workaround.PARTIAL else ''}workaround",
            )
        if _is_higher(floor, level):
            level = floor
            reasons.append(f"{what} → raised to {level.value}")
        else:
            reasons.append(f"{what} → stays {level.value}")
    return Assessment(level, tuple(reasons))


def assess_urgency(answers: UrgencyAnswers) -> Assessment[Urgency]:
    """The urgency level the answers give, with the reasoning.

    A regulatory deadline or a closing financial or time window makes it high;
    a customer SLA at stake or a spreading problem makes it medium, and both
    together high. None of them: low.
    """
    reasons: list[str] = []
    level = Urgency.LOW
    if answers.regulatory_deadline:
        level = Urgency.HIGH
        reasons.append("A regulatory or legal deadline is at stake → high")
    if answers.time_window:
        level = Urgency.HIGH
        reasons.append("Money is being lost or a time-critical window closes soon → high")
    if answers.customer_sla:
        level = _higher(level, Urgency.MEDIUM)
        reasons.append("A customer SLA is at stake → medium")
    if answers.spreading:
        level = _higher(level, Urgency.MEDIUM)
        reasons.append("It is getting worse or spreading → medium")
    if answers.customer_sla and answers.spreading and level is not Urgency.HIGH:
        level = Urgency.HIGH
        reasons.append("A customer SLA is at stake and the problem is spreading → high")
    if not reasons:
        reasons.append(
            "No deadline, customer SLA or time window is at stake and it is not spreading → low"
        )
    return Assessment(level, tuple(reasons))


# ------------------------------------------------------------ major incident

MAJOR_SHARE_PERCENT = 25
SECURITY_CATEGORY = "security"


@dataclass(frozen=True, slots=True)
class MajorTrigger:
    """Why the incident is a major one; no reasons means it is not."""

    reasons: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.reasons)


def major_incident_trigger(
    *,
    severity: Severity,
    category: str | None,
    impact: ImpactAnswers | None,
    urgency: UrgencyAnswers | None,
    share_threshold: int = MAJOR_SHARE_PERCENT,
) -> MajorTrigger:
    """Whether the triage says "declare a major incident", and why.

    Triggers: any SEV-1; a security incident (category ``security``, a
    possible breach); more than ``share_threshold`` percent of users, or most
    or all users; anything that may need a regulatory notification.
    """
    _check_percent("major-incident share threshold", share_threshold)
    reasons: list[str] = []
    if Severity.of(severity) is Severity.SEV1:
        reasons.append("SEV-1: every critical incident is run as a major incident")
    if category is not None and category.strip().lower() == SECURITY_CATEGORY:
        reasons.append("A security incident: treat it as a possible breach")
    if impact is not None:
        share = impact.share_percent
        if share is not None and share > share_threshold:
            reasons.append(f"About {share} % of users are affected (more than {share_threshold} %)")
        elif impact.users is UsersAffected.EVERYONE:
            reasons.append("Most or all users or customers are affected")
    if urgency is not None and urgency.regulatory_deadline:
        reasons.append("A regulatory or legal notification may be required")
    return MajorTrigger(tuple(reasons))


# ------------------------------------------------------------ text matching

# Words every report has; they would make any two reports look alike.
_STOP_TEXT = """
    a about after again all also am an and any are as at be been before being
    but by can cannot could did do does doing down for from get gets getting got
    had has have having he her here him his how i if in into is it its just me
    my no not now of off on once only or our out over same she so some still
    than that the their them then there these they this those to too up very
    was we were what when where which while who why will with without would you
    your cant doesnt dont isnt wont issue issues problem problems error errors
    please user users
"""
_STOP_WORDS = frozenset(_STOP_TEXT.split())
_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)


def _stem(word: str) -> str:
    # Light stemming, enough that "timeouts" and "timeout" or
    # "failing" and "fails" meet; it is not a linguistic stemmer.
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


# Titles are searched again on every keystroke of the dispatcher's description:
# remember their keywords (a few hundred bytes each) rather than re-split them.
@functools.lru_cache(maxsize=65_536)
def keywords(text: str) -> frozenset[str]:
    """The words of ``text`` that carry meaning: case, punctuation and stop words ignored."""
    words = _WORD_RE.findall(text.lower().replace("'", "").replace("\u2019", ""))
    return frozenset(_stem(w) for w in words if len(w) > 1 and w not in _STOP_WORDS)


# ------------------------------------------------------------ text similarity

FUZZY_WORD = 85
"""Two words this alike (rapidfuzz ratio, 0..100) count as the same: typos, "paymnt"."""
FUZZY_CREDIT = 0.8
"""A typo-close word counts for this share of an exact one."""


class _Corpus:
    """How rare each keyword is among the documents searched (inverse document frequency).

    A word most incidents (or known errors) share — "customer", "500",
    "service" — says little about which one a report repeats; a rare one
    ("apac", "psp", "bgp") says a lot. Weights are ``log(1 + N / (1 + df))``.
    """

    def __init__(self, documents: Iterable[frozenset[str]]) -> None:
        counts: dict[str, int] = {}
        total = 0
        for words in documents:
            total += 1
            for word in words:
                counts[word] = counts.get(word, 0) + 1
        self._counts = counts
        self._total = total

    def weight(self, word: str) -> float:
        return math.log(1 + (self._total + 1) / (1 + self._counts.get(word, 0)))


@dataclass(frozen=True, slots=True)
class _TextMatch:
    """How much of the query a document covers (0..1, by word weight), and with which words."""

    similarity: float
    exact: tuple[str, ...]
    fuzzy: tuple[tuple[str, str], ...]  # (query word, document word)
    where: str  # the field most of it came from ("title", "description", "symptoms")

    def explain(self) -> str:
        words = [repr(w) for w in self.exact]
        words += [f"{q!r}≈{d!r}" for q, d in self.fuzzy]
        return f"{self.where} shares {', '.join(words)}" if words else ""


def _text_match(
    query: frozenset[str],
    fields: Iterable[tuple[str, frozenset[str], float]],
    corpus: _Corpus,
) -> _TextMatch:
    """Weighted coverage of ``query`` by the fields (name, keywords, how much a match there counts).

    Each query word counts once, where it is worth most; a word missing
    everywhere may still match a typo-close word (rapidfuzz) for less.
    """
    from rapidfuzz import fuzz, process

    if not query:
        return _TextMatch(0.0, (), (), "")
    fields = list(fields)
    total = sum(corpus.weight(w) for w in query)
    got = 0.0
    exact: list[str] = []
    fuzzy: list[tuple[str, str]] = []
    by_field: dict[str, float] = {}
    for word in sorted(query):
        weight = corpus.weight(word)
        best, best_field, best_pair = 0.0, "", None
        for name, words, factor in fields:
            if word in words:
                value = weight * factor
                if value > best:
                    best, best_field, best_pair = value, name, None
            elif len(word) >= 4 and words:
                hit = process.extractOne(word, words, scorer=fuzz.ratio, score_cutoff=FUZZY_WORD)
                if hit is not None:
                    value = weight * factor * FUZZY_CREDIT
                    if value > best:
                        best, best_field, best_pair = value, name, (word, str(hit[0]))
        if best:
            got += best
            by_field[best_field] = by_field.get(best_field, 0.0) + best
            if best_pair is None:
                exact.append(word)
            else:
                fuzzy.append(best_pair)
    where = max(by_field, key=lambda name: by_field[name]) if by_field else ""
    return _TextMatch(min(1.0, got / total), tuple(exact), tuple(fuzzy), where)


# ---------------------------------------------------------------- duplicates

# Text at least this similar to an open incident's makes it a candidate.
SIMILAR_TEXT = 0.3
TEXT_SHARE = 0.65
"""Of a duplicate's score, the share the text decides (the same service gives the rest)."""
PRESELECT_SCORE = 0.45
"""Only a candidate scoring this much is pre-selected: the same service alone never is…"""
PRESELECT_TEXT = 0.5
"""…and only when at least this share of the report's words (by weight) matched."""


@dataclass(frozen=True, slots=True)
class DuplicateCandidate:
    """An open incident the new report may belong to, and why it looks like one."""

    incident: Incident
    score: float  # 0..1, higher first
    reasons: tuple[str, ...]
    text_similarity: float = 0.0  # the share of the report's words (by weight) it matched

    @property
    def confident(self) -> bool:
        """Strong enough to pre-select (the dispatcher may still pick any)."""
        return self.score >= PRESELECT_SCORE and self.text_similarity >= PRESELECT_TEXT


def _age(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {rest} min ago" if rest else f"{hours} h ago"
    days = hours // 24
    return f"{days} day ago" if days == 1 else f"{days} days ago"


def find_duplicates(
    incidents: Iterable[Incident],
    *,
    service: str,
    text: str,
    now: datetime,
    window: timedelta = timedelta(hours=4),
    limit: int = 5,
) -> list[DuplicateCandidate]:
    """Open incidents opened within ``window`` before ``now`` that the new report may repeat.

    Ranked by text similarity over title and description: the share of the
    report's keywords (case, punctuation and stop words ignored, rare words
    weighing more than common ones, typos forgiven) found in the incident's
    title, or — for less — its description. The same service adds to the
    score but never outweighs the text: a candidate on the same service with
    unrelated text is listed below a strong text match on another service,
    and is never :attr:`~DuplicateCandidate.confident`. Closed, resolved and
    cancelled incidents and those opened before the window are left out;
    ties go to the newest. Each candidate's reasons say why it matched.
    """
    require_aware("now", now)
    if window <= timedelta(0):
        raise InvalidValue("duplicate window", window, "a positive length of time")
    if limit < 1:
        return []
    since = now - window
    wanted_service = service.strip().casefold()
    query = keywords(text)
    recent = [i for i in incidents if i.is_open and i.opened_at >= since]
    corpus = _Corpus(keywords(i.title) | keywords(i.description) for i in recent)
    found: list[DuplicateCandidate] = []
    for incident in recent:
        same_service = bool(wanted_service) and incident.service.strip().casefold() == (
            wanted_service
        )
        match = _text_match(
            query,
            (
                ("title", keywords(incident.title), 1.0),
                ("description", keywords(incident.description), 0.8),
            ),
            corpus,
        )
        similar = match.similarity >= SIMILAR_TEXT
        if not (same_service or similar):
            continue
        age = _age(now - incident.opened_at)
        reasons: list[str] = []
        if same_service:
            reasons.append(f"same service, opened {age}")
        if similar:
            reasons.append(f"{match.explain()} ({round(match.similarity * 100)} % of the words)")
            if not same_service:
                reasons.append(f"on {incident.service}, opened {age}")
        text_part = match.similarity if similar else 0.0
        score = TEXT_SHARE * text_part + (1 - TEXT_SHARE) * same_service
        found.append(
            DuplicateCandidate(
                incident, round(min(score, 1.0), 3), tuple(reasons), round(text_part, 3)
            )
        )
    found.sort(key=lambda c: (-c.score, -c.incident.opened_at.timestamp(), c.incident.number))
    return found[:limit]


# -------------------------------------------------------------- known errors


@dataclass(frozen=True, slots=True)
class KnownError:
    """A known error: a problem already understood, with the workaround to give the caller."""

    id: str
    title: str
    symptoms: str
    workaround: str
    services: tuple[str, ...] = ()  # service ids it applies to (empty: any)
    category: str | None = None
    article: str | None = None  # a knowledge-article link or reference

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object]) -> KnownError:
        """Read one ``known_errors`` reference row; the error names the row and the field."""
        if not isinstance(raw, Mapping):
            raise InvalidValue("known error", raw, "a record with id, title, symptoms, workaround")
        ident = raw.get("id")
        if not isinstance(ident, str) or not ident.strip():
            raise InvalidValue("known error id", ident, "a non-empty id such as KE-0001")
        where = f"known error {ident!r}"

        def required(name: str) -> str:
            value = raw.get(name)
            if not isinstance(value, str) or not value.strip():
                raise InvalidValue(f"{where} {name}", value, "some text")
            return value.strip()

        def optional(name: str) -> str | None:
            value = raw.get(name)
            if value is None:
                return None
            if not isinstance(value, str):
                raise InvalidValue(f"{where} {name}", value, "some text or nothing")
            return value.strip() or None

        services_raw = raw.get("services") or ()
        if isinstance(services_raw, str) or not isinstance(services_raw, (list, tuple)):
            raise InvalidValue(f"{where} services", services_raw, "a list of service ids")
        services: list[str] = []
        for item in services_raw:
            if not isinstance(item, str) or not item.strip():
                raise InvalidValue(f"{where} services", item, "a list of service ids")
            services.append(item.strip())
        return cls(
            id=ident.strip(),
            title=required("title"),
            symptoms=required("symptoms"),
            workaround=required("workaround"),
            services=tuple(services),
            category=optional("category"),
            article=optional("article"),
        )


@dataclass(frozen=True, slots=True)
class KnownErrorMatch:
    """A known error that may fit the report, with its score (0..1) and why."""

    known_error: KnownError
    score: float
    reasons: tuple[str, ...]

    @property
    def confident(self) -> bool:
        """Strong enough to pre-select its workaround (the dispatcher may still pick any)."""
        return self.score >= KNOWN_PRESELECT_SCORE


KNOWN_PRESELECT_SCORE = 0.45
"""Only a known error scoring this much is pre-selected."""
KNOWN_SIMILAR_TEXT = 0.2
"""Below this share of the report's words (by weight) a known error is not listed."""


def search_known_errors(
    known: Iterable[KnownError],
    *,
    text: str,
    service: str | None = None,
    category: str | None = None,
    limit: int = 5,
) -> list[KnownErrorMatch]:
    """Known errors that match ``text`` (title and symptoms), best first.

    The text decides most of the score: the share of the report's keywords
    found in the known error's title or (for less) its symptoms, rare words
    weighing more than the common ones every known error has ("customer",
    "500"), typos forgiven. A known error listed for ``service`` scores higher
    and one listed only for other services lower; the same goes for
    ``category``. Typing a known error's id finds it at once. With no text,
    the known errors listed for the service are offered. Each match's
    reasons say which words matched where.
    """
    if limit < 1:
        return []
    query = keywords(text)
    wanted_id = text.strip().casefold()
    wanted_service = (service or "").strip().casefold()
    wanted_category = (category or "").strip().casefold()
    known = list(known)
    corpus = _Corpus(keywords(ke.title) | keywords(ke.symptoms) for ke in known)
    found: list[KnownErrorMatch] = []
    for ke in known:
        reasons: list[str] = []
        if wanted_id and ke.id.casefold() == wanted_id:
            found.append(KnownErrorMatch(ke, 1.0, (f"id {ke.id}",)))
            continue
        match = _text_match(
            query,
            (("title", keywords(ke.title), 1.0), ("symptoms", keywords(ke.symptoms), 0.8)),
            corpus,
        )
        similar = match.similarity >= KNOWN_SIMILAR_TEXT
        if similar:
            reasons.append(f"{match.explain()} ({round(match.similarity * 100)} % of the words)")
        listed = {s.casefold() for s in ke.services}
        for_service = bool(wanted_service) and wanted_service in listed
        if not similar and not (for_service and not query):
            continue
        score = 0.7 * (match.similarity if similar else 0.0)
        if for_service:
            score += 0.2
            reasons.append(f"listed for {service}")
        elif wanted_service and listed:
            score *= 0.5
            reasons.append("listed for other services: " + ", ".join(ke.services))
        if wanted_category and ke.category:
            if ke.category.casefold() == wanted_category:
                score += 0.1
                reasons.append(f"category {ke.category}")
            else:
                score *= 0.6
        found.append(KnownErrorMatch(ke, round(min(score, 1.0), 3), tuple(reasons)))
    found.sort(key=lambda m: (-m.score, m.known_error.id))
    return found[:limit]
