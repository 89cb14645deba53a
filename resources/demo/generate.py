"""Write ``incidents.json``: about 200 demo incidents, the same every time.

Run from anywhere with ``python resources/demo/generate.py``; it reads the
services, teams, contacts and categories beside it and writes
``incidents.json`` next to them. The random seed is fixed, so the output only
changes when this script or the reference files change (commit both).

Timestamps are minutes *before the moment the demo is loaded*, so whenever an
operator opens the demo there are fresh incidents, some close to their SLA
deadline and some already past it. This script uses only the standard library:
it ships inside the wheel and must not need the console to run.
"""

# ruff: noqa: E501  (the incident templates read best one per line)
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SEED = 20261123
FIRST_NUMBER = 4101

# Approximate default SLA targets in minutes (response, resolution) on a 24×7
# clock. Only used to place open incidents around their due times; the console
# computes the real due times from its SLA policy when the demo is loaded.
TARGETS = {1: (15, 240), 2: (30, 480), 3: (240, 2880), 4: (1440, 7200)}

# Share of each severity. SEV-1 stays well under the 5–10 % that ITIL treats
# as a sign of miscalibrated definitions.
SEVERITY_WEIGHTS = {1: 6, 2: 19, 3: 42, 4: 33}

# How many incidents end up in each state (sums to 200); HISTORY_COUNT more
# closed ones are added before them (below).
STATE_COUNTS = {
    "new": 10,
    "triaged": 12,
    "in_progress": 30,
    "on_hold": 8,
    "reopened": 5,
    "resolved": 35,
    "closed": 85,
    "cancelled": 15,
}
OPEN_STATES = {"new", "triaged", "in_progress", "on_hold", "reopened"}
# A quarter of history for the metrics dashboard: HISTORY_COUNT closed
# incidents opened 21–90 days ago, numbered before the 200 above and drawn
# from their own random streams, so the 200 (which the board, the wall and
# their tests show) stay exactly as they were.
HISTORY_DAYS = 90
HISTORY_COUNT = 300
# Of the finished incidents: how many were reopened once before their final
# resolution, and how many callers gave a CSAT score (weights for 1…5).
REOPEN_SHARE = 0.06
CSAT_SHARE = 0.4
CSAT_WEIGHTS = (5, 7, 13, 33, 42)
CSAT_COMMENTS = {
    1: "Caller: took far too long, nobody called back.",
    2: "Caller: fixed in the end, but had to chase twice.",
    3: "Caller: OK, a bit slow.",
    4: "Caller: quick and clear, thanks.",
    5: "Caller: excellent, fixed while I was still on the phone.",
}

# Impact/urgency pairs that the default matrix maps to each severity.
PAIRS = {
    1: [("high", "high")],
    2: [("high", "medium"), ("medium", "high")],
    3: [("high", "low"), ("medium", "medium"), ("low", "high")],
    4: [("medium", "low"), ("low", "medium"), ("low", "low")],
}

FILLERS: dict[str, list[str]] = {
    "region": ["EU", "UK", "US", "APAC", "LATAM"],
    "dc": ["ams", "fra"],
    "office": ["Madrid", "London", "Berlin", "Bengaluru", "Tokyo"],
    "carrier": ["Cogent", "Lumen", "Telia", "NTT", "GTT"],
    "country": ["Spanish", "German", "Indian", "Japanese", "UK"],
    "ver": ["2026.11.3", "2026.11.4", "5.18.0", "5.18.1", "r4812"],
    "android": ["13", "14", "15"],
    "n": [str(n) for n in range(2, 9)],
    "pct": ["3", "7", "12", "18", "25", "40"],
    "count": ["140", "380", "1,250", "2,900", "6,400"],
    "host": ["lt-4471", "lt-5120", "lt-6038", "lt-7352"],
}


@dataclass(frozen=True)
class Template:
    """One kind of incident: where it happens, how it is classified, how bad it gets."""

    service: str
    category: str
    subcategory: str
    severities: tuple[int, ...]
    title: str
    description: str
    sources: tuple[str, ...] = ("monitoring",)


