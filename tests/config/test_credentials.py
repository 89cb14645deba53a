"""Tokens live in the OS keyring (here the in-memory stand-in from tests/helpers/env.py)."""

from __future__ import annotations

from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from console.config import credentials
from console.config.credentials import (
    SERVICE,
    KeyringUnavailable,
    TokenMissing,
    forget_token,
    get_token,
    keyring_problem,
    resolve_token,
    store_token,
    token_from_env,
)
from tests.helpers.env import MemoryKeyring

URL = "https://noc.example.com"


def test_a_token_is_kept_per_backend_url_under_the_noc_console_service(
    memory_keyring: MemoryKeyring,
) -> None:
    assert get_token(URL) is None
    store_token(URL, "  secret-1\n")
    store_token("https://other.example.com", "secret-2")
    assert memory_keyring.secrets[(SERVICE, URL)] == "secret-1"
    assert get_token(URL) == "secret-1"
    forget_token(URL)
    assert get_token(URL) is None
    forget_token(URL)  # nothing stored: no error
    with pytest.raises(TokenMissing):
        store_token(URL, "   ")


def test_token_env_is_read_for_kiosks_and_wins_over_the_keyring() -> None:
    store_token(URL, "from-keyring")
    token = resolve_token(URL, token_env="NOC_TOKEN", environ={"NOC_TOKEN": "from-env"})
    assert token is not None
    assert token.secret == "from-env"
    assert token.origin == "env:NOC_TOKEN"
    assert "from-env" not in repr(token)
    kept = resolve_token(URL)
    assert kept is not None
    assert kept.secret == "from-keyring"
    with pytest.raises(TokenMissing, match="NOC_TOKEN is not set"):
        token_from_env("NOC_TOKEN", environ={})


def test_without_a_usable_keyring_the_message_says_what_to_do_and_no_file_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    keyring.set_keyring(keyring.backends.fail.Keyring())
    problem = keyring_problem()
    assert problem is not None
    assert "--token-env" in problem
    with pytest.raises(KeyringUnavailable) as caught:
        store_token(URL, "secret")
    assert "--token-env" in str(caught.value)
    with pytest.raises(KeyringUnavailable):
        get_token(URL)
    # The token went nowhere: no file anywhere under the working folder.
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    # --token-env still works without a keyring.
    token = resolve_token(URL, token_env="T", environ={"T": "secret"})
    assert token is not None
    assert token.secret == "secret"


def test_a_plain_text_keyring_is_refused() -> None:
    plaintext = type("PlaintextKeyring", (MemoryKeyring,), {"__module__": "keyrings.alt.file"})
    keyring.set_keyring(plaintext())
    problem = keyring_problem()
    assert problem is not None
    assert "plain-text file" in problem
    with pytest.raises(KeyringUnavailable):
        store_token(URL, "secret")


def test_a_failing_keyring_becomes_keyring_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    class Locked(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise keyring.errors.KeyringLocked("the collection is locked")

    keyring.set_keyring(Locked())
    with pytest.raises(KeyringUnavailable, match="locked"):
        get_token(URL)
    assert credentials.how_to_fix_keyring()
