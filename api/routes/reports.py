"""The compliance report for monitors and auditors, as of any point, under recorded or what-if terms."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from api.content_security import REPORT_HTML_HEADERS
from api.deps import AsOfDep, LedgerDep, ProjectionDep, ReportReaderDep
from api.schemas import PROBLEMS, ComplianceReport, OverdueObligations
from domain.as_of import Point
from projections.definitions import definitions
from projections.render import FORMAT_HELP, MEDIA_TYPES, Format, render
from projections.report import OverdueCursor, compliance_report, overdue_obligations
from projections.what_if import what_if_terms

router = APIRouter(prefix="/v1/reports", tags=["reports"])



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
    ledger: LedgerDep,
    projection: ProjectionDep,
    _: ReportReaderDep,
    point: AsOfDep,
    format: Annotated[Format, Query(description=FORMAT_HELP)] = Format.JSON,
    terms: Annotated[
        str | None,
        Query(
            description="What-if terms, nothing recorded: the name of a shipped terms document "
            "(e.g. settlement-2023), applied as written (the extensions and interruptions recorded on the log "
            'do not apply); or a JSON object such as {"obligations": {"first_outreach": {"days": 45}}}, with '
            "only `obligations` and an optional `effective_date`, whose durations (and effective date) replace "
            "those in force at the report's point: an obligation it restates loses its recorded extensions (its "
            "deadline is stated whole), the others keep theirs, and recorded interruptions still apply. Its values "
            "are checked as a TermsAdopted's: durations of at most 20 years, an effective date from 1990-01-01 to "
            "2100-12-31; a bad one is a 422 naming the field, e.g. terms.effective_date."
        ),
    ] = None,
) -> Response:
    """Counts by status, deadlines met and missed, elapsed days, each defined at
    /v1/reports/definitions (and in the repository's docs/definitions.md), with the point of the log they were computed at (its `as_of`
    instant and its checkpoint's tree size). The `Ledger-As-Of` header says whether that point was
    resolved from now (or today's date)."""
    settings = request.app.state.settings
    what_if = None if terms is None else what_if_terms(ledger, terms, point.position)
    report = compliance_report(ledger, projection, point, what_if, settings.report_wait_seconds)
    body = render(report, format, definitions(projection.late_report_days()))
    headers = as_of_headers(point)
    if format is Format.PDF:
        headers["Content-Disposition"] = f'inline; filename="compliance-report-{report["checkpoint"]["tree_size"]}.pdf"'
    if format is Format.HTML:
        headers |= REPORT_HTML_HEADERS
    return Response(body, media_type=MEDIA_TYPES[format], headers=headers)


def as_of_headers(point: Point) -> dict[str, str]:
    """The resolved point, outside the report's bytes (which must not depend on how it was asked for)."""
    return {"Ledger-As-Of": f"{point.instant}; position={point.position}" + ("; resolved-from=now" if point.now else "")}


@router.get("/overdue", response_model=OverdueObligations, response_model_exclude_unset=True, responses=PROBLEMS)
def get_overdue(
    ledger: LedgerDep,
    projection: ProjectionDep,
    request: Request,
    _: ReportReaderDep,
    point: AsOfDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many, overdue or breached longest first.")] = 100,
    after: Annotated[
        str | None,
        Query(
            max_length=100,
            description="The `next_after` of the page before (a cursor: the list goes on after that row, whatever "
            "was recorded since). Give the same `as_of` for every page, e.g. the first page's tree_size.",
        ),
    ] = None,
) -> dict[str, Any]:
    """The deadline clocks overdue and the duration clocks breached at the as-of point, by case id
    (pseudonymous; no personal data), overdue or breached longest first, a page at a time."""
    cursor = None if after is None else OverdueCursor.parse(after)
    return overdue_obligations(ledger, projection, point, limit, request.app.state.settings.report_wait_seconds, after=cursor)


@router.get("/definitions", responses=PROBLEMS)
def get_definitions(
    projection: ProjectionDep,
    _: ReportReaderDep,
) -> dict[str, Any]:
    """What every number of the compliance report means, keyed by its JSON path."""
    return {"definitions": definitions(projection.late_report_days())}

