"""The HTML report carries the dashboard's charts (issue 16): the same five charts as inline SVG,
each after its table, drawn for a page and for a phone, under the report's strict policy (its one
inline stylesheet by its hash, no style attribute, nothing from elsewhere); and the same as-of
point still gives the same bytes, on both backends."""

import re

from fastapi.testclient import TestClient

from tests.builders import batch, contact, separation
from tests.harness import Tokens
from tests.test_dashboard import sign_in
from tests.test_html_pages import Page, directives, sha256_source

REPORT = "/v1/reports/compliance"
CHARTS = ["children-by-status", "nationality", "border-sector", "reunified-by-month", "obligations"]


def charts_of(html: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", html, flags=re.DOTALL)


def test_the_html_report_carries_the_dashboards_charts_under_its_strict_policy(client: TestClient, tokens: Tokens) -> None:
    assert client.post("/v1/events", json=batch(separation("FRTF-1"), separation("FRTF-2", children=("C1", "C2"))), headers=tokens.get("FRTF")).status_code == 201
    assert client.post("/v1/events", json=batch(contact("FRTF-1", outcome="reached")), headers=tokens.get("KIND")).status_code == 201
    auditor = tokens.get("OIG", "auditor")
    as_of = client.get(REPORT, headers=auditor).json()["as_of"]
    response = client.get(REPORT, params={"as_of": as_of, "format": "html"}, headers=auditor)
    html = response.text

    figures = re.findall(r'<figure id="figure-([\w-]+)"', html)
    assert figures == CHARTS, "each chart after its table, in the tables' order"
    drawn = charts_of(html)
    assert len(drawn) == 10 and all(' class="chart wide"' in svg or ' class="chart narrow"' in svg for svg in drawn)
    assert html.index("<caption>Obligations: durations</caption>") < html.index('<figure id="figure-obligations"')

    sign_in(client, tokens.secret("OIG", "auditor"))
    dashboard = client.get("/")
    assert sorted(charts_of(dashboard.text)) == sorted(drawn), "the dashboard's charts, drawn the same"

    policy = directives(response)
    page = Page(html)
    assert page.handlers == [] and page.inline_scripts == [], "no style attribute, no script: the SVG needs none"
    assert policy["style-src"] == [sha256_source(style) for style in page.inline_styles]
    assert "script-src" not in policy and policy["default-src"] == ["'none'"]

    assert client.post("/v1/events", json=batch(separation("FRTF-3")), headers=tokens.get("FRTF")).status_code == 201
    again = client.get(REPORT, params={"as_of": as_of, "format": "html"}, headers=auditor)
    assert again.content == response.content, "the same as-of point gives the same bytes"
    download = client.get("/download/compliance.html", params={"as_of": as_of})
    assert download.content == response.content
