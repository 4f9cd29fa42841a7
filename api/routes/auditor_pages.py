"""The auditors' own pages: case lookup and the export download (here), integrity and the access
log (their sibling modules), all behind the dashboard's sign-in and for auditor tokens only.

An auditor signing in lands on the case lookup; a monitor who finds one of these addresses gets a
403 page (monitors never see personal data, and these pages show it). Each page that shows a
case's personal data is a line in the access log, as the API's reads are (GET
/v1/cases/{id}/events): the same history (ledger/case_history.py), the same receipts, the same
decryption, under the signed-in token's name.
"""

import json
import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from api.deps import LedgerDep, SessionsDep
from api.page_route import PageRefused, PageRoute
from api.pages import SECURITY_HEADERS, page
from api.routes.dashboard import signed_in
from api.sessions import Session, Sessions
from domain.access import Principal
from domain.organizations import Role
from domain.values import ID_PATTERN
from ledger import export
from ledger.application import Ledger
from ledger.recorders.rows import BIGINT
from ledger.tar_stream import tar_gz_stream

router = APIRouter(include_in_schema=False, route_class=PageRoute)  # errors become pages (api/page_route.py)

CASE_PAGE = 50  # events a page of the case lookup shows
_CASE_ID = re.compile(ID_PATTERN)


def auditor(request: Request, sessions: Sessions, ledger: Ledger) -> tuple[Session, Principal]:
    """The signed-in auditor and their session; raises for the page to show instead: the sign-in
    page (SignInFirst: no live session) or a 403 (PageRefused: signed in, but not as an auditor)."""
    found = signed_in(request, sessions, ledger)
    _, who = found
    if who.role is not Role.AUDITOR:
        raise PageRefused("For auditors only", f"This page is for auditor tokens; {who.name} is a {who.role.value} token.", 403)
    return found


@router.get("/audit/cases")
def case_lookup(
    request: Request,
    sessions: SessionsDep,
    ledger: LedgerDep,
    case_id: Annotated[str, Query()] = "",
    after: Annotated[str, Query()] = "0",
) -> Response:
    """A case's history, a page at a time, each event with its receipt and its amendments marked;
    personal data in clear (or `[redacted]` once forgotten)."""
    session, who = auditor(request, sessions, ledger)
    context: dict[str, Any] = {"who": who, "session": session, "current": "/audit/cases", "case_id": case_id.strip(), "errors": {}}
    case_id = context["case_id"]
    if not case_id:
        return page(request, "audit_cases.html", 200, **context)
    if not _CASE_ID.fullmatch(case_id):
        context["errors"]["case_id"] = "A case id is 1 to 64 letters, digits, dashes and underscores, e.g. FRTF-000123."
    if not after.isdigit() or int(after) > BIGINT:
        context["errors"]["after"] = "The page's start (after) is a case version: a whole number, 0 or more."
    if context["errors"]:
        return page(request, "audit_cases.html", 422, **context)
    history = ledger.reader.history(case_id, int(after), CASE_PAGE)
    if history is None:
        context["errors"]["case_id"] = f"There is no case {case_id} in the log."
        return page(request, "audit_cases.html", 404, **context)
    events, revealed = ledger.reader.reveal(case_id, [item.as_json() for item in history.items])
    if history.items:
        versions = f"versions {history.items[0].receipt.version}-{history.items[-1].receipt.version}"
        ledger.access_log.record(who, "read history", case_id, f"auditor page: {revealed} personal values in {len(events)} events, {versions}")
    context.update(
        history=history,
        events=[_shown(event) for event in events],
        next_page=None if history.next_after is None else "/audit/cases?" + urlencode({"case_id": case_id, "after": history.next_after}),
        first_page=None if int(after) == 0 else "/audit/cases?" + urlencode({"case_id": case_id}),
    )
    return page(request, "audit_cases.html", 200, **context)


def _shown(event: dict[str, Any]) -> dict[str, Any]:
    """The event as the page lays it out: its data as indented JSON text (escaped by the template)."""
    return {**event, "data_text": json.dumps(event["data"], indent=2, ensure_ascii=False, sort_keys=True)}


@router.get("/audit/export.tar.gz")
def export_download(request: Request, sessions: SessionsDep, ledger: LedgerDep) -> Response:
    """The verifiable bundle of the whole log (the files `ledger export` writes) as a streamed
    .tar.gz (ledger/tar_stream.py): untar it and run its verify.py. Recorded in the access log."""
    _, who = auditor(request, sessions, ledger)
    snap = export.snapshot(ledger)  # signs the tree head if no checkpoint covers it
    ledger.access_log.record(who, "export", None, f"bundle of tree size {snap.tree_size} as .tar.gz, from the auditors' page")
    return StreamingResponse(
        tar_gz_stream(ledger, snap),
        media_type="application/gzip",
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{snap.name}.tar.gz"'},
    )
