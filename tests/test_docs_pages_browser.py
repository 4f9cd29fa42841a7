"""/docs and /redoc in headless Chromium with every other origin cut off (issue 15, item 6): the API's
operations are rendered from the ledger's own files alone, nothing is asked of another site, and
nothing the pages do runs into their Content-Security-Policy (ReDoc's footer logo on Redocly's
site apart, which the policy keeps from being fetched). The report as HTML keeps its look under its
policy. Chromium is Debian's package, driven by Playwright (tests/chromium.py).
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.organizations import Organization, Role
from ledger.checkpoints import Signer
from tests.live_server import serving_ledger

# Each CSP violation a page meets, recorded by the page itself (an init script runs before the
# page's own and is not subject to its policy).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
"""
REDOC_LOGO = "img-src https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.fixture
def served(tmp_path: Path, signer: Signer, master_key: bytes) -> Iterator[tuple[str, str]]:
    """A real server: (base URL, an auditor's token)."""
    with serving_ledger(tmp_path, signer, master_key, log_level="WARNING") as (base_url, ledger):
        yield base_url, ledger.tokens.issue("oig-auditor", Organization.OIG, Role.AUDITOR)


@pytest.fixture
def offline(browser: Any, served: tuple[str, str]) -> Iterator[tuple[Any, list[str], str, str]]:
    """A browser context that reaches the ledger and nothing else: (context, what it tried to
    fetch elsewhere, base URL, auditor token)."""
    base, token = served
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    elsewhere: list[str] = []

    def only_the_ledger(route: Any) -> None:
        if route.request.url.startswith(base + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_ledger)
    context.add_init_script(RECORD_VIOLATIONS)
    try:
        yield context, elsewhere, base, token
    finally:
        context.close()


def operations(base: str) -> list[tuple[str, str]]:
    schema = httpx.get(base + "/openapi.json").json()
    return [(method.upper(), path) for path, item in schema["paths"].items() for method in item]


def opened(context: Any, url: str, ready: str) -> tuple[Any, list[str]]:
    """A new page at `url` once the selector `ready` is on it, and the errors its console logs."""
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(url)
    page.wait_for_selector(ready, timeout=20_000)
    return page, errors


def test_swagger_ui_renders_every_operation_from_the_ledgers_own_files(offline: tuple[Any, list[str], str, str]) -> None:
    context, elsewhere, base, _ = offline
    page, errors = opened(context, base + "/docs", ready=".opblock")
    expected = operations(base)
    rendered = page.eval_on_selector_all(
        ".opblock",
        "blocks => blocks.map(b => [b.querySelector('.opblock-summary-method').textContent.trim(),"
        " b.querySelector('.opblock-summary-path').getAttribute('data-path')])",
    )
    assert sorted(map(tuple, rendered)) == sorted(expected)
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("Settlement compliance ledger")
    assert page.evaluate("window.__violations") == [], errors
    assert elsewhere == []
    assert errors == []


def test_redoc_renders_every_operation_from_the_ledgers_own_files(offline: tuple[Any, list[str], str, str]) -> None:
    context, elsewhere, base, _ = offline
    page, errors = opened(context, base + "/redoc", ready="[data-section-id^='operation/']")
    assert page.locator("[data-section-id^='operation/']").count() == len(operations(base))
    # Styled as ReDoc styles itself: its stylesheets (allowed by their hashes) applied.
    assert page.evaluate("getComputedStyle(document.querySelector('.menu-content')).position") == "sticky"
    assert page.evaluate("window.__violations") == [REDOC_LOGO], errors
    assert elsewhere == []


def test_the_html_report_keeps_its_style_under_its_policy(offline: tuple[Any, list[str], str, str]) -> None:
    context, elsewhere, base, token = offline
    context.set_extra_http_headers({"Authorization": f"Bearer {token}"})
    page = context.new_page()
    page.goto(base + "/v1/reports/compliance?format=html")
    assert page.evaluate("getComputedStyle(document.body).maxWidth") == "960px"  # 60rem: the inline style applied
    assert page.evaluate("window.__violations") == []
    assert elsewhere == []
