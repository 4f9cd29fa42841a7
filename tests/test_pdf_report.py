"""The compliance report as a court-exhibit PDF, read back with pypdf: the first page identifies
the report (as-of, checkpoint, terms), the tables and charts follow, the definitions close it;
the same as-of point gives the same bytes. Through the API on both backends, and the CLI."""

import io
import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from pypdf import PdfReader

from ledger.application import Ledger
from tests.builders import batch, contact, separation
from tests.harness import Tokens
from tests.test_cli import Run, assert_succeeded, cli, key_file  # noqa: F401

REPORT = "/v1/reports/compliance"


def pages_text(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def test_the_pdf_names_its_as_of_checkpoint_and_terms_on_its_first_page(client: TestClient, tokens: Tokens) -> None:
    for org, envelopes in [
        ("FRTF", [separation("FRTF-1", occurred_at="2026-01-05T10:00:00Z"), separation("FRTF-2", children=("C1", "C2"))]),
        ("KIND", [contact("FRTF-1", outcome="reached", occurred_at="2026-01-20T10:00:00Z")]),
    ]:
        assert client.post("/v1/events", json=batch(*envelopes), headers=tokens.get(org)).status_code == 201
    monitor = tokens.get("MONITOR", "monitor")
    report = client.get(REPORT, headers=monitor).json()
    response = client.get(REPORT, params={"as_of": report["as_of"], "format": "pdf"}, headers=monitor)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'inline; filename="compliance-report-{report["checkpoint"]["tree_size"]}.pdf"'

    pages = pages_text(response.content)
    first = pages[0]
    assert f"As of {report['as_of']}" in first
    assert f"Log checkpoint: tree size {report['checkpoint']['tree_size']:,}" in first
    assert f"Log checkpoint: root hash {report['checkpoint']['root_hash']}" in first
    assert "Terms version 1 (effective 2023-12-11)" in first
    assert "Children identified 3" in first and "remaining: not reached 2" in first
    rest = " ".join(pages[1:])
    assert re.search(r"first outreach 1 0 0 1 0 15", rest), "the obligations table, as the CSV has it"
    assert "Figure: Children by status" in rest and "Figure: Obligations: met, met late, open, overdue and breached" in rest
    assert "Appendix A. Definitions" in rest and "Counted cases with a RegistrationSubmitted." in rest
    assert "Appendix B. Terms applied" in rest
    assert all(f"of {len(pages)}" in page for page in pages), "every page says page n of N"
    assert "Ana Example" not in " ".join(pages), "a parent's name never reaches a report"
    assert PdfReader(io.BytesIO(response.content)).metadata.title == f"Settlement compliance report as of {report['as_of']}"

    client.post("/v1/events", json=batch(separation("FRTF-3")), headers=tokens.get("FRTF"))
    again = client.get(REPORT, params={"as_of": report["as_of"], "format": "pdf"}, headers=monitor)
    assert again.content == response.content, "the same as-of point gives the same bytes"


def test_what_if_terms_are_flagged_on_the_first_page(client: TestClient, tokens: Tokens) -> None:
    response = client.get(
        REPORT,
        params={"format": "pdf", "terms": json.dumps({"obligations": {"first_outreach": {"days": 45}}})},
        headers=tokens.get("OIG", "auditor"),
    )
    assert response.status_code == 200
    first = pages_text(response.content)[0]
    assert "WHAT-IF TERMS, not the terms in force" in first


def test_the_pdf_of_the_empty_log_says_so(client: TestClient, tokens: Tokens) -> None:
    response = client.get(REPORT, params={"as_of": "0", "format": "pdf"}, headers=tokens.get("MONITOR", "monitor"))
    assert response.status_code == 200
    pages = pages_text(response.content)
    assert "Log checkpoint: tree size 0" in pages[0] and "none: no terms had been adopted by this point" in pages[0]
    assert "No reunification recorded by this date." in " ".join(pages)


def test_ledger_report_writes_a_pdf(cli: Run, ledger: Ledger, tmp_path: Path) -> None:
    assert_succeeded(cli("demo", "--cases", 40))
    out = tmp_path / "exhibit.pdf"
    written = cli("report", "--format", "pdf", "--out", out)
    assert_succeeded(written)
    report = json.loads(cli("report", "--as-of", ledger.store.tree_size()).stdout)
    pages = pages_text(out.read_bytes())
    assert f"Log checkpoint: root hash {report['checkpoint']['root_hash']}" in pages[0]
    assert f"Children identified {report['children']['identified']:,}" in pages[0]
    assert "Children by nationality" in " ".join(pages)
