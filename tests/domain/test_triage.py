"""The triage rules: impact and urgency from plain answers, the major-incident
trigger, duplicate detection and known-error search."""

from __future__ import annotations

from datetime import timedelta

import pytest

from console.domain.errors import InvalidValue
from console.domain.lifecycle import State
from console.domain.severity import DEFAULT_MATRIX, Impact, Severity, Urgency
from console.domain.triage import (
    ImpactAnswers,
    KnownError,
    UrgencyAnswers,
    UsersAffected,
    Workaround,
    assess_impact,
    assess_urgency,
    find_duplicates,
    keywords,
    major_incident_trigger,
    search_known_errors,
)
from tests.helpers.factories import T0, make_incident

H, M, L = Impact.HIGH, Impact.MEDIUM, Impact.LOW
ONE, TEAM, SITE, ALL = (
    UsersAffected.ONE,
    UsersAffected.TEAM,
    UsersAffected.SITE,
    UsersAffected.EVERYONE,
)
YES, PART, NO = Workaround.YES, Workaround.PARTIAL, Workaround.NO

# ------------------------------------------------------------------- impact

# Every combination of the three main impact questions, written out by hand so
# a changed rule fails here: (users, workaround, critical system down) → level.
IMPACT_TABLE = [
    (ONE, YES, False, L),
    (ONE, PART, False, L),
    (ONE, NO, False, L),
    (ONE, YES, True, M),
    (ONE, PART, True, M),
    (ONE, NO, True, H),
    (TEAM, YES, False, L),
    (TEAM, PART, False, M),
    (TEAM, NO, False, M),
    (TEAM, YES, True, M),
    (TEAM, PART, True, M),
    (TEAM, NO, True, H),
    (SITE, YES, False, M),
    (SITE, PART, False, H),
    (SITE, NO, False, H),
    (SITE, YES, True, M),
    (SITE, PART, True, H),
    (SITE, NO, True, H),
    (ALL, YES, False, M),
    (ALL, PART, False, H),
    (ALL, NO, False, H),
    (ALL, YES, True, M),
    (ALL, PART, True, H),
    (ALL, NO, True, H),
]


@pytest.mark.parametrize(("users", "workaround", "critical", "expected"), IMPACT_TABLE)
def test_impact_for_every_answer_combination(
    users: UsersAffected, workaround: Workaround, critical: bool, expected: Impact
) -> None:
    result = assess_impact(ImpactAnswers(users, critical, workaround))
    assert result.level is expected
    # The last reason always says where the level ended up.
    assert result.reasons[-1].endswith(expected.value)


def test_impact_reasons_explain_each_step() -> None:
    result = assess_impact(
        ImpactAnswers(TEAM, critical_down=True, workaround=NO, functions="  card   payments ")
    )
    assert result.level is H
    assert result.reasons == (
        "A team or department can't work → medium",
        "Business functions affected: card payments",
        "There is no workaround → stays medium",
        "A revenue- or safety-critical system is down with no workaround → raised to high",
    )


def test_impact_reasons_for_a_workaround() -> None:
    lowered = assess_impact(ImpactAnswers(SITE, critical_down=False, workaround=YES))
    assert lowered.reasons == (
        "A site, a business function or several teams can't work → high",
        "A workaround lets people keep working → lowered to medium",
    )
    partial = assess_impact(ImpactAnswers(ONE, critical_down=True, workaround=PART))
    assert partial.reasons[-1] == (
        "A revenue- or safety-critical system is down, with a partial workaround → raised to medium"
    )
    already = assess_impact(ImpactAnswers(ALL, critical_down=True, workaround=PART))
    assert already.reasons[-1].endswith("→ stays high")


@pytest.mark.parametrize(
    ("share", "expected", "raised"),
    [(0, L, False), (4, L, False), (5, M, True), (24, M, True), (25, H, True), (100, H, True)],
)
def test_share_of_users_raises_impact(share: int, expected: Impact, raised: bool) -> None:
    result = assess_impact(ImpactAnswers(ONE, False, NO, share_percent=share))
    assert result.level is expected
    assert result.reasons[1].startswith(f"About {share} % of users are affected")
    assert ("raised to" in result.reasons[1]) is raised


