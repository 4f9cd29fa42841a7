"""A case's current state (or as of any past point) and its full history with receipts."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.exceptions import RequestValidationError

from api.auth import allow, get_ledger
from api.schemas import NOT_FOUND, PROBLEMS, CaseHistory, CaseState
from domain.access import Principal
from domain.case_state import case_state
from domain.organizations import Role
from domain.values import ID_PATTERN
from ledger.application import Ledger, parse_as_of

router = APIRouter(prefix="/v1/cases", tags=["cases"])

CasePath = Annotated[str, Path(pattern=ID_PATTERN, description="The case id, e.g. FRTF-000123.")]
Readers = Depends(allow(Role.AGENCY, Role.AUDITOR))


def as_of_point(as_of: str | None) -> int | str | None:
    if as_of is None:
        return None
    try:
        return parse_as_of(as_of)
    except ValueError as error:
        raise RequestValidationError([{"loc": ("query", "as_of"), "msg": str(error), "type": "value_error"}]) from None


@router.get("/{case_id}", response_model=CaseState, responses={**PROBLEMS, **NOT_FOUND})
def get_case(
    case_id: CasePath,
    ledger: Annotated[Ledger, Depends(get_ledger)],
    who: Annotated[Principal, Readers],
    as_of: Annotated[
        str | None,
        Query(description="A log position, an ISO 8601 instant with offset, or a date (end of that day, UTC)."),
    ] = None,
) -> dict[str, Any]:
    """The case as the log stood at `as_of`: only what was recorded by then counts. Personal data
    (names) reads as `[redacted]` once the case was forgotten; every read of it is logged."""
    point = as_of_point(as_of)
    position = ledger.position_as_of(point)
    case = ledger.case(case_id, position if point is not None else None)
    if case is None:
        raise HTTPException(404, f"there is no case {case_id}" + (f" as of {as_of}" if as_of else ""))
    state, revealed = ledger.reveal(case_id, case_state(case))
    if revealed:
        ledger.record_access(who, "read case", case_id, f"{revealed} personal values, as of position {position}")
    return {**state, "position": position}


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
