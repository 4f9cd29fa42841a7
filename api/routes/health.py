"""GET /healthz: liveness, database reachability and the projection's state, no token needed.

503 when the database cannot be read, and when the projection is stalled by a failure (recorded in
the database by whichever process projects, so it shows here even with LEDGER_PROJECTOR=external):
reports cannot be had until it is fixed, and a health check should say so."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from api.auth import get_ledger
from api.schemas import Health
from api.routes.reports import get_projection
from ledger.application import Ledger
from projections.runner import Projection

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(
    response: Response,
    ledger: Annotated[Ledger, Depends(get_ledger)],
    projection: Annotated[Projection, Depends(get_projection)],
) -> dict[str, Any]:
    try:
        size = ledger.store.tree_size()
        generation = projection.generation()
        position = projection.model.tracked(generation)
        fault = projection.model.fault(generation)
    except Exception:  # noqa: BLE001 - any failure to read means unhealthy, never a crash
        response.status_code = 503
        return {"status": "unavailable", "database": "unreachable", "tree_size": None}
    lag = max(0, size - position)
    if fault is not None:
        response.status_code = 503
    return {
        "status": "ok" if fault is None else "stalled",
        "database": "ok",
        "tree_size": size,
        "projection": {
            "generation": generation,
            "position": position,
            "lag": lag,
            "fault": None if fault is None else fault.as_json(),
        },
    }