T = Template
# fmt: off
TEMPLATES: list[Template] = [
    # Payments and checkout: revenue-critical, so the worst incidents live here.
    T("payments-api", "software", "application", (1, 2), "Payments API 502s for {region} customers",
      "Error rate on /v2/payments above 30 % since {ver} rollout; card payments failing for {region} storefront."),
    T("payments-api", "software", "saas", (1, 2), "Card authorisations timing out at primary PSP",
      "PSP gateway psp-gw-0{n} reports upstream timeouts; authorisations fall back to the secondary PSP slowly."),
    T("payments-api", "software", "application", (2, 3), "Visa debit decline rate {pct} % above baseline",
      "Declines with code 05 rising for Visa debit since 06:00 UTC; issuer-side or our 3-D Secure flow."),
    T("payments-api", "software", "middleware", (3, 4), "Refund batch job failed overnight — {count} refunds pending",
      "refunds-batch exited with a deadlock on payouts table; customers not yet affected, SLA to PSP is 48 h.", ("monitoring", "email")),
    T("payments-api", "software", "application", (2, 3), "3-D Secure challenge page slow for {region} shoppers",
      "ACS redirect takes 8–12 s; abandonment on the challenge step doubled."),
    T("payments-api", "access", "certificate", (3,), "TLS certificate for api.pay.example.com expires in 3 days",
      "Auto-renewal failed: DNS-01 challenge rejected. Renew manually or fix the ACME account."),
    T("payments-api", "security", "data-exposure", (2,), "Payments sandbox API key found in a public repository",
      "Secret-scanning alert: sandbox key pk_test_… committed to a public fork. Rotate and check access logs.", ("email",)),
    T("checkout", "software", "application", (1, 2), "Checkout returns 'Something went wrong' on order submit",
      "POST /checkout/submit fails with 500 for about {pct} % of orders; basket is kept, payment not taken.", ("monitoring", "phone")),
    T("checkout", "software", "application", (3,), "Promo codes not applied at checkout for app users",
      "Promotion service returns 404 for codes created after the {ver} release; web checkout unaffected.", ("portal", "chat")),
    T("checkout", "software", "middleware", (3, 4), "Order confirmation emails delayed by ~{n}0 min",
      "notification-worker queue depth {count}; consumers healthy but throttled by the mail relay."),
    T("checkout", "software", "application", (2,), "Basket service pods crash-looping in k8s-{dc}-prod",
      "basket-svc OOMKilled after {ver}; HPA keeps scaling but new pods die within 2 min."),
    # Storefront and customer login.
    T("web-storefront", "network", "load-balancer", (1,), "shop.example.com down — CDN returning 503 in {region}",
      "CDN edge cannot reach origin pool; synthetic checks failing from all {region} locations.", ("monitoring", "phone", "chat")),
    T("web-storefront", "software", "application", (2, 3), "Product images not loading on storefront",
      "Image resizer returns 504 for new SKUs; CDN serves stale images for cached ones."),
    T("web-storefront", "software", "application", (3,), "Search results empty for some category pages",
      "Search index for category 'garden' missing after reindex; other categories fine.", ("portal", "chat")),
    T("web-storefront", "software", "application", (2, 3), "Mobile app login spinner never completes on Android {android}",
      "Crash reports show TLS pinning failure after certificate rotation.", ("portal", "chat")),
    T("web-storefront", "software", "application", (4,), "Typo on the holiday opening-hours banner",
      "Banner says 'Decmber'; marketing asked for a fix before the weekend.", ("email",)),
    T("customer-sso", "access", "sso", (1, 2), "Customer login failing with 'invalid_grant' for ~{pct} % of attempts",
      "IdP token endpoint rejects refresh tokens issued before the key rollover."),
    T("customer-sso", "access", "mfa", (2, 3), "SMS one-time codes delayed for {country} mobile numbers",
      "SMS provider reports carrier congestion; codes arrive after they expire (5 min)."),
    T("customer-sso", "access", "account-lockout", (3,), "Password reset emails not arriving for Outlook.com users",
      "Mail from id.example.com deferred by Outlook.com (421 4.7.650); other providers fine.", ("portal", "email")),
    T("customer-sso", "security", "ddos", (1, 2), "Credential-stuffing attack on customer login ({count} req/s)",
      "Login failures from rotating residential IPs; WAF rate limits engaged, legitimate users see CAPTCHA loops."),
    # Data and platform.
    T("orders-db", "software", "database", (2, 3), "Replication lag on orders-db-{dc}-02 at {n}0 s and rising",
      "WAL replay behind after a long-running analytics query; read replicas serve stale order status."),
    T("orders-db", "software", "database", (1, 2), "orders-db primary failover on orders-db-{dc}-01",
      "Patroni promoted the standby after the primary stopped answering health checks; writes failed for ~2 min."),
    T("orders-db", "hardware", "storage", (3,), "Disk 85 % full on orders-db-{dc}-03 (/var/lib/postgresql)",
      "Growth of 4 %/day since the audit table was added; ~4 days to full."),
    T("orders-db", "software", "database", (3, 4), "Slow queries on invoices table after index rebuild",
      "Planner skips the new index; invoice PDFs take 20 s to render.", ("portal", "email")),
    T("orders-db", "hardware", "storage", (3,), "Storage array san-{dc}-02 degraded — disk 14 failed",
      "RAID group rebuilding onto the hot spare; performance reduced until the rebuild completes."),
    T("k8s-prod", "hardware", "server", (2, 3), "Node pool k8s-{dc}-prod-np{n} NotReady — {n} nodes cordoned",
      "Kubelets lost contact after a kernel update; workloads rescheduled, cluster at 78 % CPU."),
    T("k8s-prod", "network", "load-balancer", (2,), "Ingress controller restarts causing intermittent 504s",
      "ingress-nginx pods restart every ~10 min (liveness probe timeouts) in k8s-{dc}-prod."),
    T("k8s-prod", "access", "certificate", (4,), "Certificate for *.svc.{dc}.example.internal expires in 5 days",
      "cert-manager Certificate not ready: issuer rate-limited.", ("monitoring", "email")),
    T("k8s-prod", "software", "middleware", (2, 3), "Image pulls failing from internal registry registry-{dc}-01",
      "Registry returns 500 on blob uploads; deployments blocked, running pods fine."),
    T("k8s-prod", "access", "sso", (3,), "Engineers cannot log in to the k8s dashboard via SSO",
      "OIDC client secret expired; kubectl with existing tokens still works.", ("chat", "portal")),
    T("k8s-prod", "hardware", "server", (3, 4), "Server k8s-{dc}-w{n}7 reporting memory ECC errors",
      "Correctable ECC errors above threshold on DIMM B2; node drained pending vendor replacement."),
    # Network.
    T("dc-network", "network", "wan", (2, 3), "Packet loss {n} % on transit link {dc}-edge-01 ↔ {carrier}",
      "Loss on the {carrier} transit during EU evening peak; traffic can be shifted to the second carrier."),
    T("dc-network", "network", "wan", (2,), "BGP session to {carrier} down on {dc}-edge-02",
      "Session flapped and stayed down (hold timer expired); inbound traffic rerouted via the other edge."),
    T("dc-network", "hardware", "network-device", (3,), "Core switch {dc}-core-01 PSU failure",
      "PSU 2 failed; the switch runs on the redundant PSU. Replacement part ordered under the support contract."),
    T("dc-network", "network", "lan-wifi", (3,), "Spine {dc}-spine-0{n} interface Eth1/{n}4 flapping",
      "Optic errors on one uplink; ECMP is routing around it."),
    T("dc-network", "security", "ddos", (1, 2), "DDoS on storefront edge — {n}8 Gbit/s UDP reflection",
      "Volumetric attack on the storefront anycast prefix; scrubbing service engaged, some {region} users see timeouts."),
    T("dc-network", "network", "dns", (2, 3), "Intermittent SERVFAIL from internal resolvers in {dc}",
      "dns-{dc}-01 and -02 hit their query limit; some services fail to resolve the database endpoints."),
    T("corporate-vpn", "network", "vpn", (2, 3), "VPN concentrator vpn-ams-02 dropping tunnels",
      "Tunnels drop after ~20 min for users on vpn-ams-02; vpn-ams-01 healthy.", ("phone", "portal", "monitoring")),
    T("corporate-vpn", "network", "vpn", (3,), "VPN users in {office} cannot reach the intranet after login",
      "Split-tunnel route for 10.40.0.0/16 missing from the {office} profile.", ("phone", "portal")),
    T("corporate-vpn", "access", "mfa", (3, 4), "VPN client 5.{n} fails the MFA prompt on macOS 15",
      "Push prompt never shown; OTP fallback works.", ("portal", "chat")),
    T("corporate-vpn", "access", "mfa", (2, 3), "MFA push notifications not delivered to on-call engineers",
      "Authenticator push service degraded; engineers paged but cannot log in to respond."),
    T("office-network", "network", "lan-wifi", (3,), "Wi-Fi outage on floor {n} of the {office} office",
      "Access points on floor {n} lost their controller after a firmware push.", ("phone", "chat")),
    T("office-network", "hardware", "network-device", (3, 4), "Office access switch down in {office} — 24 desks without LAN",
      "Switch does not power on; desks can use Wi-Fi meanwhile.", ("phone", "portal")),
    T("office-network", "network", "lan-wifi", (4,), "Meeting-room screens in {office} not joining Wi-Fi",
      "Screens use the legacy PSK SSID that was retired on Monday.", ("portal",)),
    # Workplace, business applications, security.
    T("email", "software", "saas", (2, 3), "Outbound mail queued at gateway mx-{dc}-01 ({count} messages)",
      "Gateway cannot reach the cloud relay; retries every 5 min, nothing bounced yet."),
    T("email", "software", "saas", (3,), "Shared mailbox noc@ not receiving external mail",
      "Transport rule from last week's change rejects mail with external tags.", ("phone", "email")),
    T("email", "software", "saas", (4,), "Calendar invites from partners arrive as winmail.dat",
      "TNEF conversion on the gateway; affects invites from two partner domains.", ("portal", "email")),
    T("email", "security", "phishing", (2,), "Phishing campaign impersonating payroll — {n} users clicked",
      "Credential-harvesting page; affected accounts need password resets and session revocation.", ("email", "phone")),
    T("email", "security", "malware", (2,), "Malicious attachment opened — laptop {host} isolated by EDR",
      "EDR quarantined the payload and isolated the host; check for lateral movement."),
    T("crm", "software", "saas", (2, 3), "Salesforce search returns no results; records reachable by link",
      "Global search broken for the sales org since the weekend release; records open from direct links.", ("phone", "portal")),
    T("crm", "software", "application", (3,), "CTI screen-pop not showing the caller's record for agents",
      "Softphone connector times out on the CRM lookup; agents search by hand.", ("phone", "chat")),
    T("crm", "software", "saas", (4,), "CRM report 'Weekly pipeline' times out",
      "Report scans all opportunities since 2019; needs a date filter.", ("portal", "email")),
    T("crm", "access", "permissions", (4,), "New starters missing CRM permission sets",
      "The onboarding flow did not assign the 'Sales User' permission set to this week's starters.", ("portal",)),
    T("erp", "software", "application", (2, 3), "SAP invoice posting fails with error F5 155",
      "Posting period not open for the new company code; finance cannot post supplier invoices.", ("phone", "portal")),
    T("erp", "hardware", "peripheral", (3, 4), "Warehouse pick lists not printing in the {office} DC",
      "Print server spool stuck; pickers working from screens.", ("phone",)),
    T("erp", "software", "application", (3, 4), "SAP GUI slow for finance users in {office}",
      "Dialog response times 4–6 s since month-end jobs started.", ("phone", "portal")),
    T("erp", "access", "account-lockout", (3,), "Finance team locked out of SAP after password policy change",
      "New policy expired every password older than 90 days at once.", ("phone",)),
    T("contact-centre", "network", "wan", (1, 2), "Inbound calls to the customer service line get a busy tone",
      "SIP trunk registration lost on the primary SBC; the IVR is unreachable for callers.", ("phone", "monitoring")),
    T("contact-centre", "software", "application", (4,), "IVR announcing the wrong opening hours",
      "Holiday schedule not applied to the IVR flow.", ("phone",)),
    T("contact-centre", "software", "application", (2, 3), "Agent softphones dropping calls after {n} min",
      "Calls drop at a fixed interval; SIP session timer mismatch suspected after the SBC upgrade.", ("phone", "chat")),
    T("monitoring", "software", "application", (2,), "Alertmanager not delivering pages to on-call",
      "Paging integration returns 401; alerts visible in the UI but nobody is paged."),
    T("monitoring", "software", "application", (3,), "Grafana dashboards blank for prod metrics (Prometheus {dc})",
      "prometheus-{dc}-01 out of memory after a cardinality spike."),
    T("monitoring", "software", "application", (4,), "Synthetic check 'checkout-{region}' flapping (false positives)",
      "Check times out from one probe location only; real checkout is healthy."),
    T("data-warehouse", "software", "database", (3,), "Nightly ETL finance_daily failed at step load_ledger",
      "Source extract arrived late; finance dashboards show yesterday's ledger.", ("monitoring", "email")),
    T("data-warehouse", "software", "application", (4,), "Ops dashboard shows yesterday's figures",
      "Dashboard cache not invalidated after the ETL rerun.", ("portal", "chat")),
    T("data-warehouse", "software", "database", (3, 4), "Data warehouse query queue saturated ({n}0 waiting)",
      "A runaway ad-hoc query holds all slots; scheduled reports queue behind it."),
    # Low-severity work that fills a real queue.
    T("web-storefront", "software", "application", (4,), "Broken link to the returns policy in the footer",
      "Footer link points at the old CMS path and returns 404.", ("email", "portal")),
    T("email", "software", "saas", (4,), "Out-of-office replies not sent for the {office} team",
      "Automatic replies disabled by the new mailbox policy for one distribution group.", ("portal",)),
    T("erp", "hardware", "peripheral", (4,), "Invoice printer in the {office} finance office jams on duplex",
      "Duplex unit worn; single-sided printing works.", ("phone", "portal")),
    T("monitoring", "software", "application", (4,), "Disk-space alert noisy on build agents (threshold too low)",
      "Alert fires at 70 % on agents that routinely sit at 75 %; tune the threshold."),
    T("contact-centre", "software", "application", (4,), "Wallboard in the {office} contact centre not refreshing",
      "Wallboard browser lost its session; queue figures frozen since the morning.", ("phone", "chat")),
    T("office-network", "network", "lan-wifi", (4,), "Guest Wi-Fi captive portal shows the old logo",
      "Captive portal template not updated after the rebrand.", ("portal",)),
    T("crm", "software", "saas", (3, 4), "Email-to-case creating duplicate CRM cases",
      "Replies with a changed subject line open a new case instead of threading.", ("portal", "email")),
    T("data-warehouse", "software", "application", (4,), "Monthly KPI export has dates in US format",
      "Locale of the export job changed with the last upgrade.", ("email",)),
    T("k8s-prod", "software", "middleware", (4,), "Deprecated API warnings flood the k8s-{dc}-prod audit log",
      "Two controllers still call a removed beta API; logs grow 3 GB/day."),
    T("customer-sso", "access", "account-lockout", (4,), "Customer cannot change the email address on the account",
      "Profile page rejects addresses with a plus sign.", ("portal", "chat")),
    T("corporate-vpn", "network", "vpn", (4,), "VPN login banner shows last year's acceptable-use text",
      "Banner text not updated on vpn-fra-01.", ("portal",)),
]
# fmt: on

