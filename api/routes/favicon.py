"""The ledger's icon, served by the ledger itself (no request leaves for another site).

Every HTML page names /favicon.svg; /favicon.ico answers the same picture, for a browser that
asks for it unprompted (on a JSON answer, say), so that it gets an icon rather than a 404. The
SVG holds no script and no style, and its own policy forbids both were it opened as a page.
"""

from importlib.resources import files

from fastapi import APIRouter, Response

router = APIRouter(include_in_schema=False)

ICON = (files("api") / "static" / "favicon.svg").read_bytes()
HEADERS = {
    "Cache-Control": "public, max-age=86400",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


@router.get("/favicon.svg")
@router.get("/favicon.ico")
def favicon() -> Response:
    return Response(ICON, media_type="image/svg+xml", headers=HEADERS)
