"""API tokens for backends: kept in the OS keyring, never in a plain file.

Each backend URL has one token, stored under the keyring service
``noc-console`` with the URL as the user name. A kiosk without a keyring (a
wall display with no desktop session) passes ``--token-env VAR`` and the token
is read from that environment variable instead.

When no usable keyring backend exists (keyring's ``fail`` or ``null`` backend,
or a plain-text file backend from ``keyrings.alt``), the functions here raise
:class:`KeyringUnavailable` whose message says what to install or configure;
nothing falls back to writing the token somewhere readable.

No Qt here: the GUI asks for a token in its own dialog and calls
:func:`store_token`; the headless commands prompt on the terminal.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "noc-console"

# Backends that store secrets in a readable file, or nowhere at all.
_REFUSED_BACKENDS = {
    ("keyring.backends.fail", "Keyring"): "no keyring backend is available",
    ("keyring.backends.null", "Keyring"): "the keyring is switched off (the null backend)",
    ("keyrings.alt.file", "PlaintextKeyring"): "the configured keyring stores secrets in a "
    "plain-text file (keyrings.alt PlaintextKeyring), which NOC Console refuses to use",
}


class CredentialError(Exception):
    """A token cannot be found or kept; the message says what to do."""


class KeyringUnavailable(CredentialError):
    """No usable OS keyring: the message names what to install or configure."""


class TokenMissing(CredentialError):
    """No token is known for the backend (ask the operator for one)."""


@dataclass(frozen=True)
class Token:
    """A token and where it came from (``keyring`` or ``env:VAR``), for messages."""

    secret: str
    origin: str

    def __repr__(self) -> str:
        # Never show the secret in a log or a traceback.
        return f"Token(origin={self.origin!r})"


def how_to_fix_keyring() -> str:
    """What to do about a missing keyring on this platform."""
    if sys.platform.startswith("linux"):
        return (
            "Install and unlock a Secret Service keyring (GNOME Keyring: "
            "`sudo apt install gnome-keyring`, or KWallet) in your desktop session, "
            "or, on a kiosk without one, start NOC Console with --token-env VAR and put "
            "the token in the environment variable VAR"
        )
    if sys.platform == "darwin":
        return (
            "Make sure the login keychain is unlocked (Keychain Access), or start NOC Console "
            "with --token-env VAR and put the token in the environment variable VAR"
        )
    return (
        "Make sure Windows Credential Manager is available to your account, or start NOC "
        "Console with --token-env VAR and put the token in the environment variable VAR"
    )


def _refusal(backend: KeyringBackend) -> str | None:
    """Why ``backend`` cannot hold tokens, or None when it can."""
    key = (type(backend).__module__, type(backend).__name__)
    if key in _REFUSED_BACKENDS:
        return _REFUSED_BACKENDS[key]
    children = getattr(backend, "backends", None)
    if type(backend).__module__ == "keyring.backends.chainer" and isinstance(children, list):
        usable = [child for child in children if _refusal(child) is None]
        if not usable:
            return "no keyring backend is available"
    return None


def keyring_problem() -> str | None:
    """Why the OS keyring cannot be used, with what to do; None when it is usable."""
    import keyring.errors  # imported when used: loading keyring's backends costs ~15 MB

    try:
        backend = keyring.get_keyring()
    except (keyring.errors.KeyringError, RuntimeError) as exc:
        return f"the OS keyring cannot be opened ({exc}). {how_to_fix_keyring()}"
    refusal = _refusal(backend)
    if refusal is not None:
        return f"tokens cannot be kept safely: {refusal}. {how_to_fix_keyring()}"
    return None


def check_keyring() -> None:
    """Raise :class:`KeyringUnavailable` when the OS keyring cannot be used."""
    problem = keyring_problem()
    if problem is not None:
        raise KeyringUnavailable(problem)


def _failed(action: str, exc: BaseException) -> KeyringUnavailable:
    return KeyringUnavailable(
        f"the OS keyring failed while {action} ({exc}). {how_to_fix_keyring()}"
    )


def get_token(url: str) -> str | None:
    """The stored token for ``url``, or None when none is stored."""
    import keyring.errors

    check_keyring()
    try:
        return keyring.get_password(SERVICE, url)
    except keyring.errors.KeyringError as exc:
        raise _failed(f"reading the token for {url}", exc) from exc


def store_token(url: str, token: str) -> None:
    """Keep ``token`` for ``url`` in the OS keyring (replacing any earlier one)."""
    import keyring.errors

    token = token.strip()
    if not token:
        raise TokenMissing("the token is empty; paste the token from `noc-console token create`")
    check_keyring()
    try:
        keyring.set_password(SERVICE, url, token)
    except keyring.errors.KeyringError as exc:
        raise _failed(f"storing the token for {url}", exc) from exc


def forget_token(url: str) -> None:
    """Remove the stored token for ``url`` (nothing happens when none is stored)."""
    import keyring.errors

    check_keyring()
    try:
        keyring.delete_password(SERVICE, url)
    except keyring.errors.PasswordDeleteError:
        pass
    except keyring.errors.KeyringError as exc:
        raise _failed(f"removing the token for {url}", exc) from exc


def token_from_env(variable: str, environ: Mapping[str, str] | None = None) -> Token:
    """The token in the environment variable ``variable`` (``--token-env``)."""
    env = os.environ if environ is None else environ
    value = env.get(variable, "").strip()
    if not value:
        raise TokenMissing(
            f"--token-env {variable}: the environment variable {variable} is not set or empty; "
            "set it to the backend's API token (for our server, from `noc-console token create`; "
            "for Request Tracker, an auth token made in RT: see docs/rt-setup.md)"
        )
    return Token(value, f"env:{variable}")


def resolve_token(
    url: str, *, token_env: str | None = None, environ: Mapping[str, str] | None = None
) -> Token | None:
    """The token to use for ``url``: from ``--token-env`` if given, else the keyring.

    None means the keyring holds no token yet (ask the operator and call
    :func:`store_token`). Raises :class:`TokenMissing` for an empty variable
    and :class:`KeyringUnavailable` when the keyring cannot be used.
    """
    if token_env:
        return token_from_env(token_env, environ)
    secret = get_token(url)
    return Token(secret, "keyring") if secret else None
