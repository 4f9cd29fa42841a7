"""The auditors' access log page (/audit/access-log) and its CSV download (/audit/access-log.csv):
who read personal data, exported the log or forgot a case, newest first, filtered by
organization, token, action, case and a range of days (ledger/access_filter.py), a page at a
time by keyset (`before` the last id shown, so lines written meanwhile never shift a page).

A bad filter is shown on the form, naming the field (422), and nothing is logged; a good view or
download is itself a line of the access log. The download has the same filters and every line
that meets them, oldest first, streamed a thousand at a time (never the whole log in memory), as
the ledger's other CSVs are written (projections/spreadsheet_csv.py: a BOM, no formula).
"""

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import ValidationError

from api.deps import LedgerDep, SessionsDep
from api.page_route import PageRoute
from api.pages import SECURITY_HEADERS, page
from api.routes.auditor_pages import auditor
from ledger.access_filter import ACTIONS, ORGANIZATIONS, AccessLogFilter
from ledger.application import Ledger
from ledger.recorders.rows import BIGINT
from projections.spreadsheet_csv import BOM, csv_bytes

router = APIRouter(include_in_schema=False, route_class=PageRoute)  # errors become pages (api/page_route.py)

LINES_ON_PAGE = 50
DOWNLOAD_PAGE = 1000
COLUMNS = ("id", "at", "token", "organization", "role", "action", "case_id", "detail")


def read_filters(request: Request) -> tuple[AccessLogFilter | None, dict[str, str]]:
    """The filters of the query, or None and the error of each field (by its name in the form)."""
    try:
        return AccessLogFilter.model_validate(dict(request.query_params)), {}
    except ValidationError as invalid:
        errors: dict[str, str] = {}
        for error in invalid.errors():
            field = str(error["loc"][0]) if error["loc"] else ("to" if "last day" in error["msg"] else "filters")
            errors.setdefault(field, error["msg"].removeprefix("Value error, "))
        return None, errors


@router.get("/audit/access-log")
def access_log_page(request: Request, sessions: SessionsDep, ledger: LedgerDep) -> Response:
    session, who = auditor(request, sessions, ledger)
    filters, errors = read_filters(request)
    before_text = request.query_params.get("before", "").strip()
    if before_text and (not before_text.isdigit() or int(before_text) > BIGINT):
        errors["before"] = "The page's start (before) is a line's id: a whole number."
    context: dict[str, Any] = {
        "who": who, "session": session, "current": "/audit/access-log", "form": dict(request.query_params),
        "errors": errors, "actions": ACTIONS, "organizations": ORGANIZATIONS,
    }
    if filters is None or errors:
        return page(request, "audit_access_log.html", 422, **context)
    before = int(before_text) if before_text else BIGINT
    lines = ledger.access_log.filtered(filters.conditions(), LINES_ON_PAGE + 1, before=before)
    more = len(lines) > LINES_ON_PAGE
    lines = lines[:LINES_ON_PAGE]
    ledger.access_log.record(who, "view access log", filters.case_id, f"{filters.described()}; {len(lines)} lines shown")
    context.update(
        lines=lines,
        next_page=f"/audit/access-log?{urlencode({**filters.query(), 'before': lines[-1]['id']})}" if more else None,
        first_page=f"/audit/access-log?{urlencode(filters.query())}" if before_text else None,
        download=f"/audit/access-log.csv?{urlencode(filters.query())}",
    )
    return page(request, "audit_access_log.html", 200, **context)


@router.get("/audit/access-log.csv")
def access_log_download(request: Request, sessions: SessionsDep, ledger: LedgerDep) -> Response:
    session, who = auditor(request, sessions, ledger)
    filters, errors = read_filters(request)
    if filters is None:
        context = {"who": who, "session": session, "current": "/audit/access-log", "form": dict(request.query_params),
                   "errors": errors, "actions": ACTIONS, "organizations": ORGANIZATIONS}
        return page(request, "audit_access_log.html", 422, **context)
    # Logged first: the download holds its own line, and a download broken off is still a download.
    last = _record_download(ledger, who, filters)
    return StreamingResponse(
        _csv(ledger, filters, last),
        media_type="text/csv; charset=utf-8",
        headers={**SECURITY_HEADERS, "Content-Disposition": 'attachment; filename="access-log.csv"'},
    )


def _record_download(ledger: Ledger, who: Any, filters: AccessLogFilter) -> int:
    """Writes the download's line; returns the id of the last line as it then stood, where the file ends."""
    ledger.access_log.record(who, "download access log", filters.case_id, f"{filters.described()}; as CSV")
    newest = ledger.access_log.filtered([], 1, before=BIGINT)
    return int(newest[0]["id"]) if newest else 0


def _csv(ledger: Ledger, filters: AccessLogFilter, last: int) -> Iterator[bytes]:
    yield BOM + csv_bytes([COLUMNS])
    after, conditions = 0, [*filters.conditions(), ("id <= %s", last)]
    while lines := ledger.access_log.filtered(conditions, DOWNLOAD_PAGE, after=after):
        yield csv_bytes([line[column] for column in COLUMNS] for line in lines)
        after = int(lines[-1]["id"])
