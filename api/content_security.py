"""What a browser may run and load on the ledger's pages: only what the ledger itself serves.

Auditors paste tokens into these pages, so no other site's code may run beside them: every HTML
answer carries a Content-Security-Policy whose sources are this origin ('self') and nothing else,
never 'unsafe-inline' or 'unsafe-eval'. Each kind of page allows no more than it uses:

| pages                                  | may use                                                      |
|----------------------------------------|--------------------------------------------------------------|
| the dashboard (/, /sign-in, messages)  | no script; its stylesheet and images (the icon); forms posting here |
| /docs and /redoc (api/docs_pages.py)   | scripts, styles, images and fetches (the schema, "Try it out") from this origin; images drawn inline by Swagger UI's stylesheet (data:); on /redoc, ReDoc's two inline stylesheets by their hashes |
| the report as HTML                     | its one inline stylesheet, by its SHA-256 (the report's bytes are evidence and never change); the icon; its charts are inline SVG, which needs nothing more |
| any other HTML (the `EveryHtmlPage` middleware) | nothing                                              |

None may be framed (frame-ancestors 'none', X-Frame-Options) or change its base URL.
"""

import base64
import hashlib
import re
from importlib.resources import files

from starlette.datastructures import MutableHeaders
from starlette.types import Receive, Scope, Send

from api.http_middleware import HttpMiddleware, ResponseWatch

_NEVER_FRAMED = "frame-ancestors 'none'; base-uri 'none'"


def _headers(policy: str, cache: str = "no-store") -> dict[str, str]:
    return {
        "Content-Security-Policy": f"{policy}; {_NEVER_FRAMED}",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cache-Control": cache,
    }


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# ReDoc's bundle (fastapi-offline 1.7.7, pinned) adds two <style> elements of its own: an empty one,
# which styled-components then fills through the CSSOM (which a policy does not govern), and
# perfect-scrollbar's stylesheet, a constant of the bundle. Each is allowed by its hash, no other
# inline style; the browser test (tests/test_docs_pages_browser.py) fails, naming the hash, if an
# upgrade changes them.
REDOC_INLINE_STYLES = (_sha256(""), "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='")
_DOCS = "default-src 'none'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'"


def _report_stylesheet_hash() -> str:
    """The CSP source of the HTML report's inline stylesheet, as its template holds it."""
    template = (files("projections") / "templates" / "report.html").read_text(encoding="utf-8")
    styles = re.findall(r"<style>(.*?)</style>", template, flags=re.DOTALL)
    if len(styles) != 1 or "{" + "{" in styles[0] or "{%" in styles[0]:
        raise RuntimeError("projections/templates/report.html must hold one literal <style> block, whose hash its policy allows")
    return _sha256(styles[0])


DASHBOARD_HEADERS = _headers("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'")
SWAGGER_UI_HEADERS = _headers(f"{_DOCS}; style-src 'self'", cache="no-cache")
REDOC_HEADERS = _headers(f"{_DOCS}; style-src 'self' {' '.join(REDOC_INLINE_STYLES)}", cache="no-cache")
REPORT_HTML_HEADERS = _headers(f"default-src 'none'; style-src {_report_stylesheet_hash()}; img-src 'self'; form-action 'none'")
FALLBACK_HEADERS = _headers("default-src 'none'; form-action 'none'")


def _fallback_policy(headers: MutableHeaders) -> None:
    if headers.get("content-type", "").startswith("text/html") and "content-security-policy" not in headers:
        for name, value in FALLBACK_HEADERS.items():
            headers[name] = value


class EveryHtmlPage(HttpMiddleware):
    """Gives any HTML answer that carries no policy of its own the strictest one: a page added
    later, or an error page rendered by the framework, is covered without anyone remembering to."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, ResponseWatch(send, on_start=_fallback_policy).send)
