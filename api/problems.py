"""RFC 9457 problem details for every error the API returns."""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from eventsourcing.persistence import InterfaceError, OperationalError
from starlette.exceptions import HTTPException

from domain.catalog import CATALOG
from ledger.append_outcomes import BatchRejected, LedgerBusy
from ledger.faults import UNAVAILABLE, classify

PROBLEM_JSON = "application/problem+json"
APPEND_PATH = "/v1/events"  # the route that appends
_KIND_STATUS = {"forbidden": 403, "conflict": 409, "invalid": 422}
# Why FastAPI could not parse a body (it answers them all with "There was an error parsing the body").
_UNPARSABLE = {
    UnicodeDecodeError: "the body is not valid UTF-8; nothing was appended",
    RecursionError: "the body's JSON is nested too deeply; nothing was appended",
}


def problem(
    status: int,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> JSONResponse:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": f"https://httpstatuses.io/{status}" if status != 422 else "about:blank#validation",
        "title": phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extensions or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    """pydantic's locations, e.g. ("body", "events", 3, "ContactAttempted", "data", "channel"),
    as the contract's {"index": 3, "field": "data.channel"}."""
    result = []
    for item in error.errors():
        loc = list(item["loc"])
        index = None
        if loc[:2] == ["body", "events"] and len(loc) > 2 and isinstance(loc[2], int):
            index, loc = loc[2], loc[3:]
            if loc and loc[0] in CATALOG:
                loc = loc[1:]  # the discriminated union's tag (the event type) is not a field
        elif loc and loc[0] in ("body", "query", "path"):
            loc = loc[1:]
        field = ".".join(f"[{part}]" if isinstance(part, int) else str(part) for part in loc).replace(".[", "[")
        message = item["msg"]
        if item["type"] == "json_invalid":  # FastAPI's location is the character the parser stopped at
            field, message = "body", f"not valid JSON: {item['ctx']['error']} (at character {loc[0]})"
        if item["type"] in ("union_tag_invalid", "union_tag_not_found"):
            field = "type"
            message = "must be an event type of the catalog (see the schema at /docs)"
        result.append({"index": index, "field": field or "body", "message": message})
    return result


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(error)
        return problem(422, f"{len(errors)} invalid field(s); nothing was appended", errors)

    @app.exception_handler(HTTPException)
    async def http(_: Request, error: HTTPException) -> JSONResponse:
        detail = _UNPARSABLE.get(type(error.__cause__), str(error.detail)) if error.status_code == 400 else str(error.detail)
        return problem(error.status_code, detail, headers=error.headers)

    @app.exception_handler(BatchRejected)
    async def rejected(_: Request, error: BatchRejected) -> JSONResponse:
        errors = [{"index": p.index, "field": p.field, "message": p.message} for p in error.problems]
        return problem(_KIND_STATUS[error.kind], f"{errors[0]['message']}; nothing was appended", errors, extensions=error.extensions)

    @app.exception_handler(LedgerBusy)
    async def busy(_: Request, error: LedgerBusy) -> JSONResponse:
        return problem(503, str(error), headers={"Retry-After": "1"})

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def storage_fault(_: Request, error: Exception) -> JSONResponse:
        # Any other operational failure of the database is also worth a retry, as before.
        fault = classify(error) or UNAVAILABLE
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
        return problem(fault.status, fault.detail, headers=headers)
