"""RFC 9457 problem details for every error the API returns, under one `type` scheme.

Every problem's `type` is `urn:ms-l-ledger:problem:<name>`, one name per kind of problem
(PROBLEM_TYPES): the same wherever the ledger is served from, so a client matches on it without
knowing the deployment's host, and nothing about it invites a client to fetch it. The README and
the OpenAPI description list the names.

Only a refused write says that "nothing was appended": a batch posted to the log
(`POST /v1/events`). A read refused for bad input, or for a database that is busy, appended
nothing either, but saying so there would only make a reader wonder what it could have appended.
"""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import Scope

from api.errors import answer_for, field_of
from domain.canonical_json import UnreadableJSON
from domain.catalog import CATALOG
from domain.errors import (
    BatchRejected,
    InvalidInput,
    LedgerBusy,
    LedgerError,
    Unavailable,
)
from ledger.faults import UNAVAILABLE, classify

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:ms-l-ledger:problem:"
# status → (name, title): the kinds of problem the ledger answers with. A title is the kind's,
# the same for every occurrence (RFC 9457 §3.1.3); `detail` says what happened this time.
PROBLEM_TYPES: Mapping[int, tuple[str, str]] = {
    400: ("unparsable-body", "The body cannot be parsed"),
    401: ("unauthenticated", "No valid bearer token"),
    403: ("forbidden", "Not permitted to this token"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    408: ("request-timeout", "The request did not arrive in time"),
    409: ("conflict", "Conflicts with what the log holds"),
    413: ("body-too-large", "The body is too large"),
    415: ("unsupported-media-type", "The body is not UTF-8 JSON"),
    422: ("invalid", "Invalid input"),
    431: ("headers-too-large", "The request's head is too large"),
    500: ("internal", "The ledger failed to answer"),
    503: ("unavailable", "Temporarily unavailable"),
    507: ("storage-full", "The database has no room left"),
}
# The route that appends: the only one whose refusals say that nothing was appended.
APPEND_PATH = "/v1/events"
NOTHING_APPENDED = "nothing was appended"
# Why FastAPI could not parse a body (it answers them all with "There was an error parsing the body").
_UNPARSABLE = {
    UnicodeDecodeError: "the body is not valid UTF-8",
    RecursionError: "the body's JSON is nested too deeply",
}


class FieldRefused(HTTPException):
    """A refusal other than invalid input (a 404, a 409) that one query parameter's value caused:
    the problem names that parameter in `errors`, as a 422 does, so a client can tell which."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(status, message)
        self.errors = [{"index": None, "field": field, "message": message}]


def problem_type(status: int) -> str:
    """The `type` of a problem answered with `status` (a status the table lacks: `http-<status>`)."""
    name, _ = PROBLEM_TYPES.get(status, (f"http-{status}", ""))
    return PROBLEM_TYPE_PREFIX + name


def problem(
    status: int,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> JSONResponse:
    _, title = PROBLEM_TYPES.get(status, ("", HTTPStatus(status).phrase))
    body: dict[str, Any] = {"type": problem_type(status), "title": title, "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    body.update(extensions or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def appends(scope: Scope) -> bool:
    """Whether the request posts a batch to the log."""
    return scope.get("method") == "POST" and scope.get("path") == APPEND_PATH


def refused_write(scope: Scope, detail: str) -> str:
    """`detail`, saying that nothing was appended if the request was a batch posted to the log."""
    return f"{detail}; {NOTHING_APPENDED}" if appends(scope) else detail


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


def answer(scope: Scope, error: LedgerError) -> JSONResponse:
    """The problem an error of the tree answers with, by the one table (api/errors.py)."""
    status = answer_for(error).status
    if isinstance(error, BatchRejected):
        errors = [{"index": p.index, "field": p.field, "message": p.message} for p in error.problems]
        return problem(status, f"{errors[0]['message']}; {NOTHING_APPENDED}", errors, extensions=error.extensions)
    if isinstance(error, InvalidInput):
        errors = [{"index": None, "field": field_of(error) or "body", "message": getattr(error, "message", str(error))}]
        return problem(status, refused_write(scope, f"{len(errors)} invalid field(s)"), errors)
    if isinstance(error, LedgerBusy):
        return problem(status, str(error), headers={"Retry-After": str(error.retry_after_seconds)})
    if isinstance(error, Unavailable):
        return problem(status, f"{error}; retry shortly", headers={"Retry-After": str(error.retry_after_seconds)})
    return problem(status, str(error))


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(error)
        return problem(422, refused_write(request.scope, f"{len(errors)} invalid field(s)"), errors)

    @app.exception_handler(HTTPException)
    async def http(request: Request, error: HTTPException) -> JSONResponse:
        detail = str(error.detail)
        if error.status_code == 400:
            cause = error.__cause__
            if isinstance(cause, UnreadableJSON):
                said = str(cause).replace("the JSON", "the body's JSON", 1)
            else:
                said = _UNPARSABLE.get(type(cause), detail)
            detail = refused_write(request.scope, said)
        elif error.status_code == 415:
            detail = refused_write(request.scope, detail)
        return problem(error.status_code, detail, getattr(error, "errors", None), headers=error.headers)

    @app.exception_handler(LedgerError)
    async def answered(request: Request, error: LedgerError) -> JSONResponse:
        return answer(request.scope, error)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def storage_fault(request: Request, error: Exception) -> JSONResponse:
        # Any other operational failure of the database is also worth a retry, as before.
        fault = classify(error) or UNAVAILABLE
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
        return problem(fault.status, fault.detail_for(appending=appends(request.scope)), headers=headers)
