"""No third-party code in the browser (issue 15, item 6), on both backends: every HTML page the
ledger serves (the dashboard and its error pages, /docs, /redoc, the report as HTML, and any page
without a policy of its own) carries a Content-Security-Policy whose only sources are the ledger's
own origin (and, where a page needs them, hashes of its own inline styles and data: images); no
page holds an inline script, an event handler attribute or an inline style its policy does not
name; and every file a page references is served by the app itself."""

import base64
import hashlib
import re
from collections.abc import Iterator
from html.parser import HTMLParser

from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from httpx import Response

from tests.access_table import table
from tests.builders import batch, separation
from tests.harness import Tokens
from tests.test_dashboard import csrf_of, sign_in

# Sources a directive may name: this origin, nothing, or a hash (of an inline style the page holds).
OWN = re.compile(r"'self'|'none'|'sha256-[A-Za-z0-9+/]+=*'")
ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml"}


class Page(HTMLParser):
    """What an HTML page would make a browser run or fetch."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.references: list[str] = []  # src and href of scripts, stylesheets, icons, images
        self.inline_scripts: list[str] = []
        self.inline_styles: list[str] = []
        self.handlers: list[str] = []  # on* attributes, style attributes
        self._in: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.handlers += [name for name, _ in attrs if name.startswith("on") or name == "style"]
        if tag == "script":
            if attributes.get("src"):
                self.references.append(str(attributes["src"]))
            else:
                self._in = "script"
                self.inline_scripts.append("")
        elif tag == "style":
            self._in = "style"
            self.inline_styles.append("")
        elif tag == "link" and attributes.get("href") and set(str(attributes.get("rel")).split()) & {"stylesheet", "icon", "preload", "modulepreload"}:
            self.references.append(str(attributes["href"]))
        elif tag in ("img", "iframe", "embed", "source", "audio", "video") and attributes.get("src"):
            self.references.append(str(attributes["src"]))
        elif tag == "object" and attributes.get("data"):
            self.references.append(str(attributes["data"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.inline_scripts[-1] += data
        elif self._in == "style":
            self.inline_styles[-1] += data


def directives(response: Response) -> dict[str, list[str]]:
    policy = response.headers.get("content-security-policy")
    assert policy, f"{response.request.url}: an HTML page without a Content-Security-Policy"
    parsed = {}
    for directive in filter(None, (part.strip() for part in policy.split(";"))):
        name, *sources = directive.split()
        parsed[name] = sources
    return parsed


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def html_pages(client: TestClient, tokens: Tokens) -> Iterator[Response]:
    """Every HTML answer the app gives: every route reached as an auditor (bearer and dashboard
    session), the dashboard's pages and error pages, the report as HTML through each door."""
    assert client.post("/v1/events", json=batch(separation("FRTF-1")), headers=tokens.get("FRTF")).status_code == 201
    assert client.app.state.projection.wait_for(client.app.state.ledger.store.tree_size(), 10)  # type: ignore[attr-defined]
    auditor = tokens.get("OIG", "auditor")
    responses = [client.get("/sign-in"), client.get("/", follow_redirects=True)]
    form = client.get("/sign-in")
    responses.append(client.post("/sign-in", data={"token": "nobody.secret", "csrf": csrf_of(form.text)}))  # 401 page
    responses.append(client.post("/sign-out", data={"csrf": "forged"}))  # 400 page
    sign_in(client, tokens.secret("OIG", "auditor"))
    for (method, _), access in table("FRTF-1").items():
        if method == "GET":
            responses.append(client.get(access.url, headers=auditor))
    responses += [
        client.get("/", params={"as_of": "yesterday"}),  # 422 page
        client.get("/download/compliance.html"),
        client.get("/download/compliance.csv", params={"as_of": "last tuesday"}),  # 422 page
        client.get("/v1/reports/compliance", params={"format": "html"}, headers=auditor),
    ]
    yield from (response for response in responses if response.headers.get("content-type", "").startswith("text/html"))


