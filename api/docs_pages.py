"""/docs (Swagger UI) and /redoc (ReDoc), served with nothing from another site.

FastAPI's own pages load both from a public CDN: blank without internet, and a third party's
script running on the origin where auditors paste their tokens. Here every file comes from the
ledger's origin: Swagger UI's and ReDoc's builds from the fastapi-offline package (pinned in
pyproject.toml, which ships swagger-ui-dist's and ReDoc's standalone bundles), and Swagger UI's
start-up from a file of ours (api/static/swagger-init.js), not inline, so the pages' policy
(api/content_security.py) allows scripts from this origin only and no inline script at all.

ReDoc's search is off: it runs in a worker made from a blob: URL, which a policy of this origin
alone does not allow (the browser's find-in-page remains). Its footer's logo, an image on
Redocly's site, is never fetched: the policy refuses it.
"""

from functools import cache
from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import Response

from api.content_security import REDOC_HEADERS, SWAGGER_UI_HEADERS
from api.pages import page

router = APIRouter(include_in_schema=False)

STATIC = "/static/docs"
_PACKAGED = files("fastapi_offline") / "static"
# name → (where it comes from, its media type)
ASSETS = {
    "swagger-ui-bundle.js": (_PACKAGED, "text/javascript; charset=utf-8"),
    "swagger-ui.css": (_PACKAGED, "text/css; charset=utf-8"),
    "redoc.standalone.js": (_PACKAGED, "text/javascript; charset=utf-8"),
    "swagger-init.js": (files("api") / "static", "text/javascript; charset=utf-8"),
}
# The files change only with the package's pinned version (or ours): kept a day by browsers.
_ASSET_HEADERS = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}


@cache
def _asset(name: str) -> bytes:
    return (ASSETS[name][0] / name).read_bytes()


def _context(request: Request) -> dict[str, str]:
    root = request.scope.get("root_path", "")
    return {"title": request.app.title, "static": f"{root}{STATIC}", "openapi_url": f"{root}{request.app.openapi_url}"}


@router.get("/docs")
def swagger_ui(request: Request) -> Response:
    return page(request, "swagger_ui.html", 200, headers=SWAGGER_UI_HEADERS, **_context(request))


@router.get("/redoc")
def redoc(request: Request) -> Response:
    return page(request, "redoc.html", 200, headers=REDOC_HEADERS, **_context(request))


@router.get(STATIC + "/{name}")
def asset(name: Annotated[str, Path(max_length=64)]) -> Response:
    if name not in ASSETS:
        raise HTTPException(404, f"there is no file {name} here")
    return Response(_asset(name), media_type=ASSETS[name][1], headers=_ASSET_HEADERS)
