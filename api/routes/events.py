"""POST /v1/events: agencies append facts, a whole batch or nothing.

Who may post what is checked before the payloads are validated: an organization posting a type it
may never post is told so (403, with what it may post), not first asked to fill in that type's
fields. The check reads the body FastAPI has already parsed (Starlette keeps it on the request),
so a body is parsed once; the route's `batch` parameter still validates it, and documents it in
the OpenAPI schema.
"""

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from api.deps import AgencyDep, LedgerDep
from api.json_body import JSONBodyRoute, is_json
from api.problems import APPEND_PATH
from api.schemas import PROBLEMS, PostedReceipts, Problem
from domain.access import Principal
from domain.catalog import CATALOG
from domain.envelope import EventBatch, postings
from domain.permissions import refuse_forbidden

router = APIRouter(tags=["events"], route_class=JSONBodyRoute)  # read strictly: api/json_body.py

_FORBIDDEN = {403: {"model": Problem, "content": {"application/problem+json": {}}, "description": (
    "The token is not an agency's, or the batch holds a type its organization may not post: `errors` "
    "names each such event by its index, and `may_post` lists the types the organization may post. "
    "Checked before the payloads are validated. Nothing was appended."
)}}
_CONFLICT = {409: {"model": Problem, "content": {"application/problem+json": {}}, "description": (
    "A stale expected_version, an event_id reused for different content, or a rule of the case "
    "(e.g. no SeparationIdentified yet). Nothing was appended."
)}}
_TOO_LARGE = {413: {"model": Problem, "content": {"application/problem+json": {}}, "description": "Body too large."}}
_UNPARSABLE = {400: {"model": Problem, "content": {"application/problem+json": {}}, "description": (
    "The body cannot be parsed: not UTF-8, JSON nested too deeply, a key given twice in one object, or a "
    "number too long to read. Nothing was appended."
)}}
_MEDIA = {415: {"model": Problem, "content": {"application/problem+json": {}}, "description": (
    "The body is not declared as UTF-8 JSON (Content-Type application/json). Nothing was appended."
)}}
_FULL = {507: {"model": Problem, "content": {"application/problem+json": {}}, "description": (
    "The database has no room left (disk full). Nothing was appended; retrying will not help until "
    "the operator makes room."
)}}


async def _may_post_every_type(request: Request, who: AgencyDep) -> Principal:
    """The agency's principal, once its organization may post the type of every envelope the body
    holds; run as a dependency, before FastAPI validates the body. A body without a readable
    `events` list, or an envelope without a known `type`, is left to validation (422)."""
    if await request.body() and is_json(request.headers.get("content-type")):
        body: Any = await request.json()  # parsed once, by FastAPI, before any dependency ran
        events = body.get("events") if isinstance(body, dict) else None
        if isinstance(events, list):
            typed = ((i, e.get("type")) for i, e in enumerate(events) if isinstance(e, dict))
            refuse_forbidden(who, ((i, t) for i, t in typed if _known_type(t)))
    return who


def _known_type(value: Any) -> bool:
    return isinstance(value, str) and value in CATALOG


@router.post(
    APPEND_PATH,
    status_code=201,
    response_model=PostedReceipts,
    responses={
        200: {"model": PostedReceipts, "description": "Every event was already in the log: the original receipts."},
        **_UNPARSABLE,
        **_MEDIA,
        **PROBLEMS,
        **_FORBIDDEN,
        **_CONFLICT,
        **_TOO_LARGE,
        **_FULL,
    },
    summary="Append a batch of 1–1000 events, all or nothing (or try it: dry_run)",
)
def post_events(
    request: Request,
    batch: EventBatch,
    who: Annotated[Principal, Depends(_may_post_every_type)],
    ledger: LedgerDep,
    dry_run: Annotated[
        bool,
        Query(
            description="Decide the batch as a real post would, on the log as it is now, and answer as it "
            "would (the same status; receipts without position, recorded_at and leaf_hash for the events it "
            "would append; or the same problems), writing nothing at all."
        ),
    ] = False,
) -> Response:
    """Which types an organization may post, their fields and an example of each: `GET /v1/catalog`.
    Each envelope's `event_id` is its idempotency key: posting it again returns the original
    receipt (200) and appends nothing; the same `event_id` with different content is a 409.
    A receipt's `warnings` name sequences the rules allow but a monitor would question (travel
    arranged before any parole decision, say); the report counts them under `data_quality`."""
    started = time.perf_counter()
    result = ledger.appender.append(postings(batch), who, dry_run=dry_run)
    if not dry_run:
        request.app.state.metrics.appended(result, who.organization.value, time.perf_counter() - started)
    # Rendered here: the receipts are ours, so FastAPI's re-validation of up to 1000 of them
    # against the response model would only cost time (the model still documents them).
    body = json.dumps({"receipts": [receipt.posted_json() for receipt in result.receipts]}, separators=(",", ":"))
    return Response(body, status_code=201 if result.appended else 200, media_type="application/json")
