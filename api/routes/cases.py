"""A case's current state (or as of any past point) and its history with receipts, a page at a time."""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query

from api.deps import AsOfDep, CaseReaderDep, LedgerDep
from api.schemas import NOT_FOUND, PROBLEMS, CaseHistory, CaseView
from domain.case_summary import case_summary
from domain.values import ID_PATTERN
from ledger.case_history import HISTORY_PAGE, HISTORY_PAGE_MAX
from ledger.recorders.rows import BIGINT

router = APIRouter(prefix="/v1/cases", tags=["cases"])

CasePath = Annotated[str, Path(pattern=ID_PATTERN, description="The case id, e.g. FRTF-000123.")]


@router.get("/{case_id}", response_model=CaseView, responses={**PROBLEMS, **NOT_FOUND})
def get_case(
    case_id: CasePath,
    ledger: LedgerDep,
    who: CaseReaderDep,
    point: AsOfDep,
) -> dict[str, Any]:
    """The case as the log stood at `as_of`: only what was recorded by then counts. Personal data
    (names) reads as `[redacted]` once the case was forgotten; every read of it is logged."""
    case = ledger.reader.case(case_id, point.position)
    if case is None:
        raise HTTPException(404, f"there is no case {case_id}" + ("" if point.now else f" as of {point.instant}"))
    state, revealed = ledger.reader.reveal(case_id, case_summary(case))
    if revealed:
        ledger.access_log.record(who, "read case", case_id, f"{revealed} personal values, as of position {point.position}")
    return {**state, "position": point.position}


@router.get("/{case_id}/events", response_model=CaseHistory, responses={**PROBLEMS, **NOT_FOUND})
def get_case_events(
    case_id: CasePath,
    ledger: LedgerDep,
    who: CaseReaderDep,
    after: Annotated[
        int,
        Query(ge=0, le=BIGINT, description="The case version after which to continue: the last page's `next_after`."),
    ] = 0,
    limit: Annotated[
        int, Query(ge=1, le=HISTORY_PAGE_MAX, description=f"How many events the page holds at most (1 to {HISTORY_PAGE_MAX}).")
    ] = HISTORY_PAGE,
) -> dict[str, Any]:
    """The case's events in the order they were recorded, each with its receipt, a page at a time:
    the first `limit` events after version `after`. Read on with `after=next_after` until
    `next_after` is null (the last page). The cursor is the case's own version (1, 2, 3…, as in
    the receipts and `expected_version`), not the log position: a page is one bounded index read
    (a range of versions), and `after=V` always means "after the case's first V events", so a
    reader who reached the end can ask again from its last version for what came since.

    Corrections and retractions stay in the history as they were posted, and each event they
    amend is marked, on whatever page the amendment sits. `corrections` lists the EntryCorrected
    events amending it in the order recorded, each with its position, version, event id, `changes`
    (new values of fields of `data`), corrected `occurred_at` (null if it left it alone) and
    reason: for each field, the last correction that changes it stands. `retraction` is the
    EntryRetracted that withdrew it (position, version, event id, reason), or null.

    Personal data, corrected values included, reads as `[redacted]` once the case was forgotten;
    every page that shows any is written to the access log."""
    page = ledger.reader.history(case_id, after, limit)
    if page is None:
        raise HTTPException(404, f"there is no case {case_id}")
    events, revealed = ledger.reader.reveal(case_id, [item.as_json() for item in page.items])
    if revealed:
        versions = f"versions {page.items[0].receipt.version}-{page.items[-1].receipt.version}"
        ledger.access_log.record(who, "read history", case_id, f"{revealed} personal values in {len(events)} events, {versions}")
    return {"case_id": case_id, "version": page.version, "events": events, "next_after": page.next_after}
