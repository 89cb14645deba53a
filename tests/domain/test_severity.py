"""Impact × urgency → severity: the matrix, its configuration, and parsing of levels."""

from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.domain.errors import DomainError, InvalidValue
from console.domain.incident import compute_severity
from console.domain.severity import (
    DEFAULT_MATRIX,
    Impact,
    PriorityMatrix,
    Severity,
    Shape,
    Urgency,
)

# The default matrix written out cell by cell (ITIL-NOTES: both high → SEV-1,
# both low → SEV-4, the mixed cells by ServiceNow's lookup with its 4 and 5
# merged into SEV-4). Written by hand so a changed table fails here.
EXPECTED_CELLS = [
    ("high", "high", Severity.SEV1),
    ("high", "medium", Severity.SEV2),
    ("high", "low", Severity.SEV3),
    ("medium", "high", Severity.SEV2),
    ("medium", "medium", Severity.SEV3),
    ("medium", "low", Severity.SEV4),
    ("low", "high", Severity.SEV3),
    ("low", "medium", Severity.SEV4),
    ("low", "low", Severity.SEV4),
]


@pytest.mark.parametrize(("impact", "urgency", "expected"), EXPECTED_CELLS)
def test_default_matrix_cell(impact: str, urgency: str, expected: Severity) -> None:
    """Every one of the nine cells gives the documented severity."""
    assert DEFAULT_MATRIX.severity(Impact(impact), Urgency(urgency)) is expected
    assert compute_severity(Impact(impact), Urgency(urgency)) is expected


def test_expected_table_covers_all_nine_cells() -> None:
    assert {(i, u) for i, u, _ in EXPECTED_CELLS} == {
        (i.value, u.value) for i in Impact for u in Urgency
    }


def _full(**overrides: str) -> dict[str, dict[str, str]]:
    raw = {
        "high": {"high": "SEV-1", "medium": "SEV-2", "low": "SEV-3"},
        "medium": {"high": "SEV-2", "medium": "SEV-3", "low": "SEV-4"},
        "low": {"high": "SEV-3", "medium": "SEV-4", "low": "SEV-4"},
    }
    for cell, sev in overrides.items():
        impact, urgency = cell.split("_")
        raw[impact][urgency] = sev
    return raw


def test_matrix_from_config_changes_mixed_cells() -> None:
    """A site may move the mixed cells by policy."""
    matrix = PriorityMatrix.from_mapping(_full(high_medium="SEV-1", low_high="sev2"))
    assert matrix.severity(Impact.HIGH, Urgency.MEDIUM) is Severity.SEV1
    assert matrix.severity(Impact.LOW, Urgency.HIGH) is Severity.SEV2
    assert matrix.severity(Impact.MEDIUM, Urgency.MEDIUM) is Severity.SEV3
    assert compute_severity(Impact.LOW, Urgency.HIGH, matrix) is Severity.SEV2


def test_matrix_from_config_accepts_any_spelling_of_levels() -> None:
    raw = {k.upper(): {u.capitalize(): s for u, s in row.items()} for k, row in _full().items()}
    assert PriorityMatrix.from_mapping(raw) == DEFAULT_MATRIX


def test_incomplete_matrix_is_refused_naming_the_missing_cells() -> None:
    raw = _full()
    del raw["medium"]["low"]
    with pytest.raises(InvalidValue, match="medium/low") as info:
        PriorityMatrix.from_mapping(raw)
    assert info.value.field == "matrix"


def test_high_high_must_stay_sev1() -> None:
    with pytest.raises(InvalidValue, match="high/high") as info:
        PriorityMatrix.from_mapping(_full(high_high="SEV-2"))
    assert "SEV-1" in str(info.value)


def test_low_low_must_stay_sev4() -> None:
    with pytest.raises(InvalidValue, match="low/low") as info:
        PriorityMatrix.from_mapping(_full(low_low="SEV-3"))
    assert "SEV-4" in str(info.value)


def test_bad_cell_value_names_the_cell_and_allowed_values() -> None:
    with pytest.raises(InvalidValue) as info:
        PriorityMatrix.from_mapping(_full(medium_high="SEV-9"))
    assert info.value.field == "matrix medium/high"
    assert info.value.allowed == ("SEV-1", "SEV-2", "SEV-3", "SEV-4")
    assert "'SEV-9'" in str(info.value)


def test_bad_impact_key_names_allowed_impacts() -> None:
    raw: dict[str, dict[str, str]] = {**_full(), "huge": {"high": "SEV-1"}}
    with pytest.raises(InvalidValue) as info:
        PriorityMatrix.from_mapping(raw)
    assert info.value.field == "impact"
    assert info.value.allowed == ("high", "medium", "low")


