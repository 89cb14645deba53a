"""Request Tracker keeps no reviews or problems: those edits are refused, saying so."""

from __future__ import annotations

import pytest

from console.connectors.base import Rejected
from console.connectors.rt.backend import RtBackend


def test_review_and_problem_edits_are_refused_with_what_to_do() -> None:
    rt = object.__new__(RtBackend)  # the refusals need no connection
    with pytest.raises(Rejected, match="keeps no post-incident reviews") as refused:
        rt.write_record("pir_draft", "42", {}, version=None, idempotency_key="k")
    assert refused.value.status == 422
    assert "export pir" in refused.value.message
    with pytest.raises(Rejected, match="no known-error database"):
        rt.apply_workaround("42", "problem-1", "", idempotency_key="k")
    with pytest.raises(Rejected):
        rt.get_record("pir", "42")
