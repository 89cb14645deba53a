"""``GET /v1/metrics``: MTTA, MTTR, SLA compliance, FCR, reopen rate, CSAT and volume.

Read-only and open to every role (a viewer may read the figures; an
individual's own figures are ``group_by=assignee``). The definitions are in
docs/metrics.md and :data:`console.domain.metrics.DEFINITIONS`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from console.domain import metrics as m
from console.server.core.errors import ApiError, responses
from console.server.deps import Context, ReadSession, Viewer
from console.server.routes.common import json_response
from console.server.services import metrics as service

router = APIRouter(prefix="/v1", tags=["metrics"])


class Durations(BaseModel):
    """Seconds: the mean (to 0.1 s), and the nearest-rank median and p90."""

    mean: float | None
    median: int | None
    p90: int | None


class MetricsFigures(BaseModel):
    count: int = Field(description=m.DEFINITIONS["count"])
    acknowledged: int = Field(description=m.DEFINITIONS["acknowledged"])
    resolved: int = Field(description=m.DEFINITIONS["resolved"])
    mtta_s: Durations = Field(description=m.DEFINITIONS["mtta_s"])
    mttr_s: Durations = Field(description=m.DEFINITIONS["mttr_s"])
    mttr_business_s: Durations = Field(description=m.DEFINITIONS["mttr_business_s"])
    response_sla_met: float | None = Field(description=m.DEFINITIONS["response_sla_met"])
    resolution_sla_met: float | None = Field(description=m.DEFINITIONS["resolution_sla_met"])
    fcr: float | None = Field(description=m.DEFINITIONS["fcr"])
    reopen_rate: float | None = Field(description=m.DEFINITIONS["reopen_rate"])
    csat: float | None = Field(description=m.DEFINITIONS["csat"])


class MetricsGroup(MetricsFigures):
    key: str | None = Field(
        description="the group: SEV-1…SEV-4, a team, service, category, source or assignee "
        "(null: none set), or a period (2026-11-30 for a day or a week's Monday, 2026-11)"
    )


class BacklogBucket(BaseModel):
    bucket: str
    count: int


class Sources(BaseModel):
    user_reported: int
    monitoring: int
    ratio: float | None


class MetricsWarning(BaseModel):
    code: str
    value: float
    threshold: float
    message: str


class MetricsReport(BaseModel):
    """The metrics of one window; ``noc-console metrics --format json`` prints the same shape."""

    from_: str = Field(alias="from")
    to: str
    group_by: str
    period: str
    groups: list[MetricsGroup]
    total: MetricsFigures
    backlog: list[BacklogBucket] = Field(description=m.DEFINITIONS["backlog"])
    sources: Sources = Field(description=m.DEFINITIONS["sources"])
    warnings: list[MetricsWarning] = Field(description=m.DEFINITIONS["sev1_share"])


GroupBy = Literal["severity", "team", "service", "category", "source", "assignee", "period"]


@router.get(
    "/metrics",
    response_model=MetricsReport,
    summary="Service-desk metrics",
    responses=responses(400, 401, 422),
)
def metrics(
    session: ReadSession,
    context: Context,
    _principal: Viewer,
    from_: Annotated[
        str,
        Query(
            alias="from",
            max_length=40,
            description="window start, inclusive: YYYY-MM-DD (midnight UTC) or ISO timestamp",
        ),
    ],
    to: Annotated[
        str, Query(max_length=40, description="window end, exclusive; at most 366 days on")
    ],
    group_by: Annotated[GroupBy, Query()] = "severity",
    period: Annotated[
        Literal["day", "week", "month"], Query(description="for group_by=period")
    ] = "week",
    sev1_threshold: Annotated[
        float, Query(ge=0, le=1, description="warn above this SEV-1 share")
    ] = m.DEFAULT_SEV1_THRESHOLD,
) -> Response:
    """The window's figures per group and in total, the open backlog by age, and warnings.

    A window selects incidents by ``opened_at`` in ``[from, to)``. Shares are
    fractions 0–1, null where there is nothing to measure.
    """
    try:
        window = m.make_window(from_, to, group_by, period)
    except m.MetricsInputError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None
    answer = service.compute(
        session,
        window,
        now=context.clock(),
        sev1_threshold=sev1_threshold,
        calendar=context.sla.calendar,
    )
    return json_response(answer)
