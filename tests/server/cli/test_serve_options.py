"""`noc-console serve` options that end up in the server's settings."""

from __future__ import annotations

import argparse

import pytest

from console.server.cli.serve import add_arguments, settings_from


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_idempotency_keys_are_kept_a_week_unless_told() -> None:
    assert settings_from(parse()).idempotency_retention_s == 7 * 24 * 3600
    assert settings_from(parse("--idempotency-days", "30")).idempotency_retention_s == (
        30 * 24 * 3600
    )
    assert settings_from(parse("--idempotency-days", "0")).idempotency_retention_s == 0


@pytest.mark.parametrize("days", ["0.5", "-1", "400"])
def test_a_retention_too_short_or_too_long_is_refused_with_the_range(days: str) -> None:
    with pytest.raises(ValueError, match=r"--idempotency-days must be 0 .* or 1 to 365"):
        settings_from(parse("--idempotency-days", days))


def test_security_options_reach_the_settings() -> None:
    settings = settings_from(
        parse(
            "--webhook-allow", "10.20.0.0/16", "--webhook-allow", "chat.noc.lan",
            "--free-text-services", "--rate-per-token", "20", "--rate-per-address", "0",
            "--max-streams-per-token", "3",
        )
    )  # fmt: skip
    assert settings.webhook_allow == ("10.20.0.0/16", "chat.noc.lan")
    assert settings.free_text_services
    assert (settings.rate_per_token, settings.rate_burst_per_token) == (20, 100)
    assert settings.rate_per_address == 0
    assert settings.max_streams_per_token == 3
    defaults = settings_from(parse())
    assert defaults.webhook_allow == ()
    assert not defaults.free_text_services


def test_a_bad_allow_list_entry_is_refused() -> None:
    with pytest.raises(ValueError, match="neither a network"):
        settings_from(parse("--webhook-allow", "http://chat/"))


def test_the_update_cadence_defaults_to_15_and_30_minutes() -> None:
    assert dict(settings_from(parse()).update_cadence_min) == {1: 15, 2: 30}


def test_the_update_cadence_is_set_per_severity_over_the_defaults() -> None:
    settings = settings_from(parse("--update-cadence", "SEV-1=10, sev3=60,SEV-2=0"))
    assert dict(settings.update_cadence_min) == {1: 10, 3: 60}


@pytest.mark.parametrize("text", ["SEV-1", "SEV-9=10", "SEV-1=ten", "SEV-1=-5", "SEV-2=2000"])
def test_a_bad_update_cadence_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match="--update-cadence") as refused:
        settings_from(parse("--update-cadence", text))
    assert "SEV-1=15" in str(refused.value) or "1440" in str(refused.value)
