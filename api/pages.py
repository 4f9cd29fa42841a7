"""HTML pages of the dashboard: the templates, their filters, and the headers every page gets."""

from importlib.resources import files
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from api.content_security import DASHBOARD_HEADERS
from projections.labels import label, path_label

# No script, no frames, nothing fetched from elsewhere; forms post only here.
SECURITY_HEADERS = DASHBOARD_HEADERS
STYLESHEET = (files("api") / "static" / "dashboard.css").read_bytes()

_templates = Environment(loader=PackageLoader("api"), autoescape=select_autoescape(default=True))
_templates.filters["number"] = lambda n: "–" if n is None else f"{n:,}" if isinstance(n, int) else f"{n:,.1f}"
_templates.filters["signed"] = lambda n: "–" if n is None else "no change" if n == 0 else f"+{n:,}" if n > 0 else f"−{-n:,}"
# A report's keys as a reader sees them (projections/labels.py): never `in_process`, `5_to_17`.
# `words` was the filter's name when it only put spaces for underscores; a key without a label
# still reads that way.
_templates.filters["label"] = _templates.filters["words"] = label
_templates.filters["path_label"] = path_label


def page(request: Request, template: str, status: int, headers: dict[str, str] = SECURITY_HEADERS, **context: Any) -> HTMLResponse:
    body = _templates.get_template(template).render(request=request, **context)
    return HTMLResponse(body, status_code=status, headers=headers)


def message(request: Request, title: str, text: str, status: int) -> HTMLResponse:
    """A page that says what went wrong and leads back to the dashboard."""
    response = page(request, "message.html", status, title=title, message=text)
    if status == 503:
        response.headers["Retry-After"] = "2"
    return response