def test_bad_urgency_key_names_allowed_urgencies() -> None:
    raw = _full()
    raw["low"]["whenever"] = "SEV-4"
    with pytest.raises(InvalidValue) as info:
        PriorityMatrix.from_mapping(raw)
    assert info.value.field == "urgency"


def test_row_that_is_not_a_table_is_refused() -> None:
    raw: dict[str, object] = {**_full(), "low": "SEV-4"}
    with pytest.raises(InvalidValue, match="matrix low"):
        PriorityMatrix.from_mapping(raw)  # type: ignore[arg-type]


def test_same_cell_twice_in_two_spellings_is_refused() -> None:
    raw = _full()
    raw["high"]["HIGH "] = "SEV-1"
    with pytest.raises(InvalidValue, match="high/high"):
        PriorityMatrix.from_mapping(raw)


def test_matrix_cannot_be_changed_after_validation() -> None:
    """The matrix keeps its own copy: editing the caller's dict changes nothing."""
    cells = dict(DEFAULT_MATRIX.cells)
    matrix = PriorityMatrix(cells)
    cells[(Impact.HIGH, Urgency.HIGH)] = Severity.SEV4
    assert matrix.severity(Impact.HIGH, Urgency.HIGH) is Severity.SEV1
    assert copy.deepcopy(matrix) == matrix  # still a plain value: copies and pickles
    assert pickle.loads(pickle.dumps(matrix)) == matrix


# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SEV-1", Severity.SEV1),
        ("sev-2", Severity.SEV2),
        ("sev3", Severity.SEV3),
        ("SEV 4", Severity.SEV4),
        (" 2 ", Severity.SEV2),
        (1, Severity.SEV1),
        (Severity.SEV3, Severity.SEV3),
    ],
)
def test_severity_parses_common_spellings(text: object, expected: Severity) -> None:
    assert Severity.of(text) is expected


@pytest.mark.parametrize("bad", ["SEV-0", "SEV-5", "critical", "", 0, 5, True, None, 2.0])
def test_severity_parse_error_names_allowed_values(bad: object) -> None:
    with pytest.raises(InvalidValue) as info:
        Severity.of(bad)
    assert info.value.field == "severity"
    assert "SEV-1, SEV-2, SEV-3, SEV-4" in str(info.value)
    assert isinstance(info.value, DomainError)
    assert isinstance(info.value, ValueError)  # callers that catch ValueError still work


@pytest.mark.parametrize("sev", list(Severity))
def test_severity_code_round_trips(sev: Severity) -> None:
    assert Severity.of(sev.code) is sev
    assert sev.code == f"SEV-{sev.value}"


@pytest.mark.parametrize(("cls", "name"), [(Impact, "impact"), (Urgency, "urgency")])
def test_levels_parse_and_name_allowed_values(cls: type[Impact] | type[Urgency], name: str) -> None:
    assert cls.of(" High ") is cls.HIGH
    assert cls.of("medium") is cls.MEDIUM
    assert cls.of(cls.LOW) is cls.LOW
    with pytest.raises(InvalidValue) as info:
        cls.of("extreme")
    assert info.value.field == name
    assert str(info.value) == f"{name}: 'extreme' is not allowed; use one of high, medium, low"


def test_level_ranks_follow_servicenow_numbering() -> None:
    assert [i.rank for i in (Impact.HIGH, Impact.MEDIUM, Impact.LOW)] == [1, 2, 3]
    assert [u.rank for u in (Urgency.HIGH, Urgency.MEDIUM, Urgency.LOW)] == [1, 2, 3]


@given(st.sampled_from(list(Impact)), st.sampled_from(list(Urgency)))
def test_higher_impact_or_urgency_is_never_less_severe(impact: Impact, urgency: Urgency) -> None:
    """Raising either dimension can only keep or raise the severity (lower number)."""
    sev = DEFAULT_MATRIX.severity(impact, urgency)
    for more in Impact:
        if more.rank < impact.rank:
            assert DEFAULT_MATRIX.severity(more, urgency) <= sev
    for more_u in Urgency:
        if more_u.rank < urgency.rank:
            assert DEFAULT_MATRIX.severity(impact, more_u) <= sev


def test_severity_is_never_shown_by_colour_alone() -> None:
    """Every severity has its own label, shape and glyph, not just a colour."""
    styles = [s.style for s in Severity]
    assert len({s.label for s in styles}) == 4
    assert len({s.shape for s in styles}) == 4
    assert len({s.glyph for s in styles}) == 4
    assert Severity.SEV1.style.shape is Shape.OCTAGON
    assert [s.label for s in Severity] == ["Critical", "High", "Moderate", "Low"]


def test_equal_matrices_hash_alike() -> None:
    rebuilt = PriorityMatrix.from_mapping(_full())
    assert rebuilt == DEFAULT_MATRIX
    assert hash(rebuilt) == hash(DEFAULT_MATRIX)