def test_share_never_lowers_impact() -> None:
    result = assess_impact(ImpactAnswers(ALL, False, NO, share_percent=2))
    assert result.level is H
    assert "About 2 % of users are affected" in result.reasons


@pytest.mark.parametrize("share", [-1, 101, True, 12.5, "30"])
def test_bad_share_is_refused_with_what_to_do(share: object) -> None:
    with pytest.raises(InvalidValue, match=r"share of users affected.*0 to 100"):
        ImpactAnswers(ONE, False, NO, share_percent=share)  # type: ignore[arg-type]


# ------------------------------------------------------------------ urgency


def _urgency_expected(reg: bool, sla: bool, window: bool, spreading: bool) -> Urgency:
    if reg or window or (sla and spreading):
        return Urgency.HIGH
    if sla or spreading:
        return Urgency.MEDIUM
    return Urgency.LOW


URGENCY_COMBINATIONS = [
    (reg, sla, window, spreading)
    for reg in (False, True)
    for sla in (False, True)
    for window in (False, True)
    for spreading in (False, True)
]


@pytest.mark.parametrize(("reg", "sla", "window", "spreading"), URGENCY_COMBINATIONS)
def test_urgency_for_every_answer_combination(
    reg: bool, sla: bool, window: bool, spreading: bool
) -> None:
    result = assess_urgency(UrgencyAnswers(reg, sla, window, spreading))
    assert result.level is _urgency_expected(reg, sla, window, spreading)
    assert len(result.reasons) >= 1


def test_urgency_table_spot_checks() -> None:
    # The helper above restates the rule; these pin a few cells independently.
    assert assess_urgency(UrgencyAnswers(False, False, False, False)).level is Urgency.LOW
    assert assess_urgency(UrgencyAnswers(False, True, False, False)).level is Urgency.MEDIUM
    assert assess_urgency(UrgencyAnswers(False, False, False, True)).level is Urgency.MEDIUM
    assert assess_urgency(UrgencyAnswers(False, True, False, True)).level is Urgency.HIGH
    assert assess_urgency(UrgencyAnswers(True, False, False, False)).level is Urgency.HIGH
    assert assess_urgency(UrgencyAnswers(False, False, True, False)).level is Urgency.HIGH


def test_urgency_reasons() -> None:
    assert assess_urgency(UrgencyAnswers(False, False, False, False)).reasons == (
        "No deadline, customer SLA or time window is at stake and it is not spreading → low",
    )
    assert assess_urgency(UrgencyAnswers(True, True, False, False)).reasons == (
        "A regulatory or legal deadline is at stake → high",
        "A customer SLA is at stake → medium",
    )
    assert assess_urgency(UrgencyAnswers(False, True, False, True)).reasons == (
        "A customer SLA is at stake → medium",
        "It is getting worse or spreading → medium",
        "A customer SLA is at stake and the problem is spreading → high",
    )
    assert assess_urgency(UrgencyAnswers(False, False, True, False)).reasons == (
        "Money is being lost or a time-critical window closes soon → high",
    )


# One realistic call per severity, through the default matrix (ITIL-NOTES.md's examples).
SEVERITY_CASES = [
    # Payments failing for every customer, no workaround, money lost by the minute.
    (ImpactAnswers(ALL, True, NO), UrgencyAnswers(False, True, True, True), Severity.SEV1),
    # CRM search broken for sales, records reachable by link; a customer SLA at stake.
    (ImpactAnswers(SITE, False, PART), UrgencyAnswers(False, True, False, False), Severity.SEV2),
    # Report generation slow for one team, a workaround exists, nothing pressing.
    (ImpactAnswers(TEAM, False, PART), UrgencyAnswers(False, False, False, True), Severity.SEV3),
    # A formatting error in one person's dashboard widget.
    (ImpactAnswers(ONE, False, YES), UrgencyAnswers(False, False, False, False), Severity.SEV4),
]


