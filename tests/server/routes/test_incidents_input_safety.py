"""Input that looks fine to a schema but hurts later: invisible titles, unknown services."""

from __future__ import annotations

import pytest

from tests.helpers.servers import INCIDENT, Api, ApiFactory

INVISIBLE = [
    "\u200b",  # zero-width space
    "\u200b\u200c\u200d\u2060\ufeff",  # zero-width (non-)joiners, word joiner, BOM
    "\u202e\u202d\u2066\u2069",  # bidi overrides and isolates
    " \u200b \u3164 ",  # blanks, zero-width space, Hangul filler
    "\u0301\u0301",  # combining marks with nothing to combine with
]


@pytest.mark.parametrize("title", INVISIBLE)
def test_a_title_of_only_invisible_characters_is_refused_like_an_empty_one(
    api: Api, title: str
) -> None:
    response = api.request(
        "POST", "/v1/incidents", role="dispatcher", json={**INCIDENT, "title": title}
    )
    assert response.status_code == 422, response.text
    assert "title" in response.json()["error"]["message"]
    created = api.create()
    patched = api.patch(created, title=title)
    assert patched.status_code == 422


def test_titles_with_visible_text_and_marks_are_kept(api: Api) -> None:
    for title in ("Café down", "\u202bשירות\u202c down", "東京 DC: link flap", "e\u0301cole"):
        created = api.create(title=title)
        assert created["title"] == title


def _directory(api: Api) -> None:
    team = {"name": "Network", "tier": "L2"}
    assert api.request("PUT", "/v1/teams/network", json=team).status_code == 201
    for item_id, name in (("vpn", "Corporate VPN"), ("checkout", "Checkout")):
        body = {"name": name, "owner_team": "network"}
        assert api.request("PUT", f"/v1/services/{item_id}", json=body).status_code == 201


def test_an_unknown_service_is_refused_naming_the_known_ones(api: Api) -> None:
    _directory(api)
    response = api.request(
        "POST", "/v1/incidents", role="dispatcher", json={**INCIDENT, "service": "chekout"}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "unknown_service"
    assert "checkout, vpn" in error["message"]
    # By id or by name (any case) is fine.
    assert api.create(service="vpn")["service"] == "vpn"
    assert api.create(service="corporate vpn")["service"] == "corporate vpn"
    assert api.request("GET", "/v1/incidents").json()["total"] == 2


def test_an_empty_directory_or_free_text_setting_accepts_any_service(
    api_factory: ApiFactory,
) -> None:
    fresh = api_factory()
    assert fresh.create(service="anything")["service"] == "anything"
    free = api_factory(free_text_services=True)
    _directory(free)
    unrouted = free.create(service="not-listed")
    assert unrouted["service"] == "not-listed"
    timeline = free.request("GET", f"/v1/incidents/{unrouted['id']}/timeline").json()["items"]
    [note] = [entry for entry in timeline if entry["data"].get("unrouted")]
    assert note["body"].startswith("Unrouted: the service 'not-listed'")
    routed = free.create(service="vpn")
    timeline = free.request("GET", f"/v1/incidents/{routed['id']}/timeline").json()["items"]
    assert not [entry for entry in timeline if entry["data"].get("unrouted")]
