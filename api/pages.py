"""HTML pages of the dashboard: the templates, their filters, and the headers every page gets."""

from importlib.resources import files
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

# No script, no frames, nothing fetched from elsewhere; forms post only here.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
STYLESHEET = (files("api") / "static" / "dashboard.css").read_bytes()

_templates = Environment(loader=PackageLoader("api"), autoescape=select_autoescape(default=True))
_templates.filters["number"] = lambda n: "–" if n is None else f"{n:,}" if isinstance(n, int) else f"{n:,.1f}"
_templates.filters["signed"] = lambda n: "–" if n is None else "no change" if n == 0 else f"+{n:,}" if n > 0 else f"−{-n:,}"
_templates.filters["words"] = lambda text: str(text).replace("_", " ")


def page(request: Request, template: str, status: int, **context: Any) -> HTMLResponse:
    body = _templates.get_template(template).render(request=request, **context)
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def message(request: Request, title: str, text: str, status: int) -> HTMLResponse:
    """A page that says what went wrong and leads back to the dashboard."""
    response = page(request, "message.html", status, title=title, message=text)
    if status == 503:
        response.headers["Retry-After"] = "2"
    return response