@pytest.mark.parametrize(("impact", "urgency", "expected"), SEVERITY_CASES)
def test_one_call_per_severity(
    impact: ImpactAnswers, urgency: UrgencyAnswers, expected: Severity
) -> None:
    level = DEFAULT_MATRIX.severity(assess_impact(impact).level, assess_urgency(urgency).level)
    assert level is expected


# ------------------------------------------------------------ major incident


def _major(**changes: object) -> tuple[str, ...]:
    args: dict[str, object] = {
        "severity": Severity.SEV3,
        "category": "software",
        "impact": ImpactAnswers(TEAM, False, PART),
        "urgency": UrgencyAnswers(False, False, False, False),
    }
    args.update(changes)
    return major_incident_trigger(**args).reasons  # type: ignore[arg-type]


def test_no_trigger_for_an_ordinary_incident() -> None:
    trigger = major_incident_trigger(
        severity=Severity.SEV2, category="network", impact=None, urgency=None
    )
    assert not trigger
    assert trigger.reasons == ()


def test_sev1_triggers_a_major_incident() -> None:
    assert _major(severity=Severity.SEV1) == (
        "SEV-1: every critical incident is run as a major incident",
    )
    assert bool(
        major_incident_trigger(severity=Severity.SEV1, category=None, impact=None, urgency=None)
    )


@pytest.mark.parametrize("category", ["security", "Security", " SECURITY "])
def test_a_security_breach_triggers_a_major_incident(category: str) -> None:
    assert _major(category=category) == ("A security incident: treat it as a possible breach",)


def test_share_above_the_threshold_triggers() -> None:
    assert _major(impact=ImpactAnswers(TEAM, False, NO, share_percent=25)) == ()
    assert _major(impact=ImpactAnswers(TEAM, False, NO, share_percent=26)) == (
        "About 26 % of users are affected (more than 25 %)",
    )
    assert _major(impact=ImpactAnswers(TEAM, False, NO, share_percent=11), share_threshold=10) == (
        "About 11 % of users are affected (more than 10 %)",
    )


def test_everyone_affected_triggers() -> None:
    assert _major(impact=ImpactAnswers(ALL, False, YES)) == (
        "Most or all users or customers are affected",
    )


def test_regulatory_notification_triggers() -> None:
    assert _major(urgency=UrgencyAnswers(True, False, False, False)) == (
        "A regulatory or legal notification may be required",
    )


def test_every_trigger_at_once_lists_every_reason() -> None:
    reasons = _major(
        severity=Severity.SEV1,
        category="security",
        impact=ImpactAnswers(ALL, True, NO, share_percent=80),
        urgency=UrgencyAnswers(True, True, True, True),
    )
    assert len(reasons) == 4


@pytest.mark.parametrize("threshold", [-5, 101])
def test_bad_share_threshold_is_refused(threshold: int) -> None:
    with pytest.raises(InvalidValue, match="threshold"):
        _major(share_threshold=threshold)


# ---------------------------------------------------------------- duplicates

NOW = T0 + timedelta(hours=6)


def _incident(n: int, **changes: object) -> object:
    fields: dict[str, object] = {
        "id": f"id-{n}",
        "number": f"INC-{n:06d}",
        "state": State.IN_PROGRESS,
        "opened_at": NOW - timedelta(minutes=30),
    }
    fields.update(changes)
    return make_incident(**fields)


def test_same_service_is_a_duplicate_with_its_age() -> None:
    same = _incident(
        1, service="payments-api", title="Card refunds slow", opened_at=NOW - timedelta(minutes=12)
    )
    other = _incident(2, service="vpn", title="Tunnel flaps")
    found = find_duplicates([same, other], service="payments-api", text="checkout broken", now=NOW)
    assert [c.incident.number for c in found] == ["INC-000001"]
    assert found[0].reasons == ("same service, opened 12 min ago",)
    assert found[0].score == pytest.approx(0.35)
    assert not found[0].confident  # the same service alone is never pre-selected


