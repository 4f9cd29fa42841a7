"""GET /healthz: liveness and database reachability, no token needed."""

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
    except Exception:  # noqa: BLE001 - any failure to read means unhealthy, never a crash
        response.status_code = 503
        return {"status": "unavailable", "database": "unreachable", "tree_size": None}
    lag = max(0, size - position)
    return {
        "status": "ok",
        "database": "ok",
        "tree_size": size,
        "projection": {"generation": generation, "position": position, "lag": lag},
    }