# Owner team of each service is read from services.json; these teams also
# take the first call (L1) for anything that came in by phone, portal or chat.
FIRST_LINE = {
    "monitoring": "noc",
    "phone": "service-desk",
    "portal": "service-desk",
    "chat": "service-desk",
    "email": "service-desk",
}

# In the order an investigation goes: a few are picked and kept in this order.
WORK_NOTES = [
    "Checked dashboards: symptom confirmed, started with the first alert.",
    "Correlated with change CHG-{n}12 from this morning.",
    "Logs show connection resets from the upstream; capturing packets.",
    "Vendor ticket opened; waiting for their first response.",
    "Reproduced in staging; fix being prepared.",
    "Workaround shared with the service desk for callers.",
    "Rolled back to the previous release in one region as a test.",
    "Restarted the affected service; watching for recurrence.",
    "Capacity added; latency back under target, keeping an eye on it.",
    "Monitoring confirms recovery in {region}; keeping it open for an hour.",
]
STATUS_UPDATES = [
    "Investigation ongoing. Impact: customers in {region}. Next update in 30 min.",
    "Mitigation in place, error rate falling. Next update in 30 min.",
    "Root cause identified; fix rolling out. Next update in 15 min.",
]
RESOLUTIONS = [
    "Rolled back the faulty release; service confirmed healthy by monitoring.",
    "Failed component replaced; redundancy restored.",
    "Configuration corrected and verified with the reporter.",
    "Vendor fixed the fault on their side; confirmed with synthetic checks.",
    "Capacity increased and alert thresholds tuned; problem record raised.",
    "Workaround applied and accepted by the reporter; root cause in problem management.",
]
HOLD_REASONS = ["awaiting_caller", "awaiting_vendor", "awaiting_change"]