def test_similar_text_is_a_duplicate_case_and_punctuation_ignored() -> None:
    similar = _incident(3, service="checkout", title="payment gateway timeout")
    found = find_duplicates(
        [similar], service="payments-api", text="PAYMENT Gateway timeouts!!", now=NOW
    )
    assert len(found) == 1
    assert found[0].reasons == (
        "title shares 'gateway', 'payment', 'timeout' (100 % of the words)",
        "on checkout, opened 30 min ago",
    )
    assert found[0].score == pytest.approx(0.65)
    assert found[0].confident


def test_stop_words_alone_do_not_make_text_similar() -> None:
    unrelated = _incident(4, service="checkout", title="The site is down for all of us")
    found = find_duplicates(
        [unrelated], service="payments-api", text="It is down for all of them", now=NOW
    )
    assert found == []
    assert keywords("It is down for all of them") == frozenset()


def test_same_service_and_similar_text_first_then_similar_text_then_same_service() -> None:
    both = _incident(5, service="payments-api", title="Payment gateway timeout")
    service_old = _incident(
        6, service="payments-api", title="Refund report", opened_at=NOW - timedelta(hours=3)
    )
    service_new = _incident(
        7, service="payments-api", title="Refund export", opened_at=NOW - timedelta(minutes=5)
    )
    text_only = _incident(8, service="checkout", title="payment gateway timeout at checkout")
    found = find_duplicates(
        [service_old, text_only, service_new, both],
        service="payments-api",
        text="Payment gateway timeout",
        now=NOW,
    )
    # Similar text on another service outranks the same service with unrelated text.
    assert [c.incident.number for c in found] == [
        "INC-000005",
        "INC-000008",
        "INC-000007",
        "INC-000006",
    ]
    assert found[0].score == pytest.approx(1.0)
    assert found[0].reasons == (
        "same service, opened 30 min ago",
        "title shares 'gateway', 'payment', 'timeout' (100 % of the words)",
    )
    assert found[1].confident
    assert found[3].reasons == ("same service, opened 3 h ago",)
    assert not found[2].confident
    assert all(0.0 <= c.score <= 1.0 for c in found)


def test_outside_the_window_is_not_a_duplicate() -> None:
    old = _incident(9, service="payments-api", opened_at=NOW - timedelta(hours=4, minutes=1))
    edge = _incident(10, service="payments-api", opened_at=NOW - timedelta(hours=4))
    found = find_duplicates([old, edge], service="payments-api", text="", now=NOW)
    assert [c.incident.number for c in found] == ["INC-000010"]
    assert found[0].reasons == ("same service, opened 4 h ago",)
    wider = find_duplicates(
        [old, edge], service="payments-api", text="", now=NOW, window=timedelta(hours=8)
    )
    assert len(wider) == 2


@pytest.mark.parametrize("state", [State.RESOLVED, State.CLOSED, State.CANCELLED])
def test_closed_incidents_are_not_duplicates(state: State) -> None:
    done = _incident(11, service="payments-api", title="Payment gateway timeout", state=state)
    assert (
        find_duplicates([done], service="payments-api", text="payment gateway timeout", now=NOW)
        == []
    )


@pytest.mark.parametrize("state", [State.NEW, State.TRIAGED, State.ON_HOLD, State.REOPENED])
def test_every_open_state_can_be_a_duplicate(state: State) -> None:
    live = _incident(12, service="payments-api", state=state)
    assert len(find_duplicates([live], service="payments-api", text="", now=NOW)) == 1


def test_service_matching_ignores_case_and_spaces_and_empty_service_matches_none() -> None:
    live = _incident(13, service="payments-api")
    assert len(find_duplicates([live], service=" Payments-API ", text="", now=NOW)) == 1
    assert find_duplicates([live], service="", text="", now=NOW) == []


