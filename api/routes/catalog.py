"""GET /v1/catalog: what may be posted, by whom, in which shape; for any token."""


from fastapi import APIRouter

from api.deps import PrincipalDep
from api.catalog import Catalog, catalog
from api.schemas import PROBLEMS

router = APIRouter(prefix="/v1", tags=["events"])


@router.get("/catalog", response_model=Catalog, responses=PROBLEMS)
def get_catalog(_: PrincipalDep) -> Catalog:
    """Every event type: its purpose, the organizations that may post it, its required, optional and
    personal fields, the JSON Schema of its `data` and an example envelope. Any live token may read it."""
    return catalog()
