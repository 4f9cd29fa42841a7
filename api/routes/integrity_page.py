"""The auditors' integrity page (/audit/integrity): the latest signed checkpoint, whether the log
was verified up to it (by whom, when, how long it took), and a button that verifies what was
added since the last check (ledger/incremental_verify.py), showing the first bad position, its
event and its case if anything was altered.

The button is a POST form with the session's CSRF secret, as signing out is; the page it leads
back to (303) shows the outcome, which is stored with the others, so reloading runs nothing again.
"""

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import LedgerDep, SessionsDep
from api.page_route import PageRoute
from api.pages import message, page
from api.routes.auditor_pages import auditor
from api.sessions import csrf_matches

router = APIRouter(include_in_schema=False, route_class=PageRoute)  # errors become pages (api/page_route.py)
_NAMED_CASE = re.compile(r"case ([A-Za-z0-9][A-Za-z0-9_-]{0,63})\)$")


@router.get("/audit/integrity")
def integrity(
    request: Request,
    sessions: SessionsDep,
    ledger: LedgerDep,
) -> Response:
    session, who = auditor(request, sessions, ledger)
    checkpoint, size = ledger.signed_heads.last_signed(), ledger.reader.tree_size()
    verification, verified = ledger.integrity.latest_verification(), ledger.integrity.last_verified()
    case = _NAMED_CASE.search(verification.problem) if verification is not None and verification.problem else None
    return page(
        request,
        "audit_integrity.html",
        200,
        who=who,
        session=session,
        current="/audit/integrity",
        checkpoint=checkpoint,
        verification=verification,
        verified=verified,
        log_size=size,
        up_to_date=checkpoint is not None and verified is not None and verified.tree_size == checkpoint.tree_size,
        bad_case=case.group(1) if case and case.group(1) != "unknown" else None,
    )


@router.post("/audit/integrity")
def verify_now(
    request: Request,
    sessions: SessionsDep,
    ledger: LedgerDep,
    csrf: Annotated[str, Form()] = "",
    scope: Annotated[str, Form()] = "since-last",
) -> Response:
    """Verifies from the last verified size (scope `since-last`) or from position 1 (`whole`) to
    the current checkpoint (the tree head is signed first if the log grew since the last one),
    stores the outcome and shows it."""
    if not csrf_matches(sessions.read(request), csrf):
        return message(
            request, "Not verified", "The form's security token is missing or does not match this session. Reload the integrity page and try again.", 400
        )
    _, who = auditor(request, sessions, ledger)
    # With the log's own key and name, as its checkpoints were signed.
    ledger.integrity.verify_since_last(who.name, whole=scope == "whole")
    return RedirectResponse("/audit/integrity", 303)