def test_description_match_counts_for_less() -> None:
    described = _incident(
        14,
        service="checkout",
        title="Basket page errors",
        description="Customers see a payment gateway timeout when paying by card.",
    )
    found = find_duplicates(
        [described], service="payments-api", text="payment gateway timeout", now=NOW
    )
    assert len(found) == 1
    assert found[0].reasons[0] == (
        "description shares 'gateway', 'payment', 'timeout' (80 % of the words)"
    )
    assert found[0].score == pytest.approx(0.65 * 0.8)


def test_limit_keeps_the_best() -> None:
    many = [
        _incident(100 + i, service="payments-api", opened_at=NOW - timedelta(minutes=i + 1))
        for i in range(8)
    ]
    found = find_duplicates(many, service="payments-api", text="", now=NOW, limit=3)
    assert [c.incident.number for c in found] == ["INC-000100", "INC-000101", "INC-000102"]
    assert find_duplicates(many, service="payments-api", text="", now=NOW, limit=0) == []


def test_ages_read_naturally() -> None:
    cases = {
        timedelta(seconds=20): "just now",
        timedelta(minutes=59): "59 min ago",
        timedelta(hours=2): "2 h ago",
        timedelta(hours=2, minutes=5): "2 h 5 min ago",
        timedelta(days=1, hours=1): "1 day ago",
        timedelta(days=3): "3 days ago",
    }
    for age, text in cases.items():
        live = _incident(15, service="payments-api", opened_at=NOW - age)
        found = find_duplicates(
            [live], service="payments-api", text="", now=NOW, window=timedelta(days=5)
        )
        assert found[0].reasons == (f"same service, opened {text}",)


def test_naive_now_and_bad_window_are_refused() -> None:
    with pytest.raises(InvalidValue, match="now"):
        find_duplicates([], service="x", text="", now=NOW.replace(tzinfo=None))
    with pytest.raises(InvalidValue, match="window"):
        find_duplicates([], service="x", text="", now=NOW, window=timedelta(0))


# -------------------------------------------------------------- known errors

KNOWN = [
    KnownError(
        id="KE-0001",
        title="VPN client drops after the 5.2 update",
        symptoms="Tunnel disconnects every few minutes on laptops with client 5.2",
        workaround="Roll back to client 5.1 from the software centre",
        services=("remote-access",),
        category="network",
    ),
    KnownError(
        id="KE-0002",
        title="Payment gateway timeout during PSP failover",
        symptoms="Card payments time out for about two minutes while the PSP fails over",
        workaround="Switch the checkout to the secondary PSP in the payments console",
        services=("payments-api", "checkout"),
        category="software",
        article="KB-1042",
    ),
    KnownError(
        id="KE-0003",
        title="Printer queue stuck",
        symptoms="Jobs wait in the queue; the gateway timeout shows in the spooler log",
        workaround="Restart the print spooler service",
        category="hardware",
    ),
]


def test_known_errors_match_by_text_best_first() -> None:
    found = search_known_errors(KNOWN, text="payment gateway timeout")
    assert [m.known_error.id for m in found] == ["KE-0002", "KE-0003"]
    assert found[0].score > found[1].score
    assert found[0].reasons == (
        "title shares 'gateway', 'payment', 'timeout' (100 % of the words)",
    )
    assert found[0].confident
    assert not found[1].confident


def test_the_strong_duplicate_beats_the_weak_one_from_the_same_service() -> None:
    """The issue's page 6: a report about 502s from the payments API in APAC."""
    weak = _incident(
        20,
        service="payments-api",
        title="Payments sandbox API key found in a public repository",
        opened_at=NOW - timedelta(minutes=5),
    )
    strong = _incident(
        21,
        service="checkout",
        title="Payments API 502s for APAC customers",
        description="Card payments from Singapore and Sydney fail with 502 from the gateway.",
    )
    noise = [
        _incident(30 + i, service="crm", title=f"Customer portal 500 on page {i}") for i in range(4)
    ]
    found = find_duplicates(
        [weak, strong, *noise],
        service="payments-api",
        text="Payment API returning 502 for customers in APAC",
        now=NOW,
    )
    assert found[0].incident.number == "INC-000021"
    assert found[0].confident
    assert "'apac'" in found[0].reasons[0]
    weak_match = next(c for c in found if c.incident.number == "INC-000020")
    assert not weak_match.confident
    # Words every other report has ("customer", "500") do not make a duplicate.
    assert all(not c.incident.title.startswith("Customer portal") for c in found)


