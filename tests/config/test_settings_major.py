"""settings.toml ``[major]``: cadence per severity, extra roles, templates, the share of users
above which declaring is suggested; typos name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.config.settings import SettingsError, load_settings, save_settings

MAJOR = """\
# Our floor.
[major]
extra_roles = ["Scribe", "Liaison"]  # site roles
[major.cadence_minutes]
SEV-1 = 10  # the board asked for more
[major.templates.SEV-1]
internal = "[{{ severity }}] {{ service }}: {{ status }}"
[major.templates.default]
customer = "We are {{ status }} {{ service }}."
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_major_table_is_read_and_a_missing_one_means_the_defaults(tmp_path: Path) -> None:
    major = load_settings(_write(tmp_path, MAJOR)).major
    assert major.extra_roles == ("Scribe", "Liaison")
    assert major.cadence_minutes == {1: 10, 2: 30}  # SEV-2 keeps its default
    assert major.templates["SEV-1"]["internal"].startswith("[{{ severity }}]")
    assert major.templates["default"]["customer"].startswith("We are")
    default = load_settings(tmp_path / "none.toml").major
    assert default.cadence_minutes == {1: 15, 2: 30}
    assert default.extra_roles == ()
    assert default.templates == {}


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[major]\ncadense = 1", "major.cadense", "unknown key"),
        ("[major.cadence_minutes]\nSEV-1 = -5", "major.cadence_minutes.SEV-1", "1 to 240"),
        ("[major.cadence_minutes]\nSEV-9 = 5", "major.cadence_minutes.SEV-9", "unknown key"),
        ('[major]\nextra_roles = ["Scribe", "Scribe"]', "major.extra_roles[1]", "twice"),
        ('[major]\nextra_roles = ["Incident Commander"]', "major.extra_roles[0]", "standard"),
        ('[major]\nextra_roles = ["Note-taker!"]', "major.extra_roles[0]", "letters"),
        ('[major.templates.SEV-1]\npress = "x"', "major.templates.SEV-1.press", "unknown key"),
        ('[major.templates.SEV-1]\ninternal = ""', "major.templates.SEV-1.internal", "template"),
        ('[major.templates.SEV-7]\ninternal = "x"', "major.templates.SEV-7", "unknown key"),
    ],
)
def test_a_bad_major_value_names_the_key(tmp_path: Path, text: str, key: str, words: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_write(tmp_path, text + "\n"))
    assert caught.value.key == key
    assert words in str(caught.value)


def test_saving_major_keys_keeps_the_comments(tmp_path: Path) -> None:
    path = _write(tmp_path, MAJOR)
    saved = save_settings(
        path,
        {
            "major.cadence_minutes.SEV-2": 20,
            "major.templates.SEV-2.executive": "{{ severity }} on {{ service }}",
        },
    )
    assert saved.major.cadence_minutes == {1: 10, 2: 20}
    off = save_settings(path, {"major.cadence_minutes.SEV-2": 0})
    assert off.major.cadence_minutes == {1: 10}  # 0: no regular SEV-2 updates
    assert saved.major.templates["SEV-2"]["executive"] == "{{ severity }} on {{ service }}"
    text = path.read_text(encoding="utf-8")
    assert "# the board asked for more" in text
    assert "# site roles" in text


def test_default_is_25_percent(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "settings.toml").major.share_threshold == 25


def test_a_site_sets_its_own(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, "[major]\nshare_threshold = 10\n"))
    assert settings.major.share_threshold == 10


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