def test_every_html_page_allows_only_the_ledgers_own_origin(client: TestClient, tokens: Tokens) -> None:
    seen = set()
    for response in html_pages(client, tokens):
        where = f"{response.request.url.path} ({response.status_code})"
        seen.add(response.request.url.path)
        policy = directives(response)
        assert policy["default-src"] == ["'none'"], where
        assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"], where
        for name, sources in policy.items():
            for source in sources:
                allowed = OWN.fullmatch(source) or (name == "img-src" and source == "data:")
                assert allowed, f"{where}: {name} allows {source}"
        assert not any(source.startswith("'sha256-") for source in policy.get("script-src", [])), where
        assert response.headers["x-frame-options"] == "DENY" and response.headers["x-content-type-options"] == "nosniff"

        page = Page(response.text)
        assert page.inline_scripts == [] and page.handlers == [], f"{where}: inline script or handlers {page.handlers}"
        for style in page.inline_styles:
            assert sha256_source(style) in policy.get("style-src", []), f"{where}: an inline style its policy does not allow"
    assert {"/", "/sign-in", "/docs", "/redoc", "/v1/reports/compliance", "/download/compliance.html"} <= seen


def test_every_file_an_html_page_references_is_served_by_the_ledger_itself(client: TestClient, tokens: Tokens) -> None:
    referenced = set()
    for response in html_pages(client, tokens):
        for reference in Page(response.text).references:
            assert reference.startswith("/") and not reference.startswith("//"), f"{response.request.url.path} loads {reference}"
            referenced.add(reference)
    assert {"/static/docs/swagger-ui-bundle.js", "/static/docs/swagger-init.js", "/static/docs/redoc.standalone.js"} <= referenced
    for reference in sorted(referenced):
        served = client.get(reference)
        suffix = reference[reference.rindex(".") :]
        assert served.status_code == 200 and served.headers["content-type"].startswith(ASSET_TYPES[suffix]), reference
        assert served.headers["x-content-type-options"] == "nosniff"
    init = client.get("/static/docs/swagger-init.js").text
    assert "http" not in init and "validatorUrl: null" in init, "the start-up names no other site"
    assert client.get("/static/docs/core.py").status_code == 404, "only the listed files are served"


def test_fastapis_cdn_pages_are_gone(client: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        text = client.get(path).text
        assert "cdn.jsdelivr.net" not in text and "<script>" not in text
    assert client.get("/docs/oauth2-redirect").status_code == 404


def test_an_html_page_without_a_policy_of_its_own_gets_the_strictest(client: TestClient) -> None:
    """A page added later, with no headers of its own, is covered all the same."""
    client.app.add_api_route("/a-page-added-later", lambda: HTMLResponse("<p>later</p>"), include_in_schema=False)  # type: ignore[attr-defined]
    response = client.get("/a-page-added-later")
    assert directives(response) == {"default-src": ["'none'"], "form-action": ["'none'"], "frame-ancestors": ["'none'"], "base-uri": ["'none'"]}
    assert response.headers["x-frame-options"] == "DENY"


def test_the_html_reports_inline_style_is_allowed_by_its_hash(client: TestClient, tokens: Tokens) -> None:
    """The report's bytes are evidence and stay as they were: its policy names its style instead."""
    response = client.get("/v1/reports/compliance", params={"format": "html"}, headers=tokens.get("OIG", "auditor"))
    [style] = Page(response.text).inline_styles
    assert directives(response)["style-src"] == [sha256_source(style)]


def test_every_html_page_shows_the_ledgers_own_icon_which_its_policy_lets_load(client: TestClient, tokens: Tokens) -> None:
    pages = list(html_pages(client, tokens))
    assert {"/", "/sign-in", "/docs", "/redoc", "/v1/reports/compliance"} <= {page.request.url.path for page in pages}
    for response in pages:
        where = f"{response.request.url.path} ({response.status_code})"
        assert '<link rel="icon" type="image/svg+xml" href="/favicon.svg">' in response.text, where
        assert "'self'" in directives(response).get("img-src", []), f"{where}: its policy would block the icon"
    icon = client.get("/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert icon.content.startswith(b"<svg") and b"<script" not in icon.content and b"http://www.w3.org/2000/svg" in icon.content
    assert "default-src 'none'" in icon.headers["content-security-policy"] and icon.headers["x-content-type-options"] == "nosniff"
    assert client.get("/favicon.ico").content == icon.content, "a browser asking for /favicon.ico unprompted gets it too"
    assert client.get("/static/docs/favicon.png").status_code == 404, "one icon: Swagger's is no longer served"