def test_a_typo_still_matches_and_says_so() -> None:
    typo = _incident(22, service="vpn", title="Payment gateway timeout")
    [found] = find_duplicates([typo], service="checkout", text="paymnet gatway timeout", now=NOW)
    assert "'gatway'≈'gateway'" in found.reasons[0]
    assert found.confident


def test_common_known_error_words_are_noise_not_a_match() -> None:
    known = [
        *KNOWN,
        *(
            KnownError(
                id=f"KE-01{i:02d}",
                title=f"Customer sees 500 on the {name} page",
                symptoms="The customer gets an HTTP 500 error page",
                workaround="Retry",
            )
            for i, name in enumerate(("login", "basket", "profile", "search"))
        ),
    ]
    found = search_known_errors(known, text="customer gets 500 when paying, gateway timeout")
    assert found[0].known_error.id == "KE-0002"


def test_known_error_for_the_service_ranks_higher_and_others_lower() -> None:
    for_service = search_known_errors(KNOWN, text="tunnel disconnects", service="remote-access")
    other = search_known_errors(KNOWN, text="tunnel disconnects", service="payments-api")
    anywhere = search_known_errors(KNOWN, text="tunnel disconnects")
    assert for_service[0].score > anywhere[0].score > other[0].score
    assert "listed for remote-access" in for_service[0].reasons
    assert "listed for other services: remote-access" in other[0].reasons


def test_known_error_category_adjusts_the_score() -> None:
    same = search_known_errors(KNOWN, text="printer queue", category="hardware")
    other = search_known_errors(KNOWN, text="printer queue", category="network")
    assert same[0].known_error.id == "KE-0003"
    assert same[0].score > other[0].score
    assert "category hardware" in same[0].reasons


def test_known_error_found_by_its_id() -> None:
    found = search_known_errors(KNOWN, text=" ke-0003 ")
    assert [m.known_error.id for m in found] == ["KE-0003"]
    assert found[0].score == 1.0


def test_without_text_the_services_known_errors_are_offered() -> None:
    found = search_known_errors(KNOWN, text="", service="checkout")
    assert [m.known_error.id for m in found] == ["KE-0002"]
    assert search_known_errors(KNOWN, text="") == []
    assert search_known_errors(KNOWN, text="nothing like it") == []
    assert search_known_errors(KNOWN, text="timeout", limit=1)[0].known_error.id == "KE-0002"


def test_known_error_from_a_reference_row() -> None:
    ke = KnownError.from_mapping(
        {
            "id": "KE-0002",
            "title": " Payment gateway timeout ",
            "symptoms": "Card payments time out",
            "workaround": "Switch PSP",
            "services": ["payments-api"],
            "category": "software",
            "article": "",
            "version": 3,
            "updated_at": "2024-06-03T10:00:00Z",
        }
    )
    assert ke == KnownError(
        "KE-0002",
        "Payment gateway timeout",
        "Card payments time out",
        "Switch PSP",
        ("payments-api",),
        "software",
        None,
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"title": "x", "symptoms": "y", "workaround": "z"}, "known error id"),
        ({"id": "KE-9", "symptoms": "y", "workaround": "z"}, "known error 'KE-9' title"),
        ({"id": "KE-9", "title": "x", "symptoms": "y", "workaround": " "}, "'KE-9' workaround"),
        (
            {"id": "KE-9", "title": "x", "symptoms": "y", "workaround": "z", "services": "vpn"},
            "'KE-9' services",
        ),
        (
            {"id": "KE-9", "title": "x", "symptoms": "y", "workaround": "z", "category": 4},
            "'KE-9' category",
        ),
    ],
)
def test_bad_known_error_row_names_the_row(row: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        KnownError.from_mapping(row)
