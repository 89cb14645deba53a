"""#19: ``[major] share_threshold``, the share of users above which declaring is suggested."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.config.settings import SettingsError, load_settings


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_is_25_percent(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "settings.toml").major_share_threshold == 25


def test_a_site_sets_its_own(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, "[major]\nshare_threshold = 10\n"))
    assert settings.major_share_threshold == 10


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[major]\nshare_threshold = 140\n", "major.share_threshold"),
        ('[major]\nshare_threshold = "25 %"\n', "major.share_threshold"),
        ("[major]\nshare_treshold = 25\n", "major.share_treshold"),
        ("major = 25\n", "major"),
    ],
)
def test_bad_values_name_the_key_and_what_is_allowed(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_write(tmp_path, text))
    assert key in str(caught.value)
