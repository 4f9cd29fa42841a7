"""POST /v1/events: agencies append facts, a whole batch or nothing."""

import json
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from api.auth import allow, get_ledger
from api.schemas import PROBLEMS, Problem, Receipts
from domain.access import Principal
from domain.envelope import EventBatch, postings
from domain.organizations import Role
from ledger.application import Ledger

router = APIRouter(prefix="/v1", tags=["events"])

_CONFLICT = {409: {"model": Problem, "content": {"application/problem+json": {}}, "description": (
    "A stale expected_version, an event_id reused for different content, or a rule of the case "
    "(e.g. no SeparationIdentified yet). Nothing was appended."
)}}
_TOO_LARGE = {413: {"model": Problem, "content": {"application/problem+json": {}}, "description": "Body too large."}}
_UNPARSABLE = {400: {"model": Problem, "content": {"application/problem+json": {}}, "description": (
    "The body cannot be parsed: not UTF-8, or JSON nested too deeply. Nothing was appended."
)}}
_FULL = {507: {"model": Problem, "content": {"application/problem+json": {}}, "description": (
    "The database has no room left (disk full). Nothing was appended; retrying will not help until "
    "the operator makes room."
)}}


@router.post(
    "/events",
    status_code=201,
    response_model=Receipts,
    responses={
        200: {"model": Receipts, "description": "Every event was already in the log: the original receipts."},
        **_UNPARSABLE,
        **PROBLEMS,
        **_CONFLICT,
        **_TOO_LARGE,
        **_FULL,
    },
    summary="Append a batch of 1–1000 events, all or nothing",
)
def post_events(
    request: Request,
    batch: EventBatch,
    who: Annotated[Principal, Depends(allow(Role.AGENCY))],
    ledger: Annotated[Ledger, Depends(get_ledger)],
) -> Response:
    """Each envelope's `event_id` is its idempotency key: posting it again returns the original
    receipt (200) and appends nothing; the same `event_id` with different content is a 409."""
    started = time.perf_counter()
    result = ledger.append(postings(batch), who)
    request.app.state.metrics.appended(result, who.organization.value, time.perf_counter() - started)
    # Rendered here: the receipts are ours, so FastAPI's re-validation of up to 1000 of them
    # against the response model would only cost time (the model still documents them).
    body = json.dumps({"receipts": [receipt.as_json() for receipt in result.receipts]}, separators=(",", ":"))
    return Response(body, status_code=201 if result.appended else 200, media_type="application/json")
