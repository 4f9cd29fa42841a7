"""The dashboard end to end in headless Chromium (Debian's package, driven by Playwright).

One browser session against a real server on a small demo population: sign in, change the as-of
date and see the numbers change, ask what changed since an earlier date, download the tidy CSV, move
through the page with the keyboard, and save screenshots at laptop and phone widths under
test-artifacts/ (printed at the end).

The browser is the machine's own /usr/bin/chromium (`make test` installs it when missing and
run as root); Playwright never downloads one. Outside CI, a machine without it skips this test;
in CI (CI set) a missing browser fails it.
"""

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.organizations import Organization, Role
from ledger.application import Ledger
from ledger.checkpoints import Signer
from ledger.demo import Population
from tests.live_server import serving_ledger

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def served(tmp_path: Path, signer: Signer, master_key: bytes) -> Iterator[tuple[str, str, Ledger]]:
    """A real server on a SQLite ledger holding 150 demo families: (base URL, monitor token, ledger)."""
    with serving_ledger(tmp_path, signer, master_key, Population(150, 7)) as (base_url, ledger):
        yield base_url, ledger.tokens.issue("court-monitor", Organization.MONITOR, Role.MONITOR), ledger


def number(page: object, selector: str) -> int:
    return int(page.inner_text(selector).replace(",", ""))  # type: ignore[attr-defined]


def test_a_monitor_signs_in_picks_dates_downloads_and_reads_it_on_a_phone(
    browser: object, served: tuple[str, str, Ledger]
) -> None:
    base, token, ledger = served
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    blocked: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(base) else blocked.append(request.url))

    page.goto(base + "/")
    assert page.url == base + "/sign-in", "an anonymous visitor is sent to sign in"
    page.get_by_label("Token").fill("court-monitor.not-the-secret")
    page.get_by_role("button", name="Sign in").click()
    assert "unknown or has been revoked" in page.inner_text("#token-error")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/")
    assert "Signed in as court-monitor" in page.inner_text(".account")

    identified_now = number(page, "#children-identified")
    size_now = number(page, "#tree-size")
    assert identified_now > 150 and size_now == ledger.store.tree_size()
    assert page.locator("#figure-reunified-by-month svg.chart.wide").is_visible()
    assert page.locator("#overdue-table tbody tr").count() > 0
    laptop = ARTIFACTS / "dashboard-laptop.png"
    page.screenshot(path=str(laptop), full_page=True)

    # Everything was recorded today: as of yesterday, the ledger held none of it.
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    page.get_by_label("As of").fill(yesterday)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**/?as_of={yesterday}*")
    assert page.inner_text("#page-title") == f"Compliance as of the end of {yesterday} (UTC)"
    assert number(page, "#children-identified") == 0
    assert number(page, "#tree-size") < size_now

    # A bad date is the form's error, not a failure.
    page.goto(base + "/?as_of=2026-02-31")
    assert "Enter a date as YYYY-MM-DD" in page.inner_text("#as_of-error")
    assert page.get_by_label("As of").get_attribute("aria-invalid") == "true"

    today = datetime.now(UTC).date().isoformat()
    page.goto(base + "/")
    page.get_by_label("As of").fill(today)
    page.get_by_label("What changed since").fill(yesterday)
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("#changes-heading")
    identified = page.locator("#changes-children tbody tr", has_text="identified").first
    assert identified.locator("td").nth(2).inner_text() == f"+{identified_now:,}"
    changes = ARTIFACTS / "dashboard-changes-laptop.png"
    page.locator("#changes-heading").scroll_into_view_if_needed()
    page.screenshot(path=str(changes))

    # The tidy CSV: one row per number, in labels, for a spreadsheet's pivot table.
    page.locator(".downloads").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "dashboard-downloads-laptop.png"))
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Report as CSV, one row per number").click()
    download = downloading.value
    assert download.suggested_filename == f"compliance-report-tree-{size_now}.csv"
    saved = ARTIFACTS / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"\xef\xbb\xbf"), "a byte order mark, for spreadsheets"
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["section", "group", "key", "measure", "value"]
    assert ["children", "", "identified", "children", str(identified_now)] in rows
    assert [row[2:] for row in rows if row[3] == "tree size"] == [["log checkpoint", "tree size", str(size_now)]]
    assert any(row[:3] == ["children", "remaining by status", "in process"] for row in rows), "labels, not keys"

    # The keyboard reaches everything: the skip link first, then the form, in order.
    page.goto(base + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the main content"
    page.keyboard.press("Enter")
    focused: list[str] = []
    for _ in range(12):  # a date field takes a Tab for each of its parts
        page.keyboard.press("Tab")
        now = page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
        if not focused or focused[-1] != now:
            focused.append(now)
    assert focused[:3] == ["as_of", "since", "Show"], focused
    unlabeled = page.evaluate(
        "[...document.querySelectorAll('input:not([type=hidden])')].filter(i => i.labels.length === 0).length"
    )
    assert unlabeled == 0

    page.set_viewport_size(PHONE)
    assert page.locator("#figure-children-by-status svg.chart.narrow").is_visible()
    assert not page.locator("#figure-children-by-status svg.chart.wide").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "nothing wider than the phone"
    phone = ARTIFACTS / "dashboard-phone.png"
    page.screenshot(path=str(phone), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in?notice=signed-out")
    page.goto(base + "/")
    assert page.url.startswith(base + "/sign-in"), "signed out means signed out"
    assert blocked == [], f"the dashboard fetched from elsewhere: {blocked}"
    context.close()
    for artifact in (laptop, changes, phone, saved):
        print(f"test artifact: {artifact}")
