"""One way to tell a pydantic validation error (console/wire/errors.py).

The server's request errors, the directory's notices, the matrix CSV import and
the demo data loader all use it; their own tests pin the sentences they show.
"""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError, field_validator

from console.wire.errors import Problem, field_path, first_problem, more_text, problems


class Hop(BaseModel):
    after: int

    @field_validator("after")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("must be more than 0 minutes")
        return value


class Path(BaseModel):
    name: str
    hops: list[Hop]


def error_of(data: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Path.model_validate(data)
    return caught.value


def test_paths_dotted_and_as_json() -> None:
    assert field_path(("hops", 0, "after")) == "hops.0.after"
    assert field_path(("hops", 0, "after"), "json") == "hops[0].after"
    assert field_path(()) == ""


def test_each_problem_named_by_its_field_without_the_value_error_prefix() -> None:
    found = problems(error_of({"hops": [{"after": 0}]}))
    assert [str(p) for p in found] == [
        "name: Field required",
        "hops.0.after: must be more than 0 minutes",
    ]
    assert [p.kind for p in found] == ["missing", "value_error"]
    assert problems(error_of({"hops": [{"after": 0}]}), style="json")[1].where == "hops[0].after"


def test_a_shared_leading_part_can_be_skipped() -> None:
    errors = [{"type": "missing", "loc": ("body", "name"), "msg": "Field required"}]
    assert problems(errors, skip="body") == [
        Problem("name", "Field required", "missing", ("body", "name"))
    ]
    assert str(Problem("", "start must be before end")) == "start must be before end"


def test_the_first_problem_and_how_many_more() -> None:
    assert first_problem(error_of({"hops": [{"after": 0}]})) == (
        "name: Field required (and 1 more problems)"
    )
    assert first_problem(error_of({"name": "x", "hops": [{"after": 0}]}), style="json") == (
        "hops[0].after: must be more than 0 minutes"
    )
    assert more_text(0) == ""
