"""Test-machine stand-ins: an in-memory keyring, and skipping when a real service is missing."""

from __future__ import annotations

import os

import pytest
from keyring.backend import KeyringBackend


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in memory, so tests never read or write the user's.

    This stands in for the OS keyring (Secret Service, Keychain, Credential
    Manager), which cannot run on a headless test machine.
    """

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


def require_or_skip(available: bool, reason: str, env_var: str) -> None:
    """Skip when a real service is missing, unless ``env_var`` makes it mandatory (as in CI)."""
    if available:
        return
    if os.environ.get(env_var) == "1":
        pytest.fail(f"{reason} (and {env_var}=1 makes this test mandatory)")
    pytest.skip(reason)
