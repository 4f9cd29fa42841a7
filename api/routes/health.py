"""GET /healthz: liveness, database reachability and the projection's state, no token needed.

503 when the database cannot be read, and when the projection is stalled by a failure (recorded in
the database by whichever process projects, so it shows here even with LEDGER_PROJECTOR=external):
reports cannot be had until it is fixed, and a health check should say so. Lists the witnesses
that cosign checkpoints and whether each is up; one down leaves the ledger healthy (200)."""

from typing import Any

from fastapi import APIRouter, Request, Response

from api.deps import LedgerDep, ProjectionDep
from api.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(
    request: Request,
    response: Response,
    ledger: LedgerDep,
    projection: ProjectionDep,
) -> dict[str, Any]:
    try:
        size = ledger.reader.tree_size()
        generation = projection.generation()
        position = projection.model.tracked(generation)
        fault = projection.model.fault(generation)
    except Exception:  # noqa: BLE001 - any failure to read means unhealthy, never a crash
        response.status_code = 503
        return {"status": "unavailable", "database": "unreachable", "tree_size": None}
    lag = max(0, size - position)
    collector = getattr(request.app.state, "cosignatures", None)
    witnesses = [status.as_json() for status in collector.status.values()] if collector else []
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
        "witnesses": witnesses,  # a witness down is shown, never a reason for 503: appends go on
    }