def fill(text: str, rng: random.Random, fixed: dict[str, str]) -> str:
    """Fill ``{placeholders}``, reusing one value per name within an incident."""
    for name, options in FILLERS.items():
        key = "{" + name + "}"
        if key in text:
            fixed.setdefault(name, rng.choice(options))
            text = text.replace(key, fixed[name])
    return text


def load(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((HERE / name).read_text(encoding="utf-8"))
    return data


class Generator:
    """Builds one incident at a time from the templates and the reference data."""

    def __init__(self, rng: random.Random, *, history: bool = False) -> None:
        self.rng = rng
        self.history = history
        # Reopens and CSAT scores: a stream of their own (see HISTORY_COUNT).
        self.extra = random.Random(rng.random() if history else SEED + 1)
        self.owner = {s["id"]: s["owner_team"] for s in load("services.json")}
        self.team_names = {t["id"]: t["name"] for t in load("teams.json")}
        self.names = {c["id"]: c["name"] for c in load("contacts.json")}
        self.people: dict[str, list[str]] = {}
        self.open_titles: set[str] = set()
        self.leads: dict[str, str] = {}
        for contact in load("contacts.json"):
            self.people.setdefault(contact["team"], []).append(contact["id"])
            if "lead" in contact["role"].lower() or "manager" in contact["role"].lower():
                self.leads.setdefault(contact["team"], contact["id"])

    def severity(self) -> int:
        sevs = list(SEVERITY_WEIGHTS)
        return self.rng.choices(sevs, weights=[SEVERITY_WEIGHTS[s] for s in sevs])[0]

    def template(self, severity: int, state: str) -> Template:
        fitting = [t for t in TEMPLATES if severity in t.severities]
        if state in OPEN_STATES:
            # Two open incidents with the same title look like a duplicate,
            # not like a busy NOC: use each template once on the live board.
            fresh = [t for t in fitting if t.title not in self.open_titles]
            template = self.rng.choice(fresh or fitting)
            self.open_titles.add(template.title)
            return template
        return self.rng.choice(fitting)

    def ages(self, severity: int, state: str) -> dict[str, int]:
        """Minutes ago for each timestamp, placed around the SLA targets."""
        rng = self.rng
        response, resolution = TARGETS[severity]
        if state in OPEN_STATES:
            # Where on the resolution clock: most comfortable, some at risk, some past due.
            band = rng.choices(["ok", "risk", "breached"], weights=[55, 25, 20])[0]
            low, high = {"ok": (0.05, 0.6), "risk": (0.78, 0.96), "breached": (1.05, 1.8)}[band]
            if state == "new":
                # Not acknowledged yet: judged against the response target instead.
                low, high = {"ok": (0.1, 0.6), "risk": (0.7, 0.95), "breached": (1.1, 2.5)}[band]
                opened = max(2, round(response * rng.uniform(low, high)))
                return {"opened": opened}
            opened = max(5, round(resolution * rng.uniform(low, high)))
        else:
            low, high = (21, HISTORY_DAYS) if self.history else (2, 21)
            opened = rng.randint(low * 24 * 60, high * 24 * 60)
        ack_delay = response * rng.choice([0.2, 0.35, 0.5, 0.7, 0.9, 1.3])
        ack = opened - max(1, min(round(ack_delay), opened - 1))
        return {"opened": opened, "acknowledged": ack}

    def incident(self, index: int, severity: int, state: str) -> dict[str, Any]:
        rng = self.rng
        template = self.template(severity, state)
        fixed: dict[str, str] = {}
        impact, urgency = rng.choice(PAIRS[severity])
        source = rng.choice(template.sources)
        owner_team = self.owner[template.service]
        first_line = FIRST_LINE[source]
        ages = self.ages(severity, state)
        opened = ages["opened"]
        record: dict[str, Any] = {
            "id": f"demo-{index:04d}",
            "title": fill(template.title, rng, fixed),
            "description": fill(template.description, rng, fixed),
            "service": template.service,
            "category": template.category,
            "subcategory": template.subcategory,
            "impact": impact,
            "urgency": urgency,
            "state": state,
            "source": source,
            "major": severity == 1 or (template.category == "security" and severity == 2),
            "reporter": self.reporter(source, template.category),
            "opened_minutes_ago": opened,
        }
        timeline: list[dict[str, Any]] = []
        operator = rng.choice(self.people[first_line])
        timeline.append(self.event(opened, "work_note", operator, self.intake_note(source, fixed)))
        if state == "new":
            record["updated_minutes_ago"] = opened
            record["timeline"] = timeline
            return record

        ack = ages["acknowledged"]
        record["acknowledged_minutes_ago"] = ack
        assignee = rng.choice(self.people[owner_team])
        record["assignment_group"] = owner_team
        first_move = "triaged" if state == "triaged" or rng.random() < 0.6 else "in_progress"
        timeline.append(self.state_change(ack, operator, "new", first_move))
        if state == "triaged":
            # Triaged and handed to the owner team's queue, nobody picked it up yet.
            if rng.random() < 0.5:
                record["assignee"] = assignee
        else:
            record["assignee"] = assignee
        assign_at = max(0, ack - rng.randint(0, 3))
        who = self.team_names[owner_team]
        if "assignee" in record:
            who += f" / {self.names[record['assignee']]}"
        timeline.append(
            self.event(
                assign_at,
                "assignment",
                operator,
                f"Assigned to {who}",
                {"group": owner_team, "assignee": record.get("assignee")},
            )
        )
        current = first_move
        now_cursor = assign_at
        if state != "triaged" and current == "triaged":
            at = max(0, now_cursor - rng.randint(1, 20))
            timeline.append(self.state_change(at, assignee, "triaged", "in_progress"))
            current, now_cursor = "in_progress", at

        end = self.end_minutes(state, now_cursor, severity)
        timeline.extend(self.progress_notes(severity, assignee, now_cursor, end, fixed))
        if severity == 1 and rng.random() < 0.8:
            # A P2 sat 38 minutes waiting for on-call: the console escalates early.
            lead = self.leads.get(owner_team, assignee)
            at = max(end, now_cursor - 10)
            timeline.append(
                self.event(
                    at,
                    "escalation",
                    "noc-console",
                    f"Major incident: {self.names[lead]} and the duty incident manager paged.",
                    {"to": lead, "reason": "SEV-1"},
                )
            )

        if state in ("in_progress", "triaged"):
            record["updated_minutes_ago"] = min(e["minutes_ago"] for e in timeline)
        elif state == "on_hold":
            reason = rng.choice(HOLD_REASONS)
            record["hold_reason"] = reason
            started = end
            timeline.append(
                self.state_change(started, assignee, current, "on_hold", {"hold_reason": reason})
            )
            if reason != "awaiting_change":
                record["holds"] = [{"started_minutes_ago": started}]
            record["updated_minutes_ago"] = started
        elif state == "reopened":
            resolved = end
            reopened = max(0, resolved - rng.randint(15, 240))
            if reopened >= resolved:
                reopened = max(0, resolved - 1)
            timeline.append(self.state_change(resolved, assignee, current, "resolved"))
            timeline.append(self.event(resolved, "work_note", assignee, rng.choice(RESOLUTIONS)))
            timeline.append(
                self.state_change(
                    reopened,
                    operator,
                    "resolved",
                    "reopened",
                    {"reason": "Reporter says the fault is back"},
                )
            )
            record["updated_minutes_ago"] = reopened
        elif state in ("resolved", "closed"):
            resolved = end
            record["resolved_minutes_ago"] = resolved
            extra = self.extra
            first = resolved + extra.randint(60, 600)
            if extra.random() < REOPEN_SHARE and first < now_cursor - 30:
                # Resolved too early: the caller reported the fault back.
                timeline.append(self.state_change(first, assignee, current, "resolved"))
                back = first - extra.randint(10, max(11, min(240, first - resolved - 5)))
                timeline.append(
                    self.state_change(
                        back,
                        operator,
                        "resolved",
                        "reopened",
                        {"reason": "Reporter says the fault is back"},
                    )
                )
                current = "reopened"
            timeline.append(self.event(resolved, "work_note", assignee, rng.choice(RESOLUTIONS)))
            timeline.append(self.state_change(resolved, assignee, current, "resolved"))
            record["updated_minutes_ago"] = resolved
            if extra.random() < CSAT_SHARE:
                score = extra.choices(range(1, 6), weights=CSAT_WEIGHTS)[0]
                timeline.append(
                    self.event(
                        max(0, resolved - extra.randint(0, 30)),
                        "csat",
                        operator,
                        f"CSAT {score}/5 — {CSAT_COMMENTS[score]}",
                        {"score": score},
                    )
                )
            if state == "closed":
                closed = max(0, resolved - rng.randint(24 * 60, 3 * 24 * 60))
                if closed >= resolved:
                    closed = max(0, resolved - 1)
                record["closed_minutes_ago"] = closed
                timeline.append(
                    self.state_change(
                        closed,
                        "noc-console",
                        "resolved",
                        "closed",
                        {"reason": "No reply from the reporter within 24 h"},
                    )
                )
                record["updated_minutes_ago"] = closed
        elif state == "cancelled":
            timeline.append(
                self.state_change(
                    end, operator, current, "cancelled", {"reason": "Duplicate of an open incident"}
                )
            )
            record["updated_minutes_ago"] = end
        timeline.sort(key=lambda e: -e["minutes_ago"])
        record["timeline"] = timeline
        return record

    def end_minutes(self, state: str, start: int, severity: int) -> int:
        """When the last lifecycle step happened (minutes ago), never before ``start``."""
        rng = self.rng
        if state in OPEN_STATES and state not in ("on_hold", "reopened"):
            return max(0, start - rng.randint(1, max(1, start)))
        if state in ("on_hold", "reopened"):
            return max(0, round(start * rng.uniform(0.2, 0.7)))
        _, resolution = TARGETS[severity]
        # Most resolve within target, a tenth take longer (the SLA report needs both).
        duration = round(resolution * rng.uniform(0.1, 0.9 if rng.random() < 0.9 else 1.6))
        return max(0, start - max(5, min(duration, start - 1)))

    def progress_notes(
        self, severity: int, author: str, start: int, end: int, fixed: dict[str, str]
    ) -> list[dict[str, Any]]:
        rng = self.rng
        notes: list[dict[str, Any]] = []
        if start - end < 2:
            return notes
        count = rng.randint(1, 3)
        picks = sorted(rng.sample(range(len(WORK_NOTES)), count))
        times = sorted((rng.randint(end + 1, start - 1) for _ in picks), reverse=True)
        for pick, at in zip(picks, times, strict=True):
            notes.append(self.event(at, "work_note", author, fill(WORK_NOTES[pick], rng, fixed)))
        if severity == 1:
            at = start - 20
            while at > end:
                notes.append(
                    self.event(
                        at, "status_update", author, fill(rng.choice(STATUS_UPDATES), rng, fixed)
                    )
                )
                at -= 30
        return notes

    def reporter(self, source: str, category: str) -> str:
        if source == "monitoring" and category == "security":
            return self.rng.choice(["EDR console", "SIEM correlation rule"])
        options = {
            "monitoring": [
                "Prometheus Alertmanager",
                "Synthetic checks",
                "Log anomaly detector",
            ],
            "phone": [
                "Store manager, Madrid Gran Vía",
                "Warehouse supervisor",
                "Head of customer service",
                "Finance shared services",
                "Trading desk",
            ],
            "chat": ["Customer (via chat)", "Sales operations", "Partner support desk"],
            "email": ["Finance shared services", "Partner support desk", "Security awareness team"],
            "portal": [
                "Sales operations",
                "Marketing web team",
                "HR business partner",
                "Customer (via portal)",
            ],
        }
        return self.rng.choice(options[source])

    def intake_note(self, source: str, fixed: dict[str, str]) -> str:
        if source == "monitoring":
            return "Opened from alert; monitoring shows the symptom on production."
        return {
            "phone": "Logged from a phone call; caller details in the description.",
            "email": "Logged from an email to the service desk.",
            "chat": "Logged from the service-desk chat.",
            "portal": "Raised by the user on the self-service portal.",
        }[source]

    @staticmethod
    def event(
        minutes_ago: int, kind: str, author: str, body: str, data: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "minutes_ago": minutes_ago,
            "kind": kind,
            "author": author,
            "body": body,
        }
        if data:
            event["data"] = {k: v for k, v in data.items() if v is not None}
        return event

    def state_change(
        self, minutes_ago: int, author: str, old: str, new: str, data: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        label = new.replace("_", " ")
        return self.event(
            minutes_ago,
            "state_change",
            author,
            f"State changed to {label}",
            {"from": old, "to": new, **(data or {})},
        )


def generate() -> list[dict[str, Any]]:
    """All demo incidents, oldest first, numbered in order of opening."""
    rng = random.Random(SEED)
    gen = Generator(rng)
    states = [state for state, count in STATE_COUNTS.items() for _ in range(count)]
    rng.shuffle(states)
    severities = [gen.severity() for _ in states]
    # The board must show every severity open, and a few SEV-1s to demo a major
    # incident: move SEV-1s onto open states (a swap keeps the overall shares).
    open_slots = [i for i, s in enumerate(states) if s in OPEN_STATES and s != "new"]
    for slot, sev in zip(open_slots[:3], (1, 1, 1), strict=True):
        if severities[slot] != sev:
            donor = next(
                i for i, s in enumerate(severities) if s == sev and states[i] not in OPEN_STATES
            )
            severities[slot], severities[donor] = severities[donor], severities[slot]
    incidents = [
        gen.incident(i, sev, st)
        for i, (sev, st) in enumerate(zip(severities, states, strict=True), 1)
    ]
    incidents.sort(key=lambda r: -r["opened_minutes_ago"])
    for number, record in enumerate(incidents, FIRST_NUMBER):
        record["number"] = number
        record["id"] = f"demo-{number}"
    older = Generator(random.Random(SEED + 2), history=True)
    history = [older.incident(i, older.severity(), "closed") for i in range(1, HISTORY_COUNT + 1)]
    history.sort(key=lambda r: -r["opened_minutes_ago"])
    for number, record in enumerate(history, FIRST_NUMBER - HISTORY_COUNT):
        record["number"] = number
        record["id"] = f"demo-{number}"
    # Two commander overrides, so the demo shows a severity set by hand.
    # Raised from SEV-3 within the last hours, as an incident manager would.
    overrides = [
        r
        for r in incidents
        if r["state"] in OPEN_STATES - {"new"}
        and (r["impact"], r["urgency"]) == ("medium", "medium")
        and r["opened_minutes_ago"] < 240
    ]
    for record in overrides[:2]:
        record["severity"] = "SEV-2"
        record["timeline"].append(
            Generator.event(
                max(0, record["opened_minutes_ago"] - 5),
                "severity_change",
                "twhitfield",
                "Raised to SEV-2 by the duty incident manager: more users affected than first reported.",
                {"to": "SEV-2", "reason": "wider impact"},
            )
        )
        record["timeline"].sort(key=lambda e: -e["minutes_ago"])
    publish_updates(incidents, random.Random(SEED + 5))
    incidents.append(running_major(FIRST_NUMBER + len(incidents)))
    return history + incidents


# #19's update cadence (console/domain/major.py): internal (and customer, on a
# customer-facing service) every 15 min for SEV-1 and 30 min for SEV-2; the
# executives at the declaration and after each milestone.
CADENCE_MIN = {1: 15, 2: 30}
SEVERITY_OF = {pair: severity for severity, pairs in PAIRS.items() for pair in pairs}
INTERNAL_UPDATES = {
    "investigating": "[SEV-{sev}] {title}: investigating. Impact confirmed on {service}; next update in {cadence} min.",
    "identified": "[SEV-{sev}] {title}: cause identified, fix in progress. Next update in {cadence} min.",
}
EXECUTIVE_UPDATES = {
    "investigating": "SEV-{sev} major incident on {service}: {title}. Bridge open, investigating.",
    "identified": "{service}: the cause is identified and the fix is under way; no change to the impact yet.",
}
CUSTOMER_UPDATES = {
    "investigating": "Some customers are affected by a problem with {service}. We are investigating and will update within {cadence} minutes.",
    "identified": "We have found the cause of the problem with {service} and are fixing it. Next update within {cadence} minutes.",
}


def publish_updates(incidents: list[dict[str, Any]], rng: random.Random) -> None:
    """Give each open major the audience updates #19's cadence asks for, all on time.

    Times are minutes before the load, so they stay within the cadence
    whenever the demo is loaded: the newest internal (and customer) update
    is at most half a cadence old, and the executives have heard since the
    declaration and the last milestone. Only the running SEV-1 major
    (:func:`running_major`, the one the demo features) is left overdue.
    """
    facing = {
        s["id"]
        for s in json.loads((HERE / "services.json").read_text())
        if s.get("customer_facing")
    }
    names = {s["id"]: s["name"] for s in json.loads((HERE / "services.json").read_text())}
    for record in incidents:
        if not record["major"] or record["state"] not in OPEN_STATES:
            continue
        severity = (
            int(record["severity"][-1])
            if "severity" in record
            else SEVERITY_OF[(record["impact"], record["urgency"])]
        )
        cadence = CADENCE_MIN[severity]
        timeline = record["timeline"]
        author = next(
            (e["author"] for e in reversed(timeline) if e["author"] != "noc-console"),
            timeline[0]["author"],
        )
        opened = record["opened_minutes_ago"]
        start = next((e["minutes_ago"] for e in timeline if e["kind"] == "escalation"), opened)
        fields = {
            "sev": severity,
            "title": record["title"],
            "service": names[record["service"]],
            "cadence": cadence,
        }
        # Identified half-way through the work once someone is on it.
        identified = (
            start // 2
            if record["state"] in ("in_progress", "on_hold", "reopened") and start >= 4
            else None
        )
        audiences = ["internal"] + (["customer"] if record["service"] in facing else [])
        updates: list[dict[str, Any]] = []
        for audience, texts in (("internal", INTERNAL_UPDATES), ("customer", CUSTOMER_UPDATES)):
            if audience not in audiences:
                continue
            # Back from "now": the newest within half a cadence, then one a cadence apart.
            at = rng.randint(1, cadence // 2)
            times = []
            while at <= start:
                times.append(at)
                at += cadence - rng.randint(1, 4)
            times = times or [start]
            for minute in sorted(times, reverse=True):
                status = (
                    "identified"
                    if identified is not None and minute <= identified
                    else "investigating"
                )
                updates.append(
                    Generator.event(
                        minute,
                        "status_update",
                        author,
                        texts[status].format(**fields),
                        {"audience": audience, "status": status},
                    )
                )
        # The executives: at the declaration, and again after the milestone.
        updates.append(
            Generator.event(
                max(0, start - 1),
                "status_update",
                author,
                EXECUTIVE_UPDATES["investigating"].format(**fields),
                {"audience": "executive", "status": "investigating"},
            )
        )
        said = [e["minutes_ago"] for e in updates if e["data"]["status"] == "identified"]
        if said:
            updates.append(
                Generator.event(
                    max(0, max(said) - 1),
                    "status_update",
                    author,
                    EXECUTIVE_UPDATES["identified"].format(**fields),
                    {"audience": "executive", "status": "identified"},
                )
            )
        timeline.extend(updates)
        timeline.sort(key=lambda e: -e["minutes_ago"])


# fmt: off
def running_major(number: int) -> dict[str, Any]:
    """#19: a SEV-1 major running now, with roles, a bridge and updates; the internal one overdue.

    Declared 45 minutes ago; the last internal update was 25 minutes ago, so
    with the SEV-1 cadence of 15 minutes it is 10 minutes overdue.
    """
    e = Generator.event
    return {
        "id": f"demo-{number}",
        "number": number,
        "title": "Checkout failing for card payments (PSP timeouts)",
        "description": "About 40 % of card payments time out at the PSP gateway since 09:10.",
        "service": "checkout",
        "category": "software",
        "subcategory": "application",
        "impact": "high",
        "urgency": "high",
        "state": "in_progress",
        "source": "monitoring",
        "major": True,
        "reporter": "Checkout error-rate alert",
        "assignee": "enavarro",
        "assignment_group": "payments-eng",
        "opened_minutes_ago": 50,
        "acknowledged_minutes_ago": 48,
        "updated_minutes_ago": 5,
        "timeline": [
            e(45, "escalation", "twhitfield", "Declared a major incident: SEV-1 on a customer-facing service", {"major": True}),
            e(44, "assignment", "twhitfield", "Assigned Incident Commander: Tom Whitfield", {"role": "Incident Commander", "from": None, "to": "Tom Whitfield"}),
            e(44, "assignment", "twhitfield", "Assigned Technical Lead: Elena Navarro", {"role": "Technical Lead", "from": None, "to": "Elena Navarro"}),
            e(43, "assignment", "twhitfield", "Assigned Communications Lead: Lucía Fernández", {"role": "Communications Lead", "from": None, "to": "Lucía Fernández"}),
            e(42, "work_note", "twhitfield", "Bridge: https://meet.example.com/sev1-checkout · +44 20 7946 0000 · 482913#", {"bridge": {"url": "https://meet.example.com/sev1-checkout", "dial_in": "+44 20 7946 0000", "pin": "482913#"}}),
            e(41, "assignment", "twhitfield", "Elena Navarro joined the bridge", {"responder": "Elena Navarro", "action": "joined"}),
            e(40, "assignment", "twhitfield", "Oliver Grant joined the bridge", {"responder": "Oliver Grant", "action": "joined"}),
            e(20, "assignment", "twhitfield", "Oliver Grant left the bridge", {"responder": "Oliver Grant", "action": "left"}),
            e(40, "status_update", "lfernandez", "[SEV-1] Checkout: investigating card payment timeouts at the PSP gateway.", {"audience": "internal", "status": "investigating"}),
            e(38, "status_update", "lfernandez", "SEV-1 major incident on Checkout: card payments failing for ~40 % of customers.", {"audience": "executive", "status": "investigating"}),
            e(30, "status_update", "lfernandez", "Some card payments are failing. We are investigating and will update within 15 minutes.", {"audience": "customer", "status": "investigating"}),
            e(25, "status_update", "lfernandez", "[SEV-1] Checkout: PSP connection pool exhausted; failing over to the second PSP region.", {"audience": "internal", "status": "identified"}),
            e(24, "status_update", "lfernandez", "Cause identified: the PSP connection pool is exhausted; failing over to the second PSP region.", {"audience": "executive", "status": "identified"}),
            e(7, "status_update", "lfernandez", "We have found the cause of the failing card payments and are moving traffic to a healthy region.", {"audience": "customer", "status": "identified"}),
            e(5, "work_note", "enavarro", "Failover to PSP region B at 50 %; error rate down from 40 % to 12 %."),
        ],
    }


# fmt: on


def dumps(incidents: list[dict[str, Any]]) -> str:
    """JSON with one field per line and one timeline entry per line: easy to read and diff."""
    out = ["["]
    for i, record in enumerate(incidents):
        fields = []
        for key, value in record.items():
            if key == "timeline":
                events = ",\n".join("   " + json.dumps(e, ensure_ascii=False) for e in value)
                fields.append(f'  "timeline": [\n{events}\n  ]')
            else:
                fields.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
        out.append(" {\n" + ",\n".join(fields) + "\n }" + ("," if i < len(incidents) - 1 else ""))
    out.append("]")
    return "\n".join(out) + "\n"


def main() -> None:
    incidents = generate()
    first = ["id", "number"]
    ordered = [
        {**{k: r[k] for k in first}, **{k: v for k, v in r.items() if k not in first}}
        for r in incidents
    ]
    (HERE / "incidents.json").write_text(dumps(ordered), encoding="utf-8")
    print(f"wrote {len(ordered)} incidents to {HERE / 'incidents.json'}")


if __name__ == "__main__":
    main()
