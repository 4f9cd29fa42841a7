"""Spreadsheet-safe CSV: no cell of any CSV the ledger writes begins as a formula (OWASP's CSV
injection guidance: a single quote before it), on the API, the dashboard's downloads and the CLI.

Text reaches a report's CSV from the log (a border sector the older validation let in is replayed
as stored), so the writer, not the door, is where this is made safe."""

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from hypothesis import given
from hypothesis import strategies as st

from domain.envelope import Posting
from projections.spreadsheet_csv import FORMULA_STARTS, csv_bytes, csv_cell
from tests.builders import batch, separation
from tests.harness import Tokens
from tests.test_dashboard import sign_in

REPORT = "/v1/reports/compliance"
FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_cell_beginning_as_a_formula_is_written_after_a_single_quote(formula: str) -> None:
    [[cell]] = list(csv.reader(io.StringIO(csv_bytes([[formula]]).decode(), newline="")))
    assert cell == "'" + formula


def test_numbers_stay_numbers_and_ordinary_text_is_unchanged() -> None:
    assert csv_bytes([[-3, 2.5, 0, None, True, "El Paso", "2024-01"]]) == b"-3,2.5,0,,True,El Paso,2024-01\n"


def test_a_separator_of_other_spreadsheets_is_quoted_so_no_cell_starts_inside_another() -> None:
    assert csv_cell("a;=1+1") == '"a;=1+1"'
    assert csv_cell('say "hi", then =1') == '"say ""hi"", then =1"'


@given(st.lists(st.lists(st.one_of(st.integers(), st.text(), st.none()), max_size=6), max_size=6))
def test_text_without_formula_starts_or_extra_separators_is_written_as_csv_writer_writes_it(rows: list[list[object]]) -> None:
    plain = [[v for v in row if not (isinstance(v, str) and (v.startswith(FORMULA_STARTS) or set(v) & set(";\t\r")))] for row in rows]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(plain)
    assert csv_bytes(plain) == out.getvalue().encode()


@given(st.lists(st.lists(st.one_of(st.integers(), st.text()), min_size=1, max_size=6), min_size=1, max_size=6))
def test_every_text_cell_reads_back_as_sent_or_quoted_and_none_begins_as_a_formula(rows: list[list[object]]) -> None:
    read = list(csv.reader(io.StringIO(csv_bytes(rows).decode(), newline="")))
    assert len(read) == len(rows)
    for sent_row, read_row in zip(rows, read, strict=True):
        for sent, cell in zip(sent_row, read_row, strict=True):
            assert cell == str(sent) or (isinstance(sent, str) and cell == "'" + sent)
            assert isinstance(sent, int) or not cell.startswith(FORMULA_STARTS)


def test_the_reports_csv_neutralizes_formulas_on_the_api_and_the_dashboard(client: TestClient, tokens: Tokens) -> None:
    """Sectors stored by the older validation (appended here without the door's checks, as then)."""
    ledger = client.app.state.ledger  # type: ignore[attr-defined]
    frtf = ledger.tokens.authenticate(tokens.secret("FRTF"))
    for n, formula in enumerate(FORMULAS[:4]):
        event = separation(f"FRTF-{n}")
        event["data"]["border_sector"] = formula
        ledger.appender.append([Posting(event["event_id"], event["case_id"], event["type"], "2021-05-03T14:00:00.000000Z", event["data"])], frtf)
    assert client.post("/v1/events", json=batch(separation("FRTF-9")), headers=tokens.get("FRTF")).status_code == 201

    monitor = tokens.get("MONITOR", "monitor")
    tidy = client.get(REPORT, params={"format": "csv"}, headers=monitor)
    tables = client.get(REPORT, params={"format": "csv-tables"}, headers=monitor)
    sign_in(client, tokens.secret("MONITOR", "monitor"))
    page = client.get("/")
    links = re.findall(r'<a href="(/download/compliance\.csv(?:-tables)?\?as_of=[^"]+)" download>', page.text)
    assert len(links) == 2
    downloaded = [client.get(link) for link in links]
    overdue = client.get(re.search(r'href="(/download/overdue\.csv\?as_of=[^"]+)"', page.text).group(1))

    def rows(response: Response) -> list[list[str]]:
        return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))

    for response in (tidy, tables, *downloaded, overdue):
        cells = [cell for row in rows(response) for cell in row]
        assert cells and not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    sectors = [row[0] for row in rows(tables) if row and row[0].startswith("'")]
    assert sorted(sectors) == sorted("'" + formula for formula in FORMULAS[:4])
    assert ["El Paso", "1", "0"] in rows(tables)
    sectors = {row[2] for row in rows(tidy) if row[:2] == ["breakdowns", "border sector"] and row[2].startswith("'")}
    assert sorted(sectors) == sorted("'" + formula for formula in FORMULAS[:4])
    assert ["breakdowns", "border sector", "El Paso", "identified", "1"] in rows(tidy)
    assert rows(overdue)[0] == ["case", "obligation", "kind", "status", "since", "days", "due"]
