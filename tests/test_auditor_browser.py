"""The auditors' pages end to end in headless Chromium (Debian's package, driven by Playwright), and
a monitor's tidy CSV download.

One real server on a small SQLite ledger (a few demo families). An auditor signs in and lands on
the case lookup, looks up a case (its events with their receipts), runs the integrity check (the
whole log the first time), filters the access log (their own case view is in it) and downloads
it as CSV; then a monitor signs in and downloads the tidy CSV of the report. Screenshots and the
downloads go to test-artifacts/ (git-ignored; paths printed at the end). Nothing is fetched from
another origin. As tests/test_dashboard_browser.py: outside CI a machine without /usr/bin/chromium
skips; in CI it fails.
"""

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.organizations import Organization, Role
from ledger.application import Ledger
from ledger.checkpoints import Signer
from ledger.demo import Population
from tests.live_server import serving_ledger

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
LAPTOP = {"width": 1366, "height": 900}


@pytest.fixture
def served(tmp_path: Path, signer: Signer, master_key: bytes) -> Iterator[tuple[str, Ledger]]:
    """A real server on a SQLite ledger holding 8 demo families, with an auditor and a monitor token."""
    with serving_ledger(tmp_path, signer, master_key, Population(8, 7)) as served_ledger:
        yield served_ledger


def sign_in(page: object, base: str, token: str, lands_on: str) -> None:
    page.goto(base + "/sign-in")  # type: ignore[attr-defined]
    page.get_by_label("Token").fill(token)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.wait_for_url(base + lands_on)  # type: ignore[attr-defined]


def test_an_auditor_looks_up_a_case_verifies_the_log_and_downloads_the_access_log_and_a_monitor_the_tidy_csv(
    browser: object, served: tuple[str, Ledger]
) -> None:
    base, ledger = served
    auditor = ledger.tokens.issue("oig-auditor", Organization.OIG, Role.AUDITOR)
    monitor = ledger.tokens.issue("court-monitor", Organization.MONITOR, Role.MONITOR)
    case_id = next(event.case_id for _, event in ledger.reader.log(0, 100) if event.type == "SeparationIdentified")
    ARTIFACTS.mkdir(exist_ok=True)
    saved: list[Path] = []
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    blocked: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(base) else blocked.append(request.url))

    # Case lookup: an auditor lands on it.
    sign_in(page, base, auditor, "/audit/cases")
    page.get_by_label("Case id").fill(case_id)
    page.get_by_role("button", name="Look up").click()
    page.wait_for_selector("#history")
    assert page.inner_text("#page-title") == f"Case {case_id}"
    assert page.locator("#history > li").count() >= 1
    assert len(page.locator("#event-1 .leaf-hash").inner_text()) == 64, "each event with its receipt"
    saved.append(ARTIFACTS / "auditor-case-laptop.png")
    page.screenshot(path=str(saved[-1]), full_page=True)

    # Integrity: the first check recomputes the whole log up to the current checkpoint.
    page.get_by_role("link", name="Integrity").click()
    page.wait_for_url(base + "/audit/integrity")
    page.get_by_role("button", name="Verify the whole log").click()
    page.wait_for_selector("#verified-size")
    assert "Verified up to the latest checkpoint" in page.inner_text("#verification-status")
    assert page.inner_text("#verified-by") == "oig-auditor"
    assert int(page.inner_text("#verified-size").replace(",", "")) == ledger.store.tree_size()
    saved.append(ARTIFACTS / "auditor-integrity-laptop.png")
    page.screenshot(path=str(saved[-1]), full_page=True)

    # The access log, filtered: the case view above is in it, under the auditor's token.
    page.get_by_role("link", name="Access log").click()
    page.get_by_label("Token").fill("oig-auditor")
    page.get_by_label("Action").select_option("read history")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/audit/access-log?*")
    rows = page.locator("#access-log tbody tr")
    assert rows.count() == 1 and case_id in rows.first.inner_text()
    saved.append(ARTIFACTS / "auditor-access-log-laptop.png")
    page.screenshot(path=str(saved[-1]), full_page=True)
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download these lines as CSV").click()
    saved.append(ARTIFACTS / "auditor-access-log.csv")
    downloading.value.save_as(saved[-1])
    lines = list(csv.DictReader(io.StringIO(saved[-1].read_text(encoding="utf-8-sig"))))
    assert [(line["token"], line["action"], line["case_id"]) for line in lines] == [("oig-auditor", "read history", case_id)]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in?notice=signed-out")

    # A monitor: the dashboard, and the tidy CSV.
    sign_in(page, base, monitor, "/")
    assert page.locator('a[href^="/audit/"]').count() == 0, "no way in to the auditors' pages"
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Report as CSV, one row per number").click()
    saved.append(ARTIFACTS / "monitor-tidy-report.csv")
    downloading.value.save_as(saved[-1])
    assert saved[-1].read_bytes().startswith(b"\xef\xbb\xbf"), "a byte order mark, for spreadsheets"
    rows_read = list(csv.reader(io.StringIO(saved[-1].read_text(encoding="utf-8-sig"))))
    assert rows_read[0] == ["section", "group", "key", "measure", "value"]
    assert any(row[:3] == ["children", "", "identified"] for row in rows_read)
    saved.append(ARTIFACTS / "monitor-dashboard-laptop.png")
    page.screenshot(path=str(saved[-1]))

    assert blocked == [], f"a page fetched from elsewhere: {blocked}"
    context.close()
    for artifact in saved:
        print(f"test artifact: {artifact}")
