"""A case's current state (or as of any past point) and its full history with receipts."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.exceptions import RequestValidationError

from api.auth import allow, get_ledger
from api.deps import AsOfDep
from api.schemas import NOT_FOUND, PROBLEMS, CaseHistory, CaseState
from domain.access import Principal
from domain.case_state import case_state
from domain.organizations import Role
from domain.values import ID_PATTERN
from ledger.application import Ledger

router = APIRouter(prefix="/v1/cases", tags=["cases"])

CasePath = Annotated[str, Path(pattern=ID_PATTERN, description="The case id, e.g. FRTF-000123.")]
Readers = Depends(allow(Role.AGENCY, Role.AUDITOR))


@router.get("/{case_id}", response_model=CaseState, responses={**PROBLEMS, **NOT_FOUND})
def get_case(
    case_id: CasePath,
    ledger: Annotated[Ledger, Depends(get_ledger)],
    who: Annotated[Principal, Readers],
    point: AsOfDep,
) -> dict[str, Any]:
    """The case as the log stood at `as_of`: only what was recorded by then counts. Personal data
    (names) reads as `[redacted]` once the case was forgotten; every read of it is logged."""
    case = ledger.case(case_id, point.position)
    if case is None:
        raise HTTPException(404, f"there is no case {case_id}" + ("" if point.now else f" as of {point.instant}"))
    state, revealed = ledger.reveal(case_id, case_state(case))
    if revealed:
        ledger.record_access(who, "read case", case_id, f"{revealed} personal values, as of position {point.position}")
    return {**state, "position": point.position}


@router.get("/{case_id}/events", response_model=CaseHistory, responses={**PROBLEMS, **NOT_FOUND})
def get_case_events(
    case_id: CasePath,
    ledger: Annotated[Ledger, Depends(get_ledger)],
    who: Annotated[Principal, Readers],
) -> dict[str, Any]:
    """Every event of the case in order, corrections and retractions included, each with its
    receipt. Personal data reads as `[redacted]` once the case was forgotten; every read of it is logged."""
    history = ledger.history(case_id)
    if not history:
        raise HTTPException(404, f"there is no case {case_id}")
    events, revealed = ledger.reveal(
        case_id, [{**item.event.envelope(), "receipt": item.receipt.as_json()} for item in history]
    )
    if revealed:
        ledger.record_access(who, "read history", case_id, f"{revealed} personal values in {len(events)} events")
    return {"case_id": case_id, "events": events}
