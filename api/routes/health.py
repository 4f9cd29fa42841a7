"""GET /healthz: liveness and database reachability, no token needed."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from api.auth import get_ledger
from api.schemas import Health
from ledger.application import Ledger

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(response: Response, ledger: Annotated[Ledger, Depends(get_ledger)]) -> dict[str, Any]:
    try:
        size = ledger.store.tree_size()
    except Exception:  # noqa: BLE001 - any failure to read means unhealthy, never a crash
        response.status_code = 503
        return {"status": "unavailable", "database": "unreachable", "tree_size": None}
    return {"status": "ok", "database": "ok", "tree_size": size}
