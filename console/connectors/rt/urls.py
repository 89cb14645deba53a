"""Request Tracker backend URLs: ``rt+https://rt.example.org`` (RT's web address with ``rt+``)."""

from __future__ import annotations

from urllib.parse import urlsplit

RT_SCHEME_PREFIX = "rt+"
"""A backend URL starting with this names Request Tracker (``rt+https://…``)."""
API_PATH = "/REST/2.0"


def normalise_rt_url(text: str) -> str:
    """``rt+https://rt.example.org/`` → ``rt+https://rt.example.org``; ValueError if not one.

    A path is kept (RT is often served under ``/rt``); a trailing
    ``/REST/2.0`` is dropped, since the connector adds it.
    """
    value = text.strip()
    if not value.lower().startswith(RT_SCHEME_PREFIX):
        raise ValueError(f"{text!r} is not a Request Tracker URL; use rt+https://rt.example.org")
    inner = value[len(RT_SCHEME_PREFIX) :].rstrip("/")
    if inner.lower().endswith(API_PATH.lower()):
        inner = inner[: -len(API_PATH)].rstrip("/")
    parts = urlsplit(inner)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"{text!r} is not a Request Tracker URL; use rt+https://rt.example.org "
            "(with RT's web path if it has one, e.g. rt+https://example.org/rt)"
        )
    return RT_SCHEME_PREFIX + inner
