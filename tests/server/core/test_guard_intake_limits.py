"""The request guard's rate limit for ``intake`` tokens (one Alertmanager's whole traffic).

A real server on loopback (and ``serve``'s option parsing). The limits are
set small here so a few requests reach them; the defaults are checked as values.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from console.server.cli.serve import add_arguments, settings_from
from console.server.core.settings import Settings
from console.server.services.intake_rules import config_from_table
from tests.helpers.intake import am_alert, am_body, intake_server, post_am
from tests.helpers.servers import ApiFactory


def _bodies(n: int) -> list[dict[str, object]]:
    return [am_body(am_alert(fingerprint=f"fp{k}", service="vpn")) for k in range(n)]


def test_an_intake_token_is_not_held_to_a_console_tokens_limit(
    api_factory: ApiFactory, tmp_path: Path
) -> None:
    """A console's token at 2/s (burst 8) is refused; the intake token sending more is not."""
    config = config_from_table({"repeat_publish_seconds": 0})

    def factory(**kw: Any) -> Any:
        return api_factory(rate_per_token=2, rate_burst_per_token=8, **kw)

    api = intake_server(factory, tmp_path, config)
    statuses = [post_am(api, body).status_code for body in _bodies(12)]
    assert statuses == [200] * 12
    viewer = [api.request("GET", "/v1/me", role="viewer").status_code for _ in range(12)]
    assert 429 in viewer


def test_the_intake_limit_applies_and_answers_429_with_retry_after(
    api_factory: ApiFactory, tmp_path: Path
) -> None:
    config = config_from_table({"repeat_publish_seconds": 0})

    def factory(**kw: Any) -> Any:
        return api_factory(rate_per_intake_token=1, rate_burst_per_intake_token=4, **kw)

    api = intake_server(factory, tmp_path, config)
    statuses = [post_am(api, body).status_code for body in _bodies(7)]
    assert statuses[:4] == [200] * 4
    assert 429 in statuses[4:]
    refused = post_am(api, _bodies(1)[0])
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limited"
    # The console tokens' own bucket is untouched by the intake token's.
    assert api.request("GET", "/v1/me", role="viewer").status_code == 200


def test_serve_options_for_the_intake_limit() -> None:
    defaults = Settings()
    assert defaults.rate_per_intake_token > defaults.rate_per_token
    assert defaults.rate_burst_per_intake_token >= defaults.rate_per_intake_token
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    settings = settings_from(parser.parse_args(["--rate-per-intake-token", "800"]))
    assert (settings.rate_per_intake_token, settings.rate_burst_per_intake_token) == (800, 8000)
    assert settings_from(parser.parse_args([])).rate_per_intake_token == 2000
    off = settings_from(parser.parse_args(["--rate-per-intake-token", "0"]))
    assert off.rate_per_intake_token == 0
