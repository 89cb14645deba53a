"""An escalation directory for the server tests: teams, contacts, a rotation, a policy, a SEV-2."""

from __future__ import annotations

from typing import Any

TEAMS = {
    "service-desk": {"name": "Service Desk", "tier": "L1"},
    "network": {"name": "Network Engineering", "tier": "L2"},
    "vendor": {"name": "Acme Support", "tier": "L3"},
}
CONTACTS = {
    "ana": {
        "name": "Ana Ruiz",
        "role": "Service desk analyst",
        "team": "service-desk",
        "primary_phone": "+34 612 34 56 78",
        "time_zone": "Europe/Madrid",
    },
    "jo": {
        "name": "Jo Kim",
        "role": "Network on-call engineer",
        "team": "network",
        "primary_phone": "+44 7400 123456",
        "time_zone": "Europe/London",
    },
    "acme": {
        "name": "Acme hotline",
        "role": "Vendor support",
        "team": "vendor",
        "primary_phone": "+1 650 253 0000",
        "time_zone": "America/Los_Angeles",
    },
}
ROTATION = {
    "name": "Network weekly",
    "team": "network",
    "time_zone": "Europe/London",
    "start": "2026-01-05",
    "members": ["jo"],
}
POLICY: dict[str, Any] = {
    "service": "vpn",
    "tiers": [
        {
            "level": 1,
            "name": "L1 Service Desk",
            "team": "service-desk",
            "contact_id": "ana",
            "engage_after_minutes": 0,
        },
        {
            "level": 2,
            "name": "L2 Network",
            "team": "network",
            "rotation_id": "network-weekly",
            "engage_after_minutes": 15,
        },
        {
            "level": 3,
            "name": "L3 Vendor",
            "team": "vendor",
            "contact_id": "acme",
            "engage_after_minutes": 60,
        },
    ],
    "management": [
        {"id": "duty", "who": "duty manager", "severities": ["SEV-1", "SEV-2"], "after_minutes": 30}
    ],
}
SEV2 = {
    "title": "VPN drops every few minutes",
    "service": "vpn",
    "impact": "high",
    "urgency": "medium",
}
