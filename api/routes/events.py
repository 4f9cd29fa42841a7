"""POST /v1/events: agencies append facts, a whole batch or nothing.

Who may post what is checked before the payloads are validated: an organization posting a type it
may never post is told so (403, with what it may post), not first asked to fill in that type's
fields. The check reads the body FastAPI has already parsed (Starlette keeps it on the request),
so a body is parsed once; the route's `batch` parameter still validates it, and documents it in
the OpenAPI schema.

The body is read strictly (FastAPI's "custom APIRoute and Request" pattern), where FastAPI would
guess: without a Content-Type, or as another media type, it validated the body as a string (a 422
about its fields for a header's mistake); it read UTF-16 and UTF-32; a key given twice kept its
last value. Each is now a refusal before anything is decided:

    no Content-Type, one not JSON's, or a charset other than UTF-8    → 415, naming Content-Type
    bytes that are not UTF-8 (a UTF-8 byte order mark is ignored)     → 400 unparsable-body
    a key twice in one object, a number past Python's digit limit    → 400 unparsable-body, saying which
    JSON that does not parse                                          → 422, as before (api/problems.py)
"""

import json
import time
from collections.abc import Callable, Coroutine
from email.message import Message
from email.utils import collapse_rfc2231_value
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.routing import APIRoute

from api.deps import AgencyDep, LedgerDep
from api.problems import APPEND_PATH, FieldRefused
from api.schemas import PROBLEMS, PostedReceipts, Problem
from domain.access import Principal
from domain.canonical_json import read_json
from domain.catalog import CATALOG
from domain.envelope import EventBatch, postings
from domain.permissions import refuse_forbidden

def is_json(content_type: str | None) -> bool:
    """Whether a media type is JSON's: application/json or application/*+json."""
    media = (content_type or "").split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _refuse_other_media(content_type: str | None) -> None:
    """Raises a 415 unless the body is declared as UTF-8 JSON."""
    if content_type is None:
        raise FieldRefused(415, "Content-Type", "the body must be sent with Content-Type: application/json (none was given)")
    if not is_json(content_type):
        raise FieldRefused(415, "Content-Type", f"the body must be sent as application/json, not {content_type[:100]!r}")
    declared = Message()
    declared["content-type"] = content_type
    for name, value in declared.get_params(failobj=[])[1:]:  # every charset given, in any of RFC 2231's spellings
        charset = collapse_rfc2231_value(value)
        if name.lower() == "charset" and charset.strip().lower() not in ("utf-8", "utf8"):
            raise FieldRefused(415, "Content-Type", f"the body must be UTF-8 JSON, not charset {charset[:40]!r}")


class _StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = read_json(await self.body())
        return self._json


class _StrictJSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            _refuse_other_media(request.headers.get("content-type"))
            return await handle(_StrictJSONRequest(request.scope, request.receive))

        return route


router = APIRouter(tags=["events"], route_class=_StrictJSONRoute)

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
