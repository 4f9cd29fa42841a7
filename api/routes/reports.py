"""The compliance report for monitors and auditors, as of any point, under recorded or what-if terms."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from api.auth import allow, get_ledger
from api.routes.cases import as_of_point
from api.schemas import PROBLEMS, ComplianceReport, OverdueObligations
from domain.access import Principal
from domain.organizations import Role
from domain.terms import Terms
from ledger.application import Ledger
from projections.definitions import definitions
from projections.render import MEDIA_TYPES, Format, render
from projections.report import ProjectionBehind, compliance_report, overdue_obligations
from projections.runner import Projection
from projections.what_if import WhatIfRefused, what_if_terms

router = APIRouter(prefix="/v1/reports", tags=["reports"])
Readers = Depends(allow(Role.MONITOR, Role.AUDITOR))


def get_projection(request: Request) -> Projection:
    return request.app.state.projection  # type: ignore[no-any-return]


@router.get(
    "/compliance",
    response_model=ComplianceReport,
    responses={
        **PROBLEMS,
        200: {
            "content": {"text/csv": {}, "text/html": {}, "application/pdf": {}},
            "description": "The report in the format asked for.",
        },
    },
)
def get_compliance_report(
    request: Request,
    ledger: Annotated[Ledger, Depends(get_ledger)],
    projection: Annotated[Projection, Depends(get_projection)],
    _: Annotated[Principal, Readers],
    as_of: Annotated[
        str | None,
        Query(description="A log position, an ISO 8601 instant with offset, or a date (end of that day, UTC). Default: now."),
    ] = None,
    format: Annotated[
        Format, Query(description="json, csv (one table per section), html, or pdf (a court exhibit: tables, charts, definitions).")
    ] = Format.JSON,
    terms: Annotated[
        str | None,
        Query(
            description="What-if terms, nothing recorded: the name of a shipped terms document "
            '(e.g. settlement-2023), or a JSON object such as {"obligations": {"first_outreach": {"days": 45}}} '
            "whose durations (and `effective_date`) replace those in force, validated as TermsAdopted is: "
            "durations of at most 20 years, an effective date from 1990-01-01 to 2100-12-31; a bad one is a 422 "
            "naming the field, e.g. terms.effective_date."
        ),
    ] = None,
) -> Response:
    """Counts by status, deadlines met and missed, elapsed days: the numbers DESIGN.md §3 defines
    (see /v1/reports/definitions), with the checkpoint they were computed at."""
    point = as_of_point(as_of)
    settings = request.app.state.settings
    try:
        what_if = None if terms is None else _what_if(ledger, terms, point)
        report = compliance_report(ledger, projection, point, what_if, settings.report_wait_seconds)
    except ProjectionBehind as behind:
        raise HTTPException(503, f"{behind}; retry shortly", headers={"Retry-After": "2"}) from None
    body = render(report, format, definitions(projection.late_report_days()))
    headers = {}
    if format is Format.PDF:
        headers["Content-Disposition"] = f'inline; filename="compliance-report-{report["checkpoint"]["tree_size"]}.pdf"'
    return Response(body, media_type=MEDIA_TYPES[format], headers=headers)


def _what_if(ledger: Ledger, text: str, point: int | str | None) -> Terms:
    try:
        return what_if_terms(ledger, text, point)
    except WhatIfRefused as refused:
        raise RequestValidationError([{"loc": ("query", *refused.location), "msg": refused.message, "type": "value_error"}]) from None


@router.get("/overdue", response_model=OverdueObligations, responses=PROBLEMS)
def get_overdue(
    ledger: Annotated[Ledger, Depends(get_ledger)],
    projection: Annotated[Projection, Depends(get_projection)],
    request: Request,
    _: Annotated[Principal, Readers],
    as_of: Annotated[str | None, Query(description="As for the compliance report. Default: now.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many, oldest due date first.")] = 100,
) -> dict[str, Any]:
    """The obligation clocks overdue at the as-of point, by case id (pseudonymous; no personal data)."""
    try:
        return overdue_obligations(ledger, projection, as_of_point(as_of), limit, request.app.state.settings.report_wait_seconds)
    except ProjectionBehind as behind:
        raise HTTPException(503, f"{behind}; retry shortly", headers={"Retry-After": "2"}) from None


@router.get("/definitions", responses=PROBLEMS)
def get_definitions(
    projection: Annotated[Projection, Depends(get_projection)],
    _: Annotated[Principal, Readers],
) -> dict[str, Any]:
    """What every number of the compliance report means, keyed by its JSON path."""
    return {"definitions": definitions(projection.late_report_days())}

